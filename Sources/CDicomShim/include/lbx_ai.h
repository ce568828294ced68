// C interface over DCMTK's dcmseg, dcmpmap and dcmfg for Lightbox: other systems' AI results
// (segmentations and parametric maps) described as JSON and their frames handed over one by one.
#ifndef LBX_AI_H
#define LBX_AI_H

#include "lbx_dicom.h"

#ifdef __cplusplus
extern "C" {
#endif

/// An opened SEG or Parametric Map.
typedef struct lbx_ai_object lbx_ai_object;

/// Receives a JSON text (valid only during the call).
typedef void (*lbx_ai_json_fn)(void *context, const char *json, size_t length);

/// Opens the Segmentation at `path` (dcmseg): its segments and functional groups are read, its
/// frames kept as DCMTK holds them.
lbx_status lbx_seg_open(const char *path, lbx_ai_object **out, lbx_error *error);

/// Opens the Parametric Map at `path` (dcmpmap): 16-bit integer or 32/64-bit float frames.
lbx_status lbx_pmap_open(const char *path, lbx_ai_object **out, lbx_error *error);

/// Describes the object: identity, equipment, segments (SEG) or value mappings (map), and per
/// frame its segment, source image references and plane position. Numbers are given as text.
lbx_status lbx_ai_describe(lbx_ai_object *object, lbx_ai_json_fn on_json, void *context, lbx_error *error);

/// The number of frames held.
size_t lbx_ai_frame_count(const lbx_ai_object *object);

/// SEG frame `frame` (from 0), one byte a pixel into `out` (rows × columns bytes): 0 or 1 for a
/// BINARY segmentation (unpacked from its 1-bit frames), the stored value for a FRACTIONAL one.
lbx_status lbx_seg_frame(lbx_ai_object *object, size_t frame, uint8_t *out, size_t capacity, lbx_error *error);

/// Parametric Map frame `frame` (from 0) as stored values converted to float (rows × columns).
lbx_status lbx_pmap_frame(lbx_ai_object *object, size_t frame, float *out, size_t capacity, lbx_error *error);

void lbx_ai_close(lbx_ai_object *object);

#ifdef __cplusplus
}
#endif

#endif
