// The OpenCV engine (CVisionShim, built as libLightboxVision.so) loaded on first use, so that a
// process that never runs a model never loads OpenCV (about 8 ms of every start). One function
// table, filled by dlsym from the functions lbx_vision.h declares.
#ifndef LBX_VISION_LOADER_H
#define LBX_VISION_LOADER_H

#include "../../CVisionShim/include/lbx_vision.h"

#ifdef __cplusplus
extern "C" {
#endif

// The table's entries are never null once loaded (_Nonnull); the pointers they take keep
// lbx_vision.h's unannotated form.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wnullability-completeness"
/// The engine's functions, as lbx_vision.h declares them.
typedef struct lbx_vision_api {
    lbx_vision_status (* _Nonnull net_load)(const char *path, lbx_net **out, lbx_vision_error *error);
    void (* _Nonnull net_free)(lbx_net *net);
    int32_t (*net_input_count)(const lbx_net *net);
    int32_t (*net_output_count)(const lbx_net *net);
    lbx_vision_status (* _Nonnull net_input)(const lbx_net *net, int32_t index, lbx_tensor_info *info);
    lbx_vision_status (* _Nonnull net_output)(const lbx_net *net, int32_t index, lbx_tensor_info *info);
    lbx_vision_status (* _Nonnull net_run)(lbx_net *net, const float *input, const int64_t *dims, int32_t rank, lbx_vision_error *error);
    lbx_vision_status (* _Nonnull net_result)(const lbx_net *net, int32_t index, const float **data, lbx_tensor_info *info);
    const char *(*version)(void);
} lbx_vision_api;
#pragma clang diagnostic pop

/// Loads the engine once (beside the executable, in ../lib, or through the library path) and
/// returns its functions; NULL when it cannot be loaded, with the reason in `error`.
const lbx_vision_api *_Nullable lbx_vision_api_load(char *_Nullable error, size_t capacity);

#ifdef __cplusplus
}
#endif

#endif
