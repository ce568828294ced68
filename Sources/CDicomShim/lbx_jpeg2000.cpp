// JPEG 2000 through OpenJPEG: a memory stream over one frame's codestream, errors collected
// into a message instead of OpenJPEG's default printing, and the decoded components checked
// against the DICOM geometry before a sample is copied.
#include "lbx_jpeg2000.h"

#include <openjpeg.h>

#include <cstring>
#include <memory>

namespace lbx {
namespace {

struct MemoryStream {
    const uint8_t *data;
    size_t size;
    size_t offset;
};

OPJ_SIZE_T readStream(void *buffer, OPJ_SIZE_T count, void *user) {
    auto *stream = static_cast<MemoryStream *>(user);
    if (stream->offset >= stream->size) {
        return static_cast<OPJ_SIZE_T>(-1);
    }
    const size_t available = stream->size - stream->offset;
    const size_t copied = count < available ? count : available;
    std::memcpy(buffer, stream->data + stream->offset, copied);
    stream->offset += copied;
    return copied;
}

OPJ_OFF_T skipStream(OPJ_OFF_T count, void *user) {
    auto *stream = static_cast<MemoryStream *>(user);
    if (count < 0) {
        const size_t back = static_cast<size_t>(-count) < stream->offset ? static_cast<size_t>(-count) : stream->offset;
        stream->offset -= back;
        return -static_cast<OPJ_OFF_T>(back);
    }
    const size_t available = stream->size - stream->offset;
    const size_t skipped = static_cast<size_t>(count) < available ? static_cast<size_t>(count) : available;
    stream->offset += skipped;
    return static_cast<OPJ_OFF_T>(skipped);
}

OPJ_BOOL seekStream(OPJ_OFF_T position, void *user) {
    auto *stream = static_cast<MemoryStream *>(user);
    if (position < 0 || static_cast<size_t>(position) > stream->size) {
        return OPJ_FALSE;
    }
    stream->offset = static_cast<size_t>(position);
    return OPJ_TRUE;
}

void collectError(const char *text, void *user) {
    auto *message = static_cast<std::string *>(user);
    if (message->empty() && text != nullptr) {
        *message = text;
        while (!message->empty() && (message->back() == '\n' || message->back() == ' ')) {
            message->pop_back();
        }
    }
}

void ignoreMessage(const char *, void *) {}

struct CodecDeleter {
    void operator()(opj_codec_t *codec) const { opj_destroy_codec(codec); }
};
struct StreamDeleter {
    void operator()(opj_stream_t *stream) const { opj_stream_destroy(stream); }
};
struct ImageDeleter {
    void operator()(opj_image_t *image) const { opj_image_destroy(image); }
};

/// A JP2 file starts with its signature box; a bare codestream with SOC and SIZ markers.
bool isJp2File(const uint8_t *data, size_t size) {
    static const uint8_t signature[] = {0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20};
    return size >= sizeof(signature) && std::memcmp(data, signature, sizeof(signature)) == 0;
}

} // namespace

bool decodeJpeg2000(const uint8_t *data, size_t size, uint32_t rows, uint32_t columns, uint32_t samples,
                    bool signedPixels, float *output, std::string &message) {
    if (data == nullptr || size < 2) {
        message = "empty JPEG 2000 fragment";
        return false;
    }
    const bool jp2 = isJp2File(data, size);
    if (!jp2 && !(data[0] == 0xFF && data[1] == 0x4F)) {
        message = "fragment does not start with a JPEG 2000 codestream (no SOC marker)";
        return false;
    }
    MemoryStream memory{data, size, 0};
    std::unique_ptr<opj_stream_t, StreamDeleter> stream(opj_stream_create(OPJ_J2K_STREAM_CHUNK_SIZE, OPJ_TRUE));
    std::unique_ptr<opj_codec_t, CodecDeleter> codec(opj_create_decompress(jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K));
    if (!stream || !codec) {
        message = "OpenJPEG could not create a decoder";
        return false;
    }
    opj_stream_set_user_data(stream.get(), &memory, nullptr);
    opj_stream_set_user_data_length(stream.get(), size);
    opj_stream_set_read_function(stream.get(), readStream);
    opj_stream_set_skip_function(stream.get(), skipStream);
    opj_stream_set_seek_function(stream.get(), seekStream);
    opj_set_error_handler(codec.get(), collectError, &message);
    opj_set_warning_handler(codec.get(), ignoreMessage, nullptr);
    opj_set_info_handler(codec.get(), ignoreMessage, nullptr);
    opj_dparameters_t parameters;
    opj_set_default_decoder_parameters(&parameters);
    if (!opj_setup_decoder(codec.get(), &parameters)) {
        if (message.empty()) message = "OpenJPEG refused the decoder set-up";
        return false;
    }
    opj_image_t *rawImage = nullptr;
    if (!opj_read_header(stream.get(), codec.get(), &rawImage) || rawImage == nullptr) {
        if (rawImage != nullptr) opj_image_destroy(rawImage);
        if (message.empty()) message = "JPEG 2000 header could not be read";
        return false;
    }
    std::unique_ptr<opj_image_t, ImageDeleter> image(rawImage);
    // Refuse before decoding: a codestream larger than the header says would otherwise allocate
    // whatever it declares.
    const uint64_t width = static_cast<uint64_t>(image->x1) - image->x0;
    const uint64_t height = static_cast<uint64_t>(image->y1) - image->y0;
    if (width != columns || height != rows) {
        message = "JPEG 2000 image is " + std::to_string(width) + " × " + std::to_string(height) +
                  ", the header says " + std::to_string(columns) + " × " + std::to_string(rows);
        return false;
    }
    if (image->numcomps != samples) {
        message = "JPEG 2000 image has " + std::to_string(image->numcomps) + " components, the header says " +
                  std::to_string(samples) + " samples per pixel";
        return false;
    }
    if (!opj_decode(codec.get(), stream.get(), image.get()) || !opj_end_decompress(codec.get(), stream.get())) {
        if (message.empty()) message = "JPEG 2000 codestream could not be decoded";
        return false;
    }
    const size_t pixels = static_cast<size_t>(rows) * columns;
    for (uint32_t component = 0; component < samples; ++component) {
        const opj_image_comp_t &plane = image->comps[component];
        if (plane.w != columns || plane.h != rows || plane.data == nullptr) {
            message = "JPEG 2000 component " + std::to_string(component) + " is subsampled or empty";
            return false;
        }
        const OPJ_INT32 *values = plane.data;
        const bool codestreamSigned = plane.sgnd != 0;
        const int64_t range = plane.prec >= 1 && plane.prec <= 31 ? (int64_t(1) << plane.prec) : 0;
        for (size_t pixel = 0; pixel < pixels; ++pixel) {
            int64_t value = values[pixel];
            if (range != 0 && signedPixels && !codestreamSigned && value >= range / 2) {
                value -= range;
            } else if (range != 0 && !signedPixels && codestreamSigned && value < 0) {
                value += range;
            }
            output[pixel * samples + component] = static_cast<float>(value);
        }
    }
    message.clear();
    return true;
}

const char *openJpegVersion() { return opj_version(); }

} // namespace lbx
