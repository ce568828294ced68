// C++ over DCMTK behind the C header lbx_dicom.h. Every entry point catches every exception.
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmdata/dcrledrg.h"
#include "dcmtk/dcmdata/dcrleerg.h"
#include "dcmtk/dcmdata/dcpxitem.h"
#include "dcmtk/dcmjpeg/djdecode.h"
#include "dcmtk/dcmjpeg/djencode.h"
#include "dcmtk/dcmjpeg/djrplol.h"
#include "dcmtk/dcmjpeg/djrploss.h"
#include "dcmtk/dcmjpls/djdecode.h"
#include "dcmtk/dcmjpls/djencode.h"
#include "dcmtk/dcmjpls/djrparam.h"
#include "dcmtk/oflog/oflog.h"
#include "dcmtk/dcmdata/dcfcache.h"
#include "dcmtk/dcmdata/dcpath.h"

#include "lbx_jpeg2000.h"
#include "lbx_support.h"

#include "lbx_dicom.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <new>
#include <sstream>
#include <string>
#include <vector>
#include <sys/stat.h>

struct lbx_dicom {
    DcmFileFormat file;
    /// The file it was read from (empty for a new object): header lines of an implicit-VR file read
    /// it again once the private dictionaries are loaded, so private values show as text.
    std::string path;
    /// Keeps the file open between frames decompressed one at a time.
    DcmFileCache cache;
    /// The frame after the last one decompressed and its first fragment, so that frames read in
    /// order never search the fragments again.
    Uint32 nextFrame = UINT32_MAX;
    Uint32 nextFragment = 0;
};

