// libFuzzer target for the DCMTK shim: every input is opened, its header read, and its pixels
// decoded with the same geometry checks DicomReading makes in Swift (PixelGeometry). A crash,
// a sanitizer report or a leak here is a bug to fix. Run with tools/fuzz/run.sh.
#include "lbx_dicom.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

double number(lbx_dicom *object, uint16_t group, uint16_t element, double fallback) {
    double value = 0;
    return lbx_dicom_get_number(object, group, element, 0, &value) == LBX_OK ? value : fallback;
}

const std::string &scratchPath() {
    static const std::string path = "/tmp/lightbox-fuzz-" + std::to_string(getpid()) + ".dcm";
    return path;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FILE *file = std::fopen(scratchPath().c_str(), "wb");
    if (file == nullptr) return 0;
    std::fwrite(data, 1, size, file);
    std::fclose(file);

    lbx_error error;
    lbx_dicom *object = nullptr;
    if (lbx_dicom_open(scratchPath().c_str(), &object, &error) != LBX_OK) return 0;

    char text[256];
    size_t length = 0;
    for (uint16_t element : {0x0010, 0x0020, 0x0030}) lbx_dicom_get_string(object, 0x0010, element, text, sizeof text, &length);
    lbx_dicom_get_string(object, 0x0008, 0x1030, text, sizeof text, &length);
    size_t linesLength = 0;
    lbx_dicom_header_lines(object, nullptr, 0, &linesLength);

    lbx_pixel_info info;
    if (lbx_dicom_pixel_info(object, &info, &error) == LBX_OK && info.has_pixel_data) {
        // The checks of PixelGeometry.validated, with a smaller memory limit for fuzzing.
        lbx_geometry g;
        g.rows = static_cast<uint32_t>(number(object, 0x0028, 0x0010, 0));
        g.columns = static_cast<uint32_t>(number(object, 0x0028, 0x0011, 0));
        g.samples_per_pixel = static_cast<uint32_t>(number(object, 0x0028, 0x0002, 1));
        g.bits_allocated = static_cast<uint32_t>(number(object, 0x0028, 0x0100, 0));
        g.bits_stored = static_cast<uint32_t>(number(object, 0x0028, 0x0101, g.bits_allocated));
        g.high_bit = static_cast<uint32_t>(number(object, 0x0028, 0x0102, g.bits_stored ? g.bits_stored - 1 : 0));
        g.pixel_representation = static_cast<uint32_t>(number(object, 0x0028, 0x0103, 0));
        g.planar_configuration = static_cast<uint32_t>(number(object, 0x0028, 0x0006, 0));
        g.frames = static_cast<uint32_t>(number(object, 0x0028, 0x0008, 1));
        const unsigned long long bytes = 1ULL * g.rows * g.columns * g.samples_per_pixel * (g.bits_allocated / 8) * g.frames;
        const bool depthsOk = (g.bits_allocated == 8 || g.bits_allocated == 16 || g.bits_allocated == 32) &&
                              g.bits_stored >= 1 && g.bits_stored <= g.bits_allocated && g.high_bit < g.bits_allocated &&
                              g.high_bit + 1 >= g.bits_stored && (g.samples_per_pixel == 1 || g.samples_per_pixel == 3);
        const bool sizeOk = g.rows > 0 && g.columns > 0 && g.frames >= 1 && g.frames <= 64 && bytes <= (64ULL << 20);
        const bool dataOk = info.encapsulated ? (info.decoder_available && info.fragment_count >= g.frames)
                                              : bytes <= info.value_length;
        if (depthsOk && sizeOk && dataOk) {
            std::vector<float> output(1ULL * g.rows * g.columns * g.samples_per_pixel);
            char colorModel[32];
            lbx_dicom_decode(object, &g, 0, 1, output.data(), output.size(), colorModel, sizeof colorModel, &error);
        }
    }
    lbx_dicom_close(object);
    return 0;
}
