// C interface over DCMTK's dcmsr (and its cmr templates) for Lightbox: writing a verdict as a
// TID 1500 Measurement Report and reading any SR's content tree back.
#ifndef LBX_SR_H
#define LBX_SR_H

#include "lbx_dicom.h"

#ifdef __cplusplus
extern "C" {
#endif

/// A coded entry: value, coding scheme designator, meaning (a NULL value means none).
typedef struct lbx_sr_code {
    const char *value;
    const char *scheme;
    const char *meaning;
} lbx_sr_code;

/// A qualitative evaluation: a coded answer, or a text one when `code.value` is NULL.
typedef struct lbx_sr_evaluation {
    lbx_sr_code concept;
    lbx_sr_code code;
    const char *text;
} lbx_sr_evaluation;

/// A numeric measurement with its UCUM unit.
typedef struct lbx_sr_measurement {
    lbx_sr_code concept;
    double value;
    lbx_sr_code unit;
} lbx_sr_measurement;

/// An image region: a polyline in the image's pixel coordinates (column, row pairs), selected
/// from one image.
typedef struct lbx_sr_region {
    lbx_sr_code concept;
    const char *sop_class_uid;
    const char *sop_instance_uid;
    const float *points;
    size_t point_count;
} lbx_sr_region;

/// One measurement group (TID 1501): one AI finding.
typedef struct lbx_sr_group {
    const char *tracking_id;
    const char *tracking_uid;
    lbx_sr_code finding;
    const lbx_sr_measurement *measurements;
    size_t measurement_count;
    const lbx_sr_evaluation *evaluations;
    size_t evaluation_count;
    const lbx_sr_region *region;   ///< NULL: none
} lbx_sr_group;

/// A private coding scheme, listed in the CodingSchemeIdentificationSequence.
typedef struct lbx_sr_scheme {
    const char *designator;
    const char *name;
    const char *organization;
} lbx_sr_scheme;

/// An instance the report names in its evidence (Current Requested Procedure Evidence).
typedef struct lbx_sr_reference {
    const char *study_instance_uid;
    const char *series_instance_uid;
    const char *sop_class_uid;
    const char *sop_instance_uid;
} lbx_sr_reference;

typedef struct lbx_sr_report {
    const char *template_image;     ///< the patient and study attributes are copied from this file
    const char *study_instance_uid;
    const char *series_instance_uid;
    const char *sop_instance_uid;
    const char *content_date;       ///< YYYYMMDD (also the instance creation date)
    const char *content_time;       ///< HHMMSS
    int32_t series_number;
    int32_t instance_number;
    const char *series_description;
    const char *manufacturer;
    const char *person_observer;
    const char *device_uid;
    const char *device_name;
    const char *device_manufacturer;
    const char *device_model;
    lbx_sr_code procedure;
    const char *const *library_images;  ///< files whose images go into the image library
    size_t library_count;
    const lbx_sr_group *groups;
    size_t group_count;
    const lbx_sr_evaluation *evaluations;  ///< report-level qualitative evaluations
    size_t evaluation_count;
    const lbx_sr_scheme *schemes;
    size_t scheme_count;
    const lbx_sr_reference *evidence;   ///< besides the images the tree references (an assessed AI object)
    size_t evidence_count;
} lbx_sr_report;

/// Writes `report` as an SR file (the simplest IOD its tree fits: Enhanced SR) at `path` (a temporary name first, renamed once whole).
lbx_status lbx_sr_write(const lbx_sr_report *report, const char *path, lbx_error *error);

/// Called once with the SR as JSON: {"document": {...}, "items": [{level, relationship, type,
/// concept, value...}, ...]}, items in depth-first order.
typedef void (*lbx_sr_json_fn)(void *context, const char *json, size_t length);

/// Reads the SR at `path` (any SR IOD) and hands its content tree to `on_json`.
lbx_status lbx_sr_read(const char *path, lbx_sr_json_fn on_json, void *context, lbx_error *error);

#ifdef __cplusplus
}
#endif

#endif