namespace {

std::once_flag initializeOnce;
std::once_flag laterDictionariesOnce;
/// Dictionaries of DCM_DICT_DEFAULT_PATH after the first (Debian's: private.dic), loaded only
/// when header lines need their tag names: parsing private.dic costs about 14 ms of every start.
std::vector<std::string> laterDictionaries;

/// Loads the deferred dictionaries (once), before header lines name private tags.
void loadLaterDictionaries() {
    std::call_once(laterDictionariesOnce, [] {
        if (laterDictionaries.empty()) return;
        DcmDataDictionary &dictionary = dcmDataDict.wrlock();
        for (const std::string &path : laterDictionaries) dictionary.loadDictionary(path.c_str(), OFFalse);
        dcmDataDict.wrunlock();
    });
}

using lbx::fail;
using lbx::failCondition;
using lbx::guarded;

/// Finds an element in the data set, else in the meta header (transfer syntax and friends).
DcmElement *findElement(lbx_dicom *object, const DcmTagKey &key) {
    DcmElement *element = nullptr;
    if (object->file.getDataset()->findAndGetElement(key, element).good() && element != nullptr) {
        return element;
    }
    element = nullptr;
    if (object->file.getMetaInfo()->findAndGetElement(key, element).good() && element != nullptr) {
        return element;
    }
    return nullptr;
}

/// True when the first bytes look like DICOM: a Part 10 preamble, or a bare data set that starts
/// with a group-0002/0008 tag. Keeps text and random files from being parsed as implicit VR.
lbx_status sniff(const char *path, lbx_error *error) {
    struct stat info;
    if (stat(path, &info) != 0) {
        return fail(error, LBX_ERR_IO, std::string("cannot open: ") + std::strerror(errno));
    }
    if (!S_ISREG(info.st_mode)) {
        return fail(error, LBX_ERR_IO, "not a regular file");
    }
    if (info.st_size == 0) {
        return fail(error, LBX_ERR_NOT_DICOM, "empty file");
    }
    FILE *file = std::fopen(path, "rb");
    if (file == nullptr) {
        return fail(error, LBX_ERR_IO, std::string("cannot open: ") + std::strerror(errno));
    }
    unsigned char head[132];
    size_t count = std::fread(head, 1, sizeof(head), file);
    std::fclose(file);
    if (count == sizeof(head) && std::memcmp(head + 128, "DICM", 4) == 0) {
        return LBX_OK;
    }
    if (count >= 8) {
        unsigned group = head[0] | (head[1] << 8);
        unsigned bigGroup = (head[0] << 8) | head[1];
        if (group == 0x0002 || group == 0x0008 || bigGroup == 0x0008) {
            return LBX_OK;
        }
    }
    if (count < sizeof(head)) {
        return fail(error, LBX_ERR_NOT_DICOM, "too short for a DICOM file (" + std::to_string(info.st_size) + " bytes)");
    }
    return fail(error, LBX_ERR_NOT_DICOM, "no DICM preamble and no data set at the start");
}

/// The parameters DCMTK's encoders need for a target transfer syntax (nullptr when none).
DcmRepresentationParameter *encodingParameters(E_TransferSyntax syntax, int quality) {
    switch (syntax) {
    case EXS_JPEGProcess14SV1:
    case EXS_JPEGProcess14:
        return new DJ_RPLossless(1, 0);
    case EXS_JPEGProcess1:
    case EXS_JPEGProcess2_4:
        return new DJ_RPLossy(quality > 0 && quality <= 100 ? quality : 90);
    case EXS_JPEGLSLossless:
        return new DJLSRepresentationParameter(0, OFTrue);
    case EXS_JPEGLSLossy:
        return new DJLSRepresentationParameter(2, OFFalse);
    default:
        return nullptr;
    }
}

/// DCMTK's JPEG-LS encoder pads an odd-length stream to even length without setting the pad
/// byte after the EOI marker, so the byte is whatever memory held. Zero it, so that the same
/// pixels always give the same file.
void zeroPaddingAfterEndOfImage(DcmDataset *dataset, E_TransferSyntax syntax, const DcmRepresentationParameter *parameters) {
    if (syntax != EXS_JPEGLSLossless && syntax != EXS_JPEGLSLossy) {
        return;
    }
    DcmElement *element = nullptr;
    if (dataset->findAndGetElement(DCM_PixelData, element).bad() || element == nullptr) {
        return;
    }
    DcmPixelSequence *sequence = nullptr;
    if (OFstatic_cast(DcmPixelData *, element)->getEncapsulatedRepresentation(syntax, parameters, sequence).bad() ||
        sequence == nullptr) {
        return;
    }
    for (unsigned long index = 1; index < sequence->card(); ++index) {
        DcmPixelItem *item = nullptr;
        Uint8 *bytes = nullptr;
        if (sequence->getItem(item, index).bad() || item == nullptr || item->getUint8Array(bytes).bad() || bytes == nullptr) {
            continue;
        }
        const Uint32 length = item->getLength();
        if (length >= 3 && bytes[length - 3] == 0xFF && bytes[length - 2] == 0xD9) {
            bytes[length - 1] = 0;
        }
    }
}


bool isJpeg2000(E_TransferSyntax syntax) {
    return syntax == EXS_JPEG2000LosslessOnly || syntax == EXS_JPEG2000 ||
           syntax == EXS_JPEG2000MulticomponentLosslessOnly || syntax == EXS_JPEG2000Multicomponent;
}

/// Turns one frame of native little-endian stored samples into floats: bits moved down past the
/// high bit, masked, sign extended, and planar data interleaved.
void unpackFrame(const Uint8 *bytes, const lbx_geometry &g, Uint16 planar, bool wordSwappedBigEndian,
                 bool byteStreamBigEndian, float *output) {
    const uint32_t bytesPerSample = g.bits_allocated / 8;
    const unsigned long long pixelsPerFrame = 1ULL * g.rows * g.columns;
    const uint32_t shift = g.high_bit + 1 - g.bits_stored;
    const uint64_t mask = g.bits_stored >= 32 ? 0xFFFFFFFFULL : ((1ULL << g.bits_stored) - 1);
    const uint64_t signBit = 1ULL << (g.bits_stored - 1);
    const uint32_t spp = g.samples_per_pixel;
    const bool planarColour = planar == 1 && spp > 1;
    // The common case (CT, MR, DX): one 16-bit little-endian sample a pixel, in a tight loop.
    if (bytesPerSample == 2 && spp == 1 && !byteStreamBigEndian) {
        if (shift == 0 && g.bits_stored == 16) {
            // All 16 bits used: a plain conversion the compiler vectorises.
            if (g.pixel_representation == 1) {
                for (unsigned long long pixel = 0; pixel < pixelsPerFrame; ++pixel) {
                    output[pixel] = OFstatic_cast(float, OFstatic_cast(int16_t, OFstatic_cast(uint16_t, bytes[2 * pixel] | (bytes[2 * pixel + 1] << 8))));
                }
            } else {
                for (unsigned long long pixel = 0; pixel < pixelsPerFrame; ++pixel) {
                    output[pixel] = OFstatic_cast(float, OFstatic_cast(uint16_t, bytes[2 * pixel] | (bytes[2 * pixel + 1] << 8)));
                }
            }
            return;
        }
        if (g.pixel_representation == 0) {
            for (unsigned long long pixel = 0; pixel < pixelsPerFrame; ++pixel) {
                const uint32_t raw = ((OFstatic_cast(uint32_t, bytes[2 * pixel]) | (OFstatic_cast(uint32_t, bytes[2 * pixel + 1]) << 8)) >> shift) & mask;
                output[pixel] = OFstatic_cast(float, raw);
            }
            return;
        }
        const int64_t wrap = OFstatic_cast(int64_t, mask) + 1;
        for (unsigned long long pixel = 0; pixel < pixelsPerFrame; ++pixel) {
            const uint32_t raw = ((OFstatic_cast(uint32_t, bytes[2 * pixel]) | (OFstatic_cast(uint32_t, bytes[2 * pixel + 1]) << 8)) >> shift) & mask;
            output[pixel] = (raw & signBit) != 0 ? OFstatic_cast(float, OFstatic_cast(int64_t, raw) - wrap) : OFstatic_cast(float, raw);
        }
        return;
    }
    for (unsigned long long pixel = 0; pixel < pixelsPerFrame; ++pixel) {
        for (uint32_t sample = 0; sample < spp; ++sample) {
            const unsigned long long source = planarColour ? sample * pixelsPerFrame + pixel : pixel * spp + sample;
            const Uint8 *p = bytes + source * bytesPerSample;
            uint64_t raw = p[0];
            if (bytesPerSample >= 2) raw |= OFstatic_cast(uint64_t, p[1]) << 8;
            if (bytesPerSample == 4) {
                raw |= OFstatic_cast(uint64_t, p[2]) << 16;
                raw |= OFstatic_cast(uint64_t, p[3]) << 24;
                if (wordSwappedBigEndian) {
                    raw = ((raw & 0xFFFFULL) << 16) | (raw >> 16);
                }
            }
            if (byteStreamBigEndian && bytesPerSample == 2) {
                raw = ((raw & 0xFFULL) << 8) | (raw >> 8);
            } else if (byteStreamBigEndian && bytesPerSample == 4) {
                raw = ((raw & 0xFFULL) << 24) | ((raw & 0xFF00ULL) << 8) | ((raw >> 8) & 0xFF00ULL) | (raw >> 24);
            }
            raw = (raw >> shift) & mask;
            if (g.pixel_representation == 1 && (raw & signBit) != 0) {
                output[pixel * spp + sample] = OFstatic_cast(float, OFstatic_cast(int64_t, raw) - OFstatic_cast(int64_t, mask) - 1);
            } else {
                output[pixel * spp + sample] = OFstatic_cast(float, raw);
            }
        }
    }
}

/// Native (uncompressed) pixel data: read straight from the element.
lbx_status decodeNativeFrames(lbx_dicom *object, DcmElement *element, const lbx_geometry &g, DcmXfer &original,
                              uint32_t first_frame, uint32_t frame_count, bool subsampledChroma, float *output,
                              lbx_error *error) {
    DcmDataset *dataset = object->file.getDataset();
    Uint16 planar = OFstatic_cast(Uint16, g.planar_configuration);
    if (g.samples_per_pixel > 1) {
        dataset->findAndGetUint16(DCM_PlanarConfiguration, planar);
    }
    // DCMTK keeps OW words in host byte order and OB as bytes, so on a little-endian host the
    // bytes below are the little-endian stream either way.
    const Uint8 *bytes = nullptr;
    Uint16 *words = nullptr;
    Uint8 *octets = nullptr;
    OFCondition loaded = element->getUint16Array(words);
    if (loaded.good() && words != nullptr) {
        bytes = reinterpret_cast<const Uint8 *>(words);
    } else {
        loaded = element->getUint8Array(octets);
        bytes = octets;
    }
    if (loaded.bad() || bytes == nullptr) {
        return failCondition(error, LBX_ERR_DECODE, "pixel data could not be read", loaded.bad() ? loaded : EC_CorruptedData);
    }
    // Big endian data: DCMTK swaps OW values as 16-bit words, so 32-bit samples arrive with
    // their halves exchanged; OB values are not swapped at all.
    const uint32_t bytesPerSample = g.bits_allocated / 8;
    const bool bigEndian = original.isBigEndian();
    const bool wordSwappedBigEndian = bigEndian && words != nullptr;
    const bool byteStreamBigEndian = bigEndian && words == nullptr && bytesPerSample > 1;
    const unsigned long long samplesPerFrame = 1ULL * g.rows * g.columns * g.samples_per_pixel;
    const unsigned long long available = element->getLength();
    if (subsampledChroma) {
        // Y0 Y1 Cb Cr for every two pixels (8-bit, checked in Swift): each pixel gets the pair.
        const unsigned long long pixelsPerFrame = 1ULL * g.rows * g.columns;
        if (g.samples_per_pixel != 3 || bytesPerSample != 1 || g.columns % 2 != 0 || available < pixelsPerFrame * 2 * g.frames) {
            return fail(error, LBX_ERR_GEOMETRY, "YBR_FULL_422 pixel data does not match the geometry");
        }
        for (uint32_t index = 0; index < frame_count; ++index) {
            const Uint8 *frame = bytes + (OFstatic_cast(unsigned long long, first_frame) + index) * pixelsPerFrame * 2;
            float *out = output + index * samplesPerFrame;
            for (unsigned long long pair = 0; pair < pixelsPerFrame / 2; ++pair) {
                const Uint8 *p = frame + pair * 4;
                float *o = out + pair * 6;
                o[0] = p[0]; o[1] = p[2]; o[2] = p[3];
                o[3] = p[1]; o[4] = p[2]; o[5] = p[3];
            }
        }
        return LBX_OK;
    }
    const unsigned long long needed = samplesPerFrame * g.frames * bytesPerSample;
    if (available < needed) {
        return fail(error, LBX_ERR_GEOMETRY,
                    "pixel data holds " + std::to_string(available) + " bytes, the geometry needs " + std::to_string(needed));
    }
    for (uint32_t index = 0; index < frame_count; ++index) {
        const unsigned long long frame = OFstatic_cast(unsigned long long, first_frame) + index;
        unpackFrame(bytes + frame * samplesPerFrame * bytesPerSample, g, planar, wordSwappedBigEndian, byteStreamBigEndian,
                    output + index * samplesPerFrame);
    }
    return LBX_OK;
}

/// 1-bit data, packed least significant bit first and continuing across frame boundaries.
lbx_status decodePackedBits(DcmElement *element, const lbx_geometry &g, uint32_t first_frame, uint32_t frame_count,
                            float *output, lbx_error *error) {
    Uint8 *bytes = nullptr;
    OFCondition loaded = element->getUint8Array(bytes);
    if (loaded.bad() || bytes == nullptr) {
        Uint16 *words = nullptr;
        loaded = element->getUint16Array(words);
        bytes = reinterpret_cast<Uint8 *>(words);
    }
    if (loaded.bad() || bytes == nullptr) {
        return failCondition(error, LBX_ERR_DECODE, "pixel data could not be read", loaded.bad() ? loaded : EC_CorruptedData);
    }
    const unsigned long long samplesPerFrame = 1ULL * g.rows * g.columns * g.samples_per_pixel;
    const unsigned long long needed = (samplesPerFrame * g.frames + 7) / 8;
    if (element->getLength() < needed) {
        return fail(error, LBX_ERR_GEOMETRY, "pixel data holds " + std::to_string(element->getLength()) +
                                                 " bytes, the packed bits need " + std::to_string(needed));
    }
    const unsigned long long firstBit = OFstatic_cast(unsigned long long, first_frame) * samplesPerFrame;
    const unsigned long long count = samplesPerFrame * frame_count;
    for (unsigned long long index = 0; index < count; ++index) {
        const unsigned long long bit = firstBit + index;
        output[index] = (bytes[bit >> 3] >> (bit & 7)) & 1 ? 1.0f : 0.0f;
    }
    return LBX_OK;
}

/// Compressed data DCMTK has a codec for: each frame is decompressed on its own (never the whole
/// object), through a file cache kept with the object so neighbouring frames reuse the handle.
lbx_status decodeCompressedFrames(lbx_dicom *object, const lbx_geometry &g, uint32_t first_frame, uint32_t frame_count,
                                  float *output, OFString &colorModel, lbx_error *error) {
    DcmDataset *dataset = object->file.getDataset();
    const E_TransferSyntax syntax = dataset->getOriginalXfer();
    DcmXfer original(syntax);
    if (!DcmCodecList::canChangeCoding(syntax, EXS_LittleEndianExplicit)) {
        return fail(error, LBX_ERR_UNSUPPORTED_SYNTAX,
                    std::string("no decoder for transfer syntax ") + original.getXferName() + " (" + original.getXferID() + ")");
    }
    DcmElement *element = nullptr;
    dataset->findAndGetElement(DCM_PixelData, element);
    DcmPixelData *pixels = OFstatic_cast(DcmPixelData *, element);
    Uint32 frameSize = 0;
    OFCondition condition = pixels->getUncompressedFrameSize(dataset, frameSize);
    if (condition.bad()) {
        return failCondition(error, LBX_ERR_DECODE, "frame size could not be determined", condition);
    }
    const unsigned long long samplesPerFrame = 1ULL * g.rows * g.columns * g.samples_per_pixel;
    const unsigned long long needed = samplesPerFrame * (g.bits_allocated / 8);
    if (frameSize < needed) {
        return fail(error, LBX_ERR_GEOMETRY, "a decoded frame holds " + std::to_string(frameSize) + " bytes, the geometry needs " +
                                                 std::to_string(needed));
    }
    std::vector<Uint8> buffer(frameSize + (frameSize & 1));
    for (uint32_t index = 0; index < frame_count; ++index) {
        const Uint32 frame = first_frame + index;
        // The fragment is found from the offset table, or one fragment a frame, or by walking
        // forward from the last frame decoded.
        Uint32 startFragment = (frame == object->nextFrame) ? object->nextFragment : 0;
        OFString decodedModel;
        condition = pixels->getUncompressedFrame(dataset, frame, startFragment, buffer.data(),
                                                 OFstatic_cast(Uint32, buffer.size()), decodedModel, &object->cache);
        if (condition.bad()) {
            object->nextFrame = UINT32_MAX;
            return failCondition(error, LBX_ERR_DECODE, "frame " + std::to_string(frame + 1) + " could not be decoded", condition);
        }
        object->nextFrame = frame + 1;
        object->nextFragment = startFragment;
        if (!decodedModel.empty()) {
            colorModel = decodedModel;
        }
        // Decoders say in the data set how they laid colour out (RLE gives planes).
        Uint16 planar = OFstatic_cast(Uint16, g.planar_configuration);
        if (g.samples_per_pixel > 1) {
            dataset->findAndGetUint16(DCM_PlanarConfiguration, planar);
        }
        unpackFrame(buffer.data(), g, planar, false, false, output + index * samplesPerFrame);
    }
    return LBX_OK;
}

/// The bytes of frame `frame`'s codestream: one fragment a frame, all fragments for a single
/// frame, the offset table when present, else fragments grouped by their start-of-codestream
/// markers.
lbx_status jpeg2000Codestream(DcmPixelSequence *sequence, uint32_t frames, uint32_t frame, std::vector<Uint8> &out,
                              lbx_error *error) {
    const unsigned long items = sequence->card();
    if (items < 2) {
        return fail(error, LBX_ERR_GEOMETRY, "compressed pixel data has no fragments");
    }
    struct Fragment { const Uint8 *bytes; Uint32 length; };
    std::vector<Fragment> fragments;
    fragments.reserve(items - 1);
    for (unsigned long index = 1; index < items; ++index) {
        DcmPixelItem *item = nullptr;
        Uint8 *bytes = nullptr;
        if (sequence->getItem(item, index).bad() || item == nullptr) {
            return fail(error, LBX_ERR_DECODE, "fragment " + std::to_string(index) + " cannot be read");
        }
        if (item->getLength() > 0 && (item->getUint8Array(bytes).bad() || bytes == nullptr)) {
            return fail(error, LBX_ERR_DECODE, "fragment " + std::to_string(index) + " cannot be read");
        }
        fragments.push_back({bytes, item->getLength()});
    }
    size_t first = 0, last = 0; // [first, last) of fragments
    if (frames == 1) {
        first = 0;
        last = fragments.size();
    } else if (fragments.size() == frames) {
        first = frame;
        last = frame + 1;
    } else {
        std::vector<size_t> starts;
        DcmPixelItem *table = nullptr;
        Uint8 *tableBytes = nullptr;
        if (sequence->getItem(table, 0).good() && table != nullptr && table->getLength() >= 4 * frames &&
            table->getUint8Array(tableBytes).good() && tableBytes != nullptr) {
            // Offsets count bytes from the first fragment's item tag (8 bytes of tag and length each).
            unsigned long long position = 0;
            size_t fragmentIndex = 0;
            for (uint32_t f = 0; f < frames; ++f) {
                const Uint32 offset = tableBytes[4 * f] | (tableBytes[4 * f + 1] << 8) | (tableBytes[4 * f + 2] << 16) |
                                      (OFstatic_cast(Uint32, tableBytes[4 * f + 3]) << 24);
                while (fragmentIndex < fragments.size() && position < offset) {
                    position += 8ULL + fragments[fragmentIndex].length;
                    ++fragmentIndex;
                }
                if (position != offset) {
                    starts.clear();
                    break;
                }
                starts.push_back(fragmentIndex);
            }
        }
        if (starts.size() != frames) {
            starts.clear();
            for (size_t index = 0; index < fragments.size(); ++index) {
                const Fragment &f = fragments[index];
                if (f.length >= 2 && f.bytes[0] == 0xFF && f.bytes[1] == 0x4F) starts.push_back(index);
            }
        }
        if (starts.size() != frames) {
            return fail(error, LBX_ERR_GEOMETRY, std::to_string(frames) + " frames declared, " + std::to_string(starts.size()) +
                                                     " JPEG 2000 codestreams found in " + std::to_string(fragments.size()) +
                                                     " fragments");
        }
        first = starts[frame];
        last = frame + 1 < frames ? starts[frame + 1] : fragments.size();
    }
    out.clear();
    for (size_t index = first; index < last; ++index) {
        out.insert(out.end(), fragments[index].bytes, fragments[index].bytes + fragments[index].length);
    }
    return LBX_OK;
}

lbx_status decodeJpeg2000Frames(lbx_dicom *object, const lbx_geometry &g, uint32_t first_frame, uint32_t frame_count,
                                float *output, lbx_error *error) {
    DcmDataset *dataset = object->file.getDataset();
    DcmElement *element = nullptr;
    dataset->findAndGetElement(DCM_PixelData, element);
    DcmPixelSequence *sequence = nullptr;
    OFCondition condition = OFstatic_cast(DcmPixelData *, element)->getEncapsulatedRepresentation(
        dataset->getOriginalXfer(), nullptr, sequence);
    if (condition.bad() || sequence == nullptr) {
        return failCondition(error, LBX_ERR_DECODE, "JPEG 2000 fragments could not be read",
                             condition.bad() ? condition : EC_CorruptedData);
    }
    const unsigned long long samplesPerFrame = 1ULL * g.rows * g.columns * g.samples_per_pixel;
    std::vector<Uint8> codestream;
    for (uint32_t index = 0; index < frame_count; ++index) {
        lbx_status status = jpeg2000Codestream(sequence, g.frames, first_frame + index, codestream, error);
        if (status != LBX_OK) {
            return status;
        }
        std::string message;
        if (!lbx::decodeJpeg2000(codestream.data(), codestream.size(), g.rows, g.columns, g.samples_per_pixel,
                                 g.pixel_representation == 1, output + index * samplesPerFrame, message)) {
            return fail(error, LBX_ERR_DECODE, "JPEG 2000 frame " + std::to_string(first_frame + index + 1) + ": " + message);
        }
    }
    return LBX_OK;
}


/// One attribute line for lbx_dicom_header_lines; recursive through sequences.
void headerWalk(DcmItem *item, int depth, std::string &out) {
    if (item == nullptr || depth > 64) return;
    char tagText[16];
    for (unsigned long index = 0; index < item->card(); ++index) {
        DcmElement *element = item->getElement(index);
        if (element == nullptr) continue;
        DcmTag tag = element->getTag();
        std::snprintf(tagText, sizeof(tagText), "%04x\t%04x", tag.getGroup(), tag.getElement());
        const DcmEVR vr = element->ident();
        std::string value;
        if (vr == EVR_SQ) {
            value = std::to_string(OFstatic_cast(DcmSequenceOfItems *, element)->card()) + " item(s)";
        } else if (vr == EVR_OB || vr == EVR_OW || vr == EVR_ox || vr == EVR_UN || vr == EVR_OF || vr == EVR_OD || vr == EVR_OL ||
                   vr == EVR_OV || vr == EVR_pixelSQ || tag == DCM_PixelData) {
            value = "(" + std::to_string(element->getLength()) + " bytes)";
        } else {
            OFString text;
            element->getOFStringArray(text);
            value.assign(text.c_str(), text.length());
            for (char &c : value) if (c == '\t' || c == '\n' || c == '\r') c = ' ';
            if (value.size() > 256) value = value.substr(0, 253) + "...";
        }
        out += std::to_string(depth) + "\t" + tagText + "\t" + DcmVR(vr).getVRName() + "\t" + tag.getTagName() + "\t" + value + "\n";
        if (vr == EVR_SQ) {
            DcmSequenceOfItems *sequence = OFstatic_cast(DcmSequenceOfItems *, element);
            for (unsigned long number = 0; number < sequence->card(); ++number) {
                out += std::to_string(depth + 1) + "\tfffe\te000\tna\tItem\t#" + std::to_string(number + 1) + "\n";
                headerWalk(sequence->getItem(number), depth + 2, out);
            }
        }
    }
}

/// Runs `body` on the object, or on the file read again when it was parsed without the private
/// dictionaries from implicit VR (whose private values would otherwise be bytes).
template <typename Body>
void withPrivateNames(lbx_dicom *object, Body body) {
    if (!laterDictionaries.empty() && !object->path.empty() &&
        object->file.getDataset()->getOriginalXfer() == EXS_LittleEndianImplicit) {
        loadLaterDictionaries();
        DcmFileFormat again;
        if (again.loadFile(object->path.c_str(), EXS_Unknown, EGL_noChange, 4096, ERM_autoDetect).good()) {
            again.convertToUTF8();
            body(again);
            return;
        }
    }
    loadLaterDictionaries();
    body(object->file);
}

} // namespace

