// C interface over OpenCV DNN for Lightbox: load an ONNX model, list its inputs and outputs,
// run a batch. Opaque handles, `lbx_net_`-prefixed functions, every C++ exception caught.
#ifndef LBX_VISION_H
#define LBX_VISION_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Outcome of a call; anything but LBX_VISION_OK comes with a message.
typedef enum lbx_vision_status {
    LBX_VISION_OK = 0,
    LBX_VISION_ERR_IO = 1,        ///< the model file cannot be read
    LBX_VISION_ERR_MODEL = 2,     ///< not a valid ONNX model, or OpenCV cannot import it
    LBX_VISION_ERR_SHAPE = 3,     ///< the input does not fit the model
    LBX_VISION_ERR_RUN = 4,       ///< inference failed
    LBX_VISION_ERR_ARGUMENT = 5,  ///< a caller error
    LBX_VISION_ERR_INTERNAL = 6   ///< an unexpected C++ exception
} lbx_vision_status;

/// A message for the last failure; always NUL-terminated.
typedef struct lbx_vision_error {
    char message[512];
} lbx_vision_error;

/// A tensor's name and shape (-1 for a dynamic dimension).
typedef struct lbx_tensor_info {
    char name[128];
    int32_t rank;
    int64_t dims[8];
} lbx_tensor_info;

/// A loaded network.
typedef struct lbx_net lbx_net;

/// Loads an ONNX file.
lbx_vision_status lbx_net_load(const char *path, lbx_net **out, lbx_vision_error *error);

/// Releases a network; NULL is accepted.
void lbx_net_free(lbx_net *net);

/// Graph inputs (initializers excluded) and outputs, in the model's order.
int32_t lbx_net_input_count(const lbx_net *net);
int32_t lbx_net_output_count(const lbx_net *net);
lbx_vision_status lbx_net_input(const lbx_net *net, int32_t index, lbx_tensor_info *info);
lbx_vision_status lbx_net_output(const lbx_net *net, int32_t index, lbx_tensor_info *info);

/// Runs the network on one float32 input tensor (the first graph input) of the given shape.
/// Results stay in the handle until the next run.
lbx_vision_status lbx_net_run(lbx_net *net, const float *input, const int64_t *dims, int32_t rank, lbx_vision_error *error);

/// Output `index` of the last run: a pointer valid until the next run or free, and its shape.
lbx_vision_status lbx_net_result(const lbx_net *net, int32_t index, const float **data, lbx_tensor_info *info);

/// OpenCV's version ("4.6.0"), for `lightbox doctor`.
const char *lbx_vision_version(void);

#ifdef __cplusplus
}
#endif

#endif
