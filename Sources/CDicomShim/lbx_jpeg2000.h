// JPEG 2000 frames through OpenJPEG, for lbx_dicom.cpp only (DCMTK's free edition has no decoder).
#ifndef LBX_JPEG2000_H
#define LBX_JPEG2000_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace lbx {

/// Decodes one JPEG 2000 codestream (J2K, or a JP2 file) into `output` as rows × columns ×
/// samples interleaved floats. Returns false with `message` set when the stream is broken or its
/// size or component count disagrees with the header's geometry. When the codestream's
/// signedness disagrees with the header's PixelRepresentation (`signedPixels`), the header wins:
/// the values are reinterpreted in the codestream's precision, as pydicom and GDCM do.
bool decodeJpeg2000(const uint8_t *data, size_t size, uint32_t rows, uint32_t columns, uint32_t samples,
                    bool signedPixels, float *output, std::string &message);

/// OpenJPEG's version string, for `lightbox doctor`.
const char *openJpegVersion();

} // namespace lbx

#endif