extern "C" {

void lbx_dicom_initialize(void) {
    try {
        std::call_once(initializeOnce, [] {
            // DCMTK's own log would print file contents and warnings to stderr: errors come back
            // to Swift as statuses instead.
            OFLog::configure(OFLogger::OFF_LOG_LEVEL);
            // The standard dictionary now (parsing needs it), the others when header lines need them;
            // a DCMDICTPATH the user set is left as it is.
#ifdef DCM_DICT_DEFAULT_PATH
            if (std::getenv("DCMDICTPATH") == nullptr) {
                std::string paths = DCM_DICT_DEFAULT_PATH;
                std::vector<std::string> parts;
                size_t start = 0;
                while (start <= paths.size()) {
                    size_t end = paths.find(ENVIRONMENT_PATH_SEPARATOR, start);
                    if (end == std::string::npos) end = paths.size();
                    if (end > start) parts.push_back(paths.substr(start, end - start));
                    start = end + 1;
                }
                if (parts.size() > 1) {
                    setenv("DCMDICTPATH", parts[0].c_str(), 0);
                    laterDictionaries.assign(parts.begin() + 1, parts.end());
                }
            }
#endif
            DJDecoderRegistration::registerCodecs();
            DJLSDecoderRegistration::registerCodecs();
            DcmRLEDecoderRegistration::registerCodecs();
            // Keep SOP Instance UIDs when compressing, so written files stay comparable.
            DJEncoderRegistration::registerCodecs(ECC_lossyYCbCr, EUC_never);
            DJLSEncoderRegistration::registerCodecs(0, 0, 0, 0, OFTrue, 0, OFTrue, EJLSUC_never);
            DcmRLEEncoderRegistration::registerCodecs(OFFalse, 0, OFTrue);
        });
    } catch (...) {
        // Registration failing leaves compressed syntaxes undecodable; reported per file later.
    }
}

lbx_status lbx_dicom_open(const char *path, lbx_dicom **out, lbx_error *error) {
    // Parsed on a large stack: a hostile file nested thousands of levels deep is an error, not a crash.
    return lbx::onLargeStack([&] { return guarded(error, [&]() -> lbx_status {
        if (path == nullptr || out == nullptr) {
            return fail(error, LBX_ERR_ARGUMENT, "no path given");
        }
        *out = nullptr;
        lbx_dicom_initialize();
        lbx_status sniffed = sniff(path, error);
        if (sniffed != LBX_OK) {
            return sniffed;
        }
        lbx_dicom *object = new lbx_dicom();
        // Values over 4 KiB (pixel data) stay on disk until asked for: headers load fast and a
        // lying length does not allocate.
        OFCondition condition = object->file.loadFile(path, EXS_Unknown, EGL_noChange, 4096, ERM_autoDetect);
        if (condition.bad()) {
            delete object;
            return failCondition(error, LBX_ERR_PARSE, "malformed or truncated data set", condition);
        }
        const unsigned long depth = lbx::nesting(*object->file.getDataset());
        if (depth > lbx::maximumNesting) {
            delete object;  // here, on the large stack: freeing nested items recurses too
            return fail(error, LBX_ERR_PARSE, "sequences nested more than " + std::to_string(lbx::maximumNesting) + " levels deep");
        }
        // Text in other character sets (Latin-1, Cyrillic, Japanese…) becomes UTF-8 per
        // SpecificCharacterSet; when a set is unknown the text stays as stored.
        object->file.convertToUTF8();
        object->path = path;
        *out = object;
        return LBX_OK;
    }); });
}

lbx_status lbx_dicom_create(lbx_dicom **out, lbx_error *error) {
    return guarded(error, [&]() -> lbx_status {
        if (out == nullptr) {
            return fail(error, LBX_ERR_ARGUMENT, "no output handle");
        }
        lbx_dicom_initialize();
        *out = new lbx_dicom();
        return LBX_OK;
    });
}

void lbx_dicom_close(lbx_dicom *object) {
    try {
        delete object;
    } catch (...) {
    }
}

lbx_status lbx_dicom_get_string(lbx_dicom *object, uint16_t group, uint16_t element,
                                char *buffer, size_t capacity, size_t *length) {
    return guarded(nullptr, [&]() -> lbx_status {
        if (object == nullptr || (buffer == nullptr && capacity > 0)) {
            return LBX_ERR_ARGUMENT;
        }
        if (length != nullptr) {
            *length = 0;
        }
        if (capacity > 0) {
            buffer[0] = '\0';
        }
        DcmElement *found = findElement(object, DcmTagKey(group, element));
        if (found == nullptr || found->getLength() == 0) {
            return LBX_ERR_NOT_FOUND;
        }
        // Sequences and pixel data have no text form here.
        if (found->ident() == EVR_SQ || found->ident() == EVR_pixelSQ || found->ident() == EVR_OB ||
            found->ident() == EVR_OW || found->ident() == EVR_ox || found->ident() == EVR_UN) {
            return LBX_ERR_NOT_FOUND;
        }
        OFString text;
        if (found->getOFStringArray(text).bad()) {
            return LBX_ERR_NOT_FOUND;
        }
        if (length != nullptr) {
            *length = text.length();
        }
        if (capacity > 0) {
            size_t copied = text.length() < capacity - 1 ? text.length() : capacity - 1;
            std::memcpy(buffer, text.c_str(), copied);
            buffer[copied] = '\0';
        }
        return LBX_OK;
    });
}

lbx_status lbx_dicom_get_number(lbx_dicom *object, uint16_t group, uint16_t element,
                                uint32_t index, double *value) {
    return guarded(nullptr, [&]() -> lbx_status {
        if (object == nullptr || value == nullptr) {
            return LBX_ERR_ARGUMENT;
        }
        DcmElement *found = findElement(object, DcmTagKey(group, element));
        if (found == nullptr || found->getLength() == 0) {
            return LBX_ERR_NOT_FOUND;
        }
        OFCondition condition = EC_IllegalCall;
        switch (found->ident()) {
        case EVR_US: { Uint16 v = 0; condition = found->getUint16(v, index); *value = v; break; }
        case EVR_SS: { Sint16 v = 0; condition = found->getSint16(v, index); *value = v; break; }
        case EVR_UL: { Uint32 v = 0; condition = found->getUint32(v, index); *value = v; break; }
        case EVR_SL: { Sint32 v = 0; condition = found->getSint32(v, index); *value = v; break; }
        case EVR_IS: { Sint32 v = 0; condition = found->getSint32(v, index); *value = v; break; }
        case EVR_FL: { Float32 v = 0; condition = found->getFloat32(v, index); *value = v; break; }
        case EVR_FD: { Float64 v = 0; condition = found->getFloat64(v, index); *value = v; break; }
        case EVR_DS: { Float64 v = 0; condition = found->getFloat64(v, index); *value = v; break; }
        default: break;
        }
        return condition.good() ? LBX_OK : LBX_ERR_NOT_FOUND;
    });
}

lbx_status lbx_dicom_header_lines(lbx_dicom *object, char *buffer, size_t capacity, size_t *length) {
    return guarded(nullptr, [&]() -> lbx_status {
        if (object == nullptr || (buffer == nullptr && capacity > 0)) {
            return LBX_ERR_ARGUMENT;
        }
        std::string text;
        withPrivateNames(object, [&](DcmFileFormat &file) {
            headerWalk(file.getMetaInfo(), 0, text);
            headerWalk(file.getDataset(), 0, text);
        });
        if (length != nullptr) *length = text.size();
        if (capacity > 0) {
            size_t copied = text.size() < capacity - 1 ? text.size() : capacity - 1;
            std::memcpy(buffer, text.data(), copied);
            buffer[copied] = '\0';
        }
        return LBX_OK;
    });
}

lbx_status lbx_dicom_put_path(lbx_dicom *object, const char *path, const char *value, lbx_error *error) {
    return guarded(error, [&]() -> lbx_status {
        if (object == nullptr || path == nullptr || value == nullptr) {
            return fail(error, LBX_ERR_ARGUMENT, "no object, path or value");
        }
        DcmPathProcessor processor;
        OFCondition condition = processor.applyPathWithValue(object->file.getDataset(), OFString(path) + "=" + value);
        if (condition.bad()) {
            return failCondition(error, LBX_ERR_ARGUMENT, std::string("cannot set ") + path, condition);
        }
        return LBX_OK;
    });
}

lbx_status lbx_dicom_pixel_info(lbx_dicom *object, lbx_pixel_info *info, lbx_error *error) {
    return guarded(error, [&]() -> lbx_status {
        if (object == nullptr || info == nullptr) {
            return fail(error, LBX_ERR_ARGUMENT, "no object");
        }
        std::memset(info, 0, sizeof(*info));
        DcmDataset *dataset = object->file.getDataset();
        E_TransferSyntax syntax = dataset->getOriginalXfer();
        DcmXfer transfer(syntax);
        std::snprintf(info->transfer_syntax_uid, sizeof(info->transfer_syntax_uid), "%s", transfer.getXferID());
        std::snprintf(info->transfer_syntax_name, sizeof(info->transfer_syntax_name), "%s", transfer.getXferName());
        OFString metaSyntax;
        if (object->file.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, metaSyntax).good() && !metaSyntax.empty()) {
            std::snprintf(info->transfer_syntax_uid, sizeof(info->transfer_syntax_uid), "%s", metaSyntax.c_str());
        }
        DcmElement *element = nullptr;
        if (dataset->findAndGetElement(DCM_PixelData, element).bad() || element == nullptr) {
            return LBX_OK;
        }
        info->has_pixel_data = 1;
        info->encapsulated = transfer.isEncapsulated() ? 1 : 0;
        if (!metaSyntax.empty() && DcmXfer(metaSyntax.c_str()).getXfer() == EXS_Unknown) {
            // DCMTK did not recognise the meta header's syntax: nothing here can decode it.
            std::snprintf(info->transfer_syntax_name, sizeof(info->transfer_syntax_name), "unknown");
            info->decoder_available = 0;
            info->encapsulated = 1;
            return LBX_OK;
        }
        if (info->encapsulated) {
            DcmPixelData *pixels = OFstatic_cast(DcmPixelData *, element);
            DcmPixelSequence *sequence = nullptr;
            if (pixels->getEncapsulatedRepresentation(syntax, nullptr, sequence).good() && sequence != nullptr) {
                unsigned long items = sequence->card();
                info->fragment_count = items > 0 ? OFstatic_cast(uint32_t, items - 1) : 0;
            }
            info->decoder_available =
                (isJpeg2000(syntax) || DcmCodecList::canChangeCoding(syntax, EXS_LittleEndianExplicit)) ? 1 : 0;
        } else {
            info->value_length = element->getLength();
            info->decoder_available = 1;
        }
        return LBX_OK;
    });
}

