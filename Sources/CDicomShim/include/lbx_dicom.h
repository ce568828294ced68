// C interface over DCMTK for Lightbox.
// Opaque handles, `lbx_`-prefixed functions and status codes; every C++ exception is caught
// inside the shim so that none can cross into Swift (which would abort the process).
#ifndef LBX_DICOM_H
#define LBX_DICOM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Outcome of a shim call. Anything but LBX_OK comes with a message in lbx_error.
typedef enum lbx_status {
    LBX_OK = 0,
    LBX_ERR_IO = 1,                 ///< the file cannot be opened or read
    LBX_ERR_NOT_DICOM = 2,          ///< no DICOM structure was recognised
    LBX_ERR_PARSE = 3,              ///< malformed or truncated data set
    LBX_ERR_NOT_FOUND = 4,          ///< the attribute is absent or empty
    LBX_ERR_NO_PIXELS = 5,          ///< the object holds no pixel data
    LBX_ERR_UNSUPPORTED_SYNTAX = 6, ///< no decoder for the transfer syntax (e.g. HTJ2K)
    LBX_ERR_DECODE = 7,             ///< the pixel data could not be decoded
    LBX_ERR_GEOMETRY = 8,           ///< the pixel data disagrees with the declared geometry
    LBX_ERR_ARGUMENT = 9,           ///< a caller error (null pointer, buffer too small)
    LBX_ERR_MEMORY = 10,            ///< allocation failed
    LBX_ERR_WRITE = 11,             ///< the file could not be written
    LBX_ERR_INTERNAL = 12           ///< an unexpected C++ exception
} lbx_status;

/// A human-readable message for the last failure; always NUL-terminated.
typedef struct lbx_error {
    char message[512];
} lbx_error;

/// An open (or newly created) DICOM object.
typedef struct lbx_dicom lbx_dicom;

/// What is known about the pixel data without decoding it.
typedef struct lbx_pixel_info {
    int has_pixel_data;              ///< 1 when (7FE0,0010) is present
    int encapsulated;                ///< 1 for compressed (fragment) encoding
    uint64_t value_length;           ///< byte length of native pixel data (0 when encapsulated)
    uint32_t fragment_count;         ///< number of fragments (encapsulated only, offset table excluded)
    int decoder_available;           ///< 1 when DCMTK can decode this transfer syntax here
    char transfer_syntax_uid[68];    ///< the data set's transfer syntax UID
    char transfer_syntax_name[96];   ///< DCMTK's name for it
} lbx_pixel_info;

/// The validated geometry the caller asks the decoder to produce (checked again by the decoder).
typedef struct lbx_geometry {
    uint32_t rows;
    uint32_t columns;
    uint32_t samples_per_pixel;
    uint32_t bits_allocated;
    uint32_t bits_stored;
    uint32_t high_bit;
    uint32_t pixel_representation;   ///< 0 unsigned, 1 two's complement
    uint32_t planar_configuration;   ///< 0 interleaved, 1 planar (colour only)
    uint32_t frames;
} lbx_geometry;

/// Registers DCMTK's decoders and encoders and sets process-wide options (idempotent).
void lbx_dicom_initialize(void);

/// Opens a file (Part 10 or bare data set). Large values are read lazily.
lbx_status lbx_dicom_open(const char *path, lbx_dicom **out, lbx_error *error);

/// Creates an empty object to be filled and saved.
lbx_status lbx_dicom_create(lbx_dicom **out, lbx_error *error);

/// Releases the object; NULL is accepted.
void lbx_dicom_close(lbx_dicom *object);

/// Copies the attribute (group, element) as text, all values joined by backslashes.
/// `*length` receives the full length; the copy is truncated to capacity-1 bytes.
lbx_status lbx_dicom_get_string(lbx_dicom *object, uint16_t group, uint16_t element,
                                char *buffer, size_t capacity, size_t *length);

/// Reads value `index` of a numeric attribute (US, SS, UL, SL, IS, DS, FL, FD) as a double.
lbx_status lbx_dicom_get_number(lbx_dicom *object, uint16_t group, uint16_t element,
                                uint32_t index, double *value);

/// Every attribute (meta header first, sequences walked) as one line each:
/// `depth TAB gggg TAB eeee TAB VR TAB name TAB value`, values made single-line and shortened,
/// binary values as a byte count. `*length` receives the full length; the copy is truncated.
lbx_status lbx_dicom_header_lines(lbx_dicom *object, char *buffer, size_t capacity, size_t *length);

/// Sets a value at a path such as "(0010,1002)[0].(0010,0020)" (as dcmodify -i does), creating
/// sequences and items on the way.
lbx_status lbx_dicom_put_path(lbx_dicom *object, const char *path, const char *value, lbx_error *error);

/// Describes the pixel data without decoding it.
lbx_status lbx_dicom_pixel_info(lbx_dicom *object, lbx_pixel_info *info, lbx_error *error);

/// Decodes frames [first_frame, first_frame + frame_count) to stored values (no rescale, no
/// palette), frame after frame, samples interleaved, straight to float. Compressed data is
/// decompressed a frame at a time (JPEG 2000 through OpenJPEG, the rest through DCMTK's codecs),
/// never the whole object. `capacity` counts floats and must be rows*columns*samples*frame_count.
/// `color_model` receives the photometric interpretation of the decoded values (a decoder may
/// have converted YBR to RGB).
lbx_status lbx_dicom_decode(lbx_dicom *object, const lbx_geometry *geometry, uint32_t first_frame,
                            uint32_t frame_count, float *output, size_t capacity, char *color_model,
                            size_t color_model_capacity, lbx_error *error);

/// Copies an OW (or OB, one byte an entry) attribute's values, such as a palette lookup table.
/// `*count` receives the number of values; at most `capacity` are copied.
lbx_status lbx_dicom_get_words(lbx_dicom *object, uint16_t group, uint16_t element, uint16_t *buffer,
                               size_t capacity, size_t *count);

/// "DCMTK 3.6.7, OpenJPEG 2.5.0": the decoding libraries linked in, for `lightbox doctor`.
const char *lbx_dicom_library_versions(void);

/// Sets an attribute from text (numeric VRs parse the text); creates it when absent.
lbx_status lbx_dicom_put_string(lbx_dicom *object, uint16_t group, uint16_t element,
                                const char *value, lbx_error *error);

/// Sets native pixel data: 8-bit samples as OB, 16-bit words as OW (host order).
lbx_status lbx_dicom_put_pixels(lbx_dicom *object, const void *data, size_t byte_count,
                                uint32_t bits_allocated, lbx_error *error);

/// Adds an empty sequence item chain of `depth` levels under (group, element); for tests of nesting.
lbx_status lbx_dicom_put_nested_sequence(lbx_dicom *object, uint16_t group, uint16_t element,
                                         uint32_t depth, lbx_error *error);

/// Saves as a Part 10 file in the given transfer syntax, compressing when needed.
/// `quality` is used by lossy JPEG only (1-100).
lbx_status lbx_dicom_save(lbx_dicom *object, const char *path, const char *transfer_syntax_uid,
                          int quality, lbx_error *error);

#ifdef __cplusplus
}
#endif

#endif