lbx_status lbx_dicom_decode(lbx_dicom *object, const lbx_geometry *geometry, uint32_t first_frame,
                            uint32_t frame_count, float *output, size_t capacity, char *color_model,
                            size_t color_model_capacity, lbx_error *error) {
    return guarded(error, [&]() -> lbx_status {
        if (object == nullptr || geometry == nullptr || output == nullptr) {
            return fail(error, LBX_ERR_ARGUMENT, "no object, geometry or output");
        }
        const lbx_geometry g = *geometry;
        if ((g.bits_allocated != 1 && g.bits_allocated != 8 && g.bits_allocated != 16 && g.bits_allocated != 32) ||
            g.bits_stored == 0 || g.bits_stored > g.bits_allocated || g.high_bit >= g.bits_allocated ||
            g.high_bit + 1 < g.bits_stored || g.samples_per_pixel == 0 || g.frames == 0) {
            return fail(error, LBX_ERR_GEOMETRY, "inconsistent bit depths or sizes");
        }
        const unsigned long long samplesPerFrame = 1ULL * g.rows * g.columns * g.samples_per_pixel;
        if (frame_count == 0 || OFstatic_cast(unsigned long long, first_frame) + frame_count > g.frames) {
            return fail(error, LBX_ERR_ARGUMENT, "frame range outside the image");
        }
        if (samplesPerFrame == 0 || samplesPerFrame * frame_count != capacity) {
            return fail(error, LBX_ERR_ARGUMENT, "output buffer does not match the geometry");
        }
        DcmDataset *dataset = object->file.getDataset();
        DcmElement *element = nullptr;
        if (dataset->findAndGetElement(DCM_PixelData, element).bad() || element == nullptr) {
            return fail(error, LBX_ERR_NO_PIXELS, "no pixel data");
        }
        OFString photometric;
        dataset->findAndGetOFString(DCM_PhotometricInterpretation, photometric);
        const E_TransferSyntax syntax = dataset->getOriginalXfer();
        DcmXfer original(syntax);
        lbx_status status = LBX_OK;
        if (isJpeg2000(syntax)) {
            status = decodeJpeg2000Frames(object, g, first_frame, frame_count, output, error);
            // OpenJPEG undoes the reversible or irreversible colour transform itself.
            if (g.samples_per_pixel == 3 && (photometric == "YBR_RCT" || photometric == "YBR_ICT")) {
                photometric = "RGB";
            }
        } else if (original.isEncapsulated()) {
            status = decodeCompressedFrames(object, g, first_frame, frame_count, output, photometric, error);
        } else if (g.bits_allocated == 1) {
            status = decodePackedBits(element, g, first_frame, frame_count, output, error);
        } else {
            status = decodeNativeFrames(object, element, g, original, first_frame, frame_count,
                                        photometric == "YBR_FULL_422", output, error);
        }
        if (status == LBX_OK && color_model != nullptr && color_model_capacity > 0) {
            std::snprintf(color_model, color_model_capacity, "%s", photometric.c_str());
        }
        return status;
    });
}

lbx_status lbx_dicom_get_words(lbx_dicom *object, uint16_t group, uint16_t element, uint16_t *buffer,
                               size_t capacity, size_t *count) {
    return guarded(nullptr, [&]() -> lbx_status {
        if (object == nullptr || count == nullptr || (buffer == nullptr && capacity > 0)) {
            return LBX_ERR_ARGUMENT;
        }
        *count = 0;
        DcmElement *found = findElement(object, DcmTagKey(group, element));
        if (found == nullptr || found->getLength() == 0) {
            return LBX_ERR_NOT_FOUND;
        }
        Uint16 *words = nullptr;
        if (found->getUint16Array(words).bad() || words == nullptr) {
            // 8-bit tables are sometimes stored as OB: one byte an entry.
            Uint8 *bytes = nullptr;
            if (found->getUint8Array(bytes).bad() || bytes == nullptr) {
                return LBX_ERR_NOT_FOUND;
            }
            const size_t length = found->getLength();
            *count = length;
            for (size_t index = 0; index < length && index < capacity; ++index) buffer[index] = bytes[index];
            return LBX_OK;
        }
        const size_t length = found->getLength() / 2;
        *count = length;
        if (capacity > 0) {
            std::memcpy(buffer, words, (length < capacity ? length : capacity) * sizeof(Uint16));
        }
        return LBX_OK;
    });
}

const char *lbx_dicom_library_versions(void) {
    static std::string text;
    static std::once_flag once;
    std::call_once(once, [] {
        text = std::string("DCMTK ") + OFFIS_DCMTK_VERSION_STRING + ", OpenJPEG " + lbx::openJpegVersion();
    });
    return text.c_str();
}

lbx_status lbx_dicom_put_string(lbx_dicom *object, uint16_t group, uint16_t element,
                                const char *value, lbx_error *error) {
    return guarded(error, [&]() -> lbx_status {
        if (object == nullptr || value == nullptr) {
            return fail(error, LBX_ERR_ARGUMENT, "no object or value");
        }
        DcmTagKey key(group, element);
        DcmDataset *dataset = object->file.getDataset();
        DcmTag tag(key);
        if (group % 2 == 1 && element >= 0x1000) {
            // A private attribute's VR comes from the private dictionaries, under its creator.
            loadLaterDictionaries();
            OFString creator;
            dataset->findAndGetOFString(DcmTagKey(group, element >> 8), creator);
            tag = DcmTag(key, creator.empty() ? nullptr : creator.c_str());
        }
        OFCondition condition = (group == 0x0002)
                                    ? object->file.getMetaInfo()->putAndInsertString(key, value)
                                    : dataset->putAndInsertString(tag, value);
        if (condition.bad()) {
            return failCondition(error, LBX_ERR_ARGUMENT, "cannot set attribute", condition);
        }
        return LBX_OK;
    });
}

lbx_status lbx_dicom_put_pixels(lbx_dicom *object, const void *data, size_t byte_count,
                                uint32_t bits_allocated, lbx_error *error) {
    return guarded(error, [&]() -> lbx_status {
        if (object == nullptr || data == nullptr) {
            return fail(error, LBX_ERR_ARGUMENT, "no object or data");
        }
        DcmDataset *dataset = object->file.getDataset();
        OFCondition condition;
        if (bits_allocated == 8) {
            condition = dataset->putAndInsertUint8Array(DCM_PixelData, OFstatic_cast(const Uint8 *, data),
                                                        OFstatic_cast(unsigned long, byte_count));
        } else if (bits_allocated == 16 && byte_count % 2 == 0) {
            condition = dataset->putAndInsertUint16Array(DCM_PixelData, OFstatic_cast(const Uint16 *, data),
                                                         OFstatic_cast(unsigned long, byte_count / 2));
        } else {
            return fail(error, LBX_ERR_ARGUMENT, "pixel data must be 8-bit bytes or 16-bit words");
        }
        if (condition.bad()) {
            return failCondition(error, LBX_ERR_ARGUMENT, "cannot set pixel data", condition);
        }
        return LBX_OK;
    });
}

lbx_status lbx_dicom_put_nested_sequence(lbx_dicom *object, uint16_t group, uint16_t element,
                                         uint32_t depth, lbx_error *error) {
    return guarded(error, [&]() -> lbx_status {
        if (object == nullptr) {
            return fail(error, LBX_ERR_ARGUMENT, "no object");
        }
        DcmItem *current = object->file.getDataset();
        DcmTagKey key(group, element);
        for (uint32_t level = 0; level < depth; ++level) {
            DcmItem *item = nullptr;
            OFCondition condition = current->findOrCreateSequenceItem(key, item, -2);
            if (condition.bad() || item == nullptr) {
                return failCondition(error, LBX_ERR_ARGUMENT, "cannot nest sequence", condition);
            }
            current = item;
        }
        return LBX_OK;
    });
}

lbx_status lbx_dicom_save(lbx_dicom *object, const char *path, const char *transfer_syntax_uid,
                          int quality, lbx_error *error) {
    return guarded(error, [&]() -> lbx_status {
        if (object == nullptr || path == nullptr || transfer_syntax_uid == nullptr) {
            return fail(error, LBX_ERR_ARGUMENT, "no object, path or transfer syntax");
        }
        DcmXfer target(transfer_syntax_uid);
        E_TransferSyntax syntax = target.getXfer();
        if (syntax == EXS_Unknown) {
            return fail(error, LBX_ERR_UNSUPPORTED_SYNTAX, std::string("unknown transfer syntax ") + transfer_syntax_uid);
        }
        DcmDataset *dataset = object->file.getDataset();
        DcmRepresentationParameter *parameters = encodingParameters(syntax, quality);
        OFCondition condition = dataset->chooseRepresentation(syntax, parameters);
        if (condition.good()) {
            zeroPaddingAfterEndOfImage(dataset, syntax, parameters);
        }
        delete parameters;
        if (condition.bad() || !dataset->canWriteXfer(syntax)) {
            return failCondition(error, LBX_ERR_UNSUPPORTED_SYNTAX,
                                 std::string("cannot encode as ") + target.getXferName(),
                                 condition.bad() ? condition : EC_CannotChangeRepresentation);
        }
        condition = object->file.saveFile(path, syntax, EET_ExplicitLength, EGL_recalcGL, EPD_noChange, 0, 0,
                                          EWM_updateMeta);
        if (condition.bad()) {
            return failCondition(error, LBX_ERR_WRITE, "cannot write the file", condition);
        }
        return LBX_OK;
    });
}

} // extern "C"
