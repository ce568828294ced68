// C++ over DCMTK's dcmseg, dcmpmap and dcmfg behind lbx_ai.h. Every entry point catches every
// exception; a malformed object is an error status naming the reason, never a crash.
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmfg/fgderimg.h"
#include "dcmtk/dcmfg/fginterface.h"
#include "dcmtk/dcmfg/fgpixmsr.h"
#include "dcmtk/dcmfg/fgplanor.h"
#include "dcmtk/dcmfg/fgplanpo.h"
#include "dcmtk/dcmfg/fgrealworldvaluemapping.h"
#include "dcmtk/dcmfg/fgseg.h"
#include "dcmtk/dcmpmap/dpmparametricmapiod.h"
#include "dcmtk/dcmseg/segdoc.h"
#include "dcmtk/dcmseg/segment.h"
#include "dcmtk/dcmseg/segutils.h"

#include "lbx_ai.h"
#include "lbx_support.h"

#include <cstring>
#include <memory>
#include <sstream>
#include <string>

struct lbx_ai_object {
    std::unique_ptr<DcmFileFormat> file;
    DcmSegmentation *segmentation = nullptr;
    DPMParametricMapIOD *map = nullptr;
    Uint16 rows = 0;
    Uint16 columns = 0;

    ~lbx_ai_object() {
        delete segmentation;
        delete map;
    }

    FGInterface &groups() { return segmentation != nullptr ? segmentation->getFunctionalGroups() : map->getFunctionalGroups(); }
    size_t frames() {
        return segmentation != nullptr ? segmentation->getNumberOfFrames() : map->getNumberOfFrames();
    }
};

namespace {

using lbx::appendEscaped;
using lbx::appendField;
using lbx::fail;
using lbx::guarded;

/// A JSON object built field by field.
struct JSONObject {
    std::string &out;
    bool first = true;
    explicit JSONObject(std::string &out) : out(out) { out += '{'; }
    void field(const char *name, const OFString &value) { appendField(out, name, value.c_str(), first); }
    void number(const char *name, double value) {
        std::ostringstream text;
        text.precision(17);
        text << value;
        appendField(out, name, text.str(), first);
    }
    void raw(const char *name, const std::string &json) {
        if (!first) out += ',';
        first = false;
        appendEscaped(out, name);
        out += ':';
        out += json;
    }
    void close() { out += '}'; }
};

std::string codeJSON(CodeSequenceMacro &code) {
    OFString value, scheme, meaning;
    code.getCodeValue(value);
    code.getCodingSchemeDesignator(scheme);
    code.getCodeMeaning(meaning);
    if (value.empty() && meaning.empty()) return "null";
    std::string out;
    JSONObject object(out);
    object.field("value", value);
    object.field("scheme", scheme);
    object.field("meaning", meaning);
    object.close();
    return out;
}

OFString attribute(DcmItem &item, const DcmTagKey &tag) {
    OFString value;
    item.findAndGetOFStringArray(tag, value);
    return value;
}

void identity(JSONObject &object, DcmDataset &dataset) {
    object.field("sopClassUID", attribute(dataset, DCM_SOPClassUID));
    object.field("sopInstanceUID", attribute(dataset, DCM_SOPInstanceUID));
    object.field("seriesInstanceUID", attribute(dataset, DCM_SeriesInstanceUID));
    object.field("studyInstanceUID", attribute(dataset, DCM_StudyInstanceUID));
    object.field("frameOfReferenceUID", attribute(dataset, DCM_FrameOfReferenceUID));
    object.field("modality", attribute(dataset, DCM_Modality));
    object.field("seriesDescription", attribute(dataset, DCM_SeriesDescription));
    object.field("seriesNumber", attribute(dataset, DCM_SeriesNumber));
    object.field("manufacturer", attribute(dataset, DCM_Manufacturer));
    object.field("modelName", attribute(dataset, DCM_ManufacturerModelName));
    object.field("softwareVersions", attribute(dataset, DCM_SoftwareVersions));
    object.field("contentLabel", attribute(dataset, DCM_ContentLabel));
    object.field("contentDescription", attribute(dataset, DCM_ContentDescription));
    object.field("contentCreator", attribute(dataset, DCM_ContentCreatorName));
    object.field("contentDate", attribute(dataset, DCM_ContentDate));
}

/// Shared geometry (pixel spacing, orientation) and, per frame, the segment, the source image
/// references and the plane position, from the functional groups.
void frames(JSONObject &object, lbx_ai_object &ai) {
    FGInterface &groups = ai.groups();
    OFBool perFrame = OFFalse;
    if (auto *measures = dynamic_cast<FGPixelMeasures *>(groups.get(0, DcmFGTypes::EFG_PIXELMEASURES, perFrame))) {
        Float64 row = 0, column = 0;
        if (measures->getPixelSpacing(row, 0).good() && measures->getPixelSpacing(column, 1).good()) {
            std::ostringstream text;
            text.precision(17);
            text << row << "\\" << column;
            object.field("pixelSpacing", text.str().c_str());
        }
        Float64 thickness = 0;
        if (measures->getSliceThickness(thickness).good()) object.number("sliceThickness", thickness);
    }
    if (auto *orientation = dynamic_cast<FGPlaneOrientationPatient *>(groups.get(0, DcmFGTypes::EFG_PLANEORIENTPATIENT, perFrame))) {
        OFString value;
        orientation->getImageOrientationPatient(value, -1);
        object.field("orientation", value);
    }
    std::string list = "[";
    const size_t count = ai.frames();
    for (size_t index = 0; index < count; ++index) {
        if (index > 0) list += ',';
        JSONObject frame(list);
        const Uint32 number = static_cast<Uint32>(index);
        if (auto *segment = dynamic_cast<FGSegmentation *>(groups.get(number, DcmFGTypes::EFG_SEGMENTATION, perFrame))) {
            Uint16 value = 0;
            if (segment->getReferencedSegmentNumber(value).good()) frame.number("segment", value);
        }
        if (auto *position = dynamic_cast<FGPlanePosPatient *>(groups.get(number, DcmFGTypes::EFG_PLANEPOSPATIENT, perFrame))) {
            OFString value;
            position->getImagePositionPatient(value, -1);
            frame.field("position", value);
        }
        if (auto *derivation = dynamic_cast<FGDerivationImage *>(groups.get(number, DcmFGTypes::EFG_DERIVATIONIMAGE, perFrame))) {
            std::string sources = "[";
            bool firstSource = true;
            for (DerivationImageItem *item : derivation->getDerivationImageItems()) {
                if (item == nullptr) continue;
                for (SourceImageItem *source : item->getSourceImageItems()) {
                    if (source == nullptr) continue;
                    ImageSOPInstanceReferenceMacro &reference = source->getImageSOPInstanceReference();
                    OFString uid, classUID;
                    reference.getReferencedSOPInstanceUID(uid);
                    reference.getReferencedSOPClassUID(classUID);
                    OFVector<Uint16> numbers;
                    reference.getReferencedFrameNumber(numbers);
                    if (!firstSource) sources += ',';
                    firstSource = false;
                    JSONObject entry(sources);
                    entry.field("sopInstanceUID", uid);
                    entry.field("sopClassUID", classUID);
                    if (!numbers.empty()) entry.number("frame", numbers[0]);
                    entry.close();
                }
            }
            sources += ']';
            frame.raw("sources", sources);
        }
        frame.close();
    }
    list += ']';
    object.raw("frames", list);
}

/// The real-world value mappings (shared, or the first frame's).
std::string mappings(lbx_ai_object &ai) {
    std::string list = "[";
    OFBool perFrame = OFFalse;
    auto *group = dynamic_cast<FGRealWorldValueMapping *>(ai.groups().get(0, DcmFGTypes::EFG_REALWORLDVALUEMAPPING, perFrame));
    bool first = true;
    if (group != nullptr) {
        for (FGRealWorldValueMapping::RWVMItem *item : group->getRealWorldValueMapping()) {
            if (item == nullptr) continue;
            if (!first) list += ',';
            first = false;
            JSONObject mapping(list);
            OFString label, explanation;
            item->getLUTLabel(label);
            item->getLUTExplanation(explanation);
            mapping.field("label", label);
            mapping.field("explanation", explanation);
            DcmItem &data = item->getData();
            Float64 slope = 1, intercept = 0;
            if (data.findAndGetFloat64(DCM_RealWorldValueSlope, slope).good()) mapping.number("slope", slope);
            if (data.findAndGetFloat64(DCM_RealWorldValueIntercept, intercept).good()) mapping.number("intercept", intercept);
            OFVector<Float64> table;
            if (item->getRealWorldValueLUTData(table).good() && !table.empty()) mapping.number("lutEntries", static_cast<double>(table.size()));
            Float64 low = 0, high = 0;
            if (item->getDoubleFloatRealWorldValueFirstValueMapped(low).good() && item->getDoubleFloatRealWorldValueLastValueMapped(high).good()) {
                mapping.number("firstValue", low);
                mapping.number("lastValue", high);
            } else {
                Sint32 lowInteger = 0, highInteger = 0;
                if (item->getRealWorldValueFirstValueMapped(lowInteger).good() && item->getRealWorldValueLastValueMapped(highInteger).good()) {
                    mapping.number("firstValue", lowInteger);
                    mapping.number("lastValue", highInteger);
                }
            }
            mapping.raw("unit", codeJSON(item->getMeasurementUnitsCode()));
            mapping.close();
        }
    }
    list += ']';
    return list;
}

std::string segmentsJSON(DcmSegmentation &segmentation) {
    std::string list = "[";
    const size_t count = segmentation.getNumberOfSegments();
    bool first = true;
    // Logical segment numbers start at 1.
    for (size_t number = 1; number <= count; ++number) {
        DcmSegment *segment = segmentation.getSegment(number);
        if (segment == nullptr) continue;
        if (!first) list += ',';
        first = false;
        JSONObject item(list);
        item.number("number", static_cast<double>(number));
        OFString value;
        segment->getSegmentLabel(value);
        item.field("label", value);
        value.clear();
        segment->getSegmentDescription(value);
        item.field("description", value);
        item.field("algorithmType", DcmSegTypes::algoType2OFString(segment->getSegmentAlgorithmType()));
        value.clear();
        segment->getSegmentAlgorithmName(value);
        item.field("algorithmName", value);
        AlgorithmIdentificationMacro &algorithm = segment->getSegmentationAlgorithmIdentification();
        value.clear();
        algorithm.getAlgorithmName(value);
        item.field("algorithmIdentificationName", value);
        value.clear();
        algorithm.getAlgorithmVersion(value);
        item.field("algorithmVersion", value);
        item.raw("algorithmFamily", codeJSON(algorithm.getAlgorithmFamilyCode()));
        item.raw("category", codeJSON(segment->getSegmentedPropertyCategoryCode()));
        item.raw("type", codeJSON(segment->getSegmentedPropertyTypeCode()));
        value.clear();
        segment->getTrackingID(value);
        item.field("trackingID", value);
        value.clear();
        segment->getTrackingUID(value);
        item.field("trackingUID", value);
        item.close();
    }
    list += ']';
    return list;
}

lbx_status loadFile(const char *path, lbx_ai_object &ai, lbx_error *error) {
    ai.file = std::make_unique<DcmFileFormat>();
    OFCondition condition = ai.file->loadFile(path);
    if (condition.bad()) return lbx::failCondition(error, LBX_ERR_IO, "cannot read", condition);
    DcmDataset &dataset = *ai.file->getDataset();
    if (lbx::nesting(dataset) > lbx::maximumNesting) {
        ai.file.reset();  // on the large stack: freeing nested items recurses
        return fail(error, LBX_ERR_PARSE, "sequences nested more than " + std::to_string(lbx::maximumNesting) + " levels deep");
    }
    if (dataset.findAndGetUint16(DCM_Rows, ai.rows).bad() || dataset.findAndGetUint16(DCM_Columns, ai.columns).bad() ||
        ai.rows == 0 || ai.columns == 0) {
        return fail(error, LBX_ERR_PARSE, "no Rows or Columns");
    }
    return LBX_OK;
}

/// Loads `path` (on a large stack), checks its SOP class and hands it to `body` to read as a
/// SEG or a map; the object is handed out only when all went well.
template <typename Body>
lbx_status openObject(const char *path, lbx_ai_object **out, lbx_error *error, const char *sopClassUID, const char *what, Body body) {
    return lbx::onLargeStack([&] { return guarded(error, [&]() -> lbx_status {
        lbx_dicom_initialize();
        if (path == nullptr || out == nullptr) return fail(error, LBX_ERR_ARGUMENT, "no path");
        *out = nullptr;
        auto ai = std::make_unique<lbx_ai_object>();
        lbx_status status = loadFile(path, *ai, error);
        if (status != LBX_OK) return status;
        const OFString sopClass = attribute(*ai->file->getDataset(), DCM_SOPClassUID);
        if (sopClass != sopClassUID) return fail(error, LBX_ERR_PARSE, std::string("not a ") + what + " (SOP Class " + sopClass.c_str() + ")");
        status = body(*ai);
        if (status != LBX_OK) return status;  // freed here, on the large stack
        *out = ai.release();
        return LBX_OK;
    }); });
}

} // namespace

extern "C" {

lbx_status lbx_seg_open(const char *path, lbx_ai_object **out, lbx_error *error) {
    return openObject(path, out, error, UID_SegmentationStorage, "Segmentation", [&](lbx_ai_object &ai) -> lbx_status {
        // The pixel data must hold every frame it declares (dcmseg reads past a short one otherwise).
        Sint32 declared = 0;
        ai.file->getDataset()->findAndGetSint32(DCM_NumberOfFrames, declared);
        Uint16 bits = 0;
        ai.file->getDataset()->findAndGetUint16(DCM_BitsAllocated, bits);
        DcmElement *pixels = nullptr;
        if (ai.file->getDataset()->findAndGetElement(DCM_PixelData, pixels).bad() || pixels == nullptr) {
            return fail(error, LBX_ERR_PARSE, "no Pixel Data");
        }
        const unsigned long long pixelCount = static_cast<unsigned long long>(ai.rows) * ai.columns * static_cast<unsigned long long>(declared > 0 ? declared : 0);
        const unsigned long long needed = bits == 1 ? (pixelCount + 7) / 8 : pixelCount;
        if (declared <= 0) return fail(error, LBX_ERR_PARSE, "no Number of Frames");
        DcmSequenceOfItems *perFrame = nullptr;
        if (ai.file->getDataset()->findAndGetSequence(DCM_PerFrameFunctionalGroupsSequence, perFrame).good() && perFrame != nullptr &&
            perFrame->card() != static_cast<unsigned long>(declared)) {
            return fail(error, LBX_ERR_PARSE, "Number of Frames says " + std::to_string(declared) + " but the per-frame functional groups describe " +
                                                  std::to_string(perFrame->card()));
        }
        if (pixels->getLength() < needed) {
            return fail(error, LBX_ERR_PARSE, "the pixel data is cut short: " + std::to_string(pixels->getLength()) + " bytes for " +
                                                  std::to_string(declared) + " frame(s) of " + std::to_string(ai.rows) + "×" +
                                                  std::to_string(ai.columns) + " needing " + std::to_string(needed));
        }
        DcmSegmentation *segmentation = nullptr;
        OFCondition condition = DcmSegmentation::loadDataset(*ai.file->getDataset(), segmentation);
        if (condition.bad() || segmentation == nullptr) {
            delete segmentation;
            return lbx::failCondition(error, LBX_ERR_PARSE, "not a readable segmentation", condition);
        }
        ai.segmentation = segmentation;
        if (segmentation->getNumberOfFrames() != static_cast<size_t>(declared)) {
            return fail(error, LBX_ERR_PARSE, "Number of Frames says " + std::to_string(declared) + " but the functional groups describe " +
                                                  std::to_string(segmentation->getNumberOfFrames()));
        }
        return LBX_OK;
    });
}

lbx_status lbx_pmap_open(const char *path, lbx_ai_object **out, lbx_error *error) {
    return openObject(path, out, error, UID_ParametricMapStorage, "Parametric Map", [&](lbx_ai_object &ai) -> lbx_status {
        OFvariant<OFCondition, DPMParametricMapIOD *> loaded = DPMParametricMapIOD::loadDataset(*ai.file->getDataset());
        if (OFCondition *condition = OFget<OFCondition>(&loaded)) {
            return lbx::failCondition(error, LBX_ERR_PARSE, "not a readable parametric map", *condition);
        }
        DPMParametricMapIOD **map = OFget<DPMParametricMapIOD *>(&loaded);
        if (map == nullptr || *map == nullptr) return fail(error, LBX_ERR_PARSE, "not a readable parametric map");
        ai.map = *map;
        DPMParametricMapIOD::FramesType frames = ai.map->getFrames();
        if (OFCondition *condition = OFget<OFCondition>(&frames)) {
            return lbx::failCondition(error, LBX_ERR_PARSE, "the map's frames cannot be read", *condition);
        }
        return LBX_OK;
    });
}

lbx_status lbx_ai_describe(lbx_ai_object *ai, lbx_ai_json_fn on_json, void *context, lbx_error *error) {
    return guarded(error, [&]() -> lbx_status {
        if (ai == nullptr || on_json == nullptr) return fail(error, LBX_ERR_ARGUMENT, "no object");
        DcmDataset &dataset = *ai->file->getDataset();
        std::string out;
        JSONObject object(out);
        identity(object, dataset);
        object.number("rows", ai->rows);
        object.number("columns", ai->columns);
        object.number("bitsAllocated", [&] { Uint16 bits = 0; dataset.findAndGetUint16(DCM_BitsAllocated, bits); return bits; }());
        object.number("frameCount", static_cast<double>(ai->frames()));
        if (ai->segmentation != nullptr) {
            object.field("kind", "SEG");
            DcmSegmentation &segmentation = *ai->segmentation;
            object.field("segmentationType", DcmSegTypes::segtype2OFString(segmentation.getSegmentationType()));
            if (segmentation.getSegmentationType() == DcmSegTypes::ST_FRACTIONAL) {
                object.field("fractionalType", segmentation.getSegmentationFractionalType() == DcmSegTypes::SFT_PROBABILITY ? "PROBABILITY" : segmentation.getSegmentationFractionalType() == DcmSegTypes::SFT_OCCUPANCY ? "OCCUPANCY" : "UNKNOWN");
                Uint16 maximum = 0;
                if (dataset.findAndGetUint16(DCM_MaximumFractionalValue, maximum).good()) object.number("maximumFractionalValue", maximum);
            }
            object.raw("segments", segmentsJSON(segmentation));
        } else {
            object.field("kind", "PM");
            object.raw("mappings", mappings(*ai));
        }
        frames(object, *ai);
        object.close();
        on_json(context, out.data(), out.size());
        return LBX_OK;
    });
}

size_t lbx_ai_frame_count(const lbx_ai_object *ai) {
    if (ai == nullptr) return 0;
    return const_cast<lbx_ai_object *>(ai)->frames();
}

lbx_status lbx_seg_frame(lbx_ai_object *ai, size_t index, uint8_t *out, size_t capacity, lbx_error *error) {
    return guarded(error, [&]() -> lbx_status {
        if (ai == nullptr || ai->segmentation == nullptr || out == nullptr) return fail(error, LBX_ERR_ARGUMENT, "no segmentation");
        const size_t pixels = static_cast<size_t>(ai->rows) * ai->columns;
        if (capacity < pixels) return fail(error, LBX_ERR_ARGUMENT, "buffer too small");
        if (index >= ai->segmentation->getNumberOfFrames()) return fail(error, LBX_ERR_ARGUMENT, "no frame " + std::to_string(index + 1));
        const DcmIODTypes::Frame *frame = ai->segmentation->getFrame(index);
        if (frame == nullptr || frame->pixData == nullptr) return fail(error, LBX_ERR_PARSE, "frame " + std::to_string(index + 1) + " has no pixel data");
        if (ai->segmentation->getSegmentationType() == DcmSegTypes::ST_BINARY) {
            if (frame->length < (pixels + 7) / 8) return fail(error, LBX_ERR_PARSE, "frame " + std::to_string(index + 1) + " is cut short");
            std::unique_ptr<DcmIODTypes::Frame> unpacked(DcmSegUtils::unpackBinaryFrame(frame, ai->rows, ai->columns));
            if (!unpacked || unpacked->length < pixels) return fail(error, LBX_ERR_PARSE, "frame " + std::to_string(index + 1) + " cannot be unpacked");
            for (size_t pixel = 0; pixel < pixels; ++pixel) out[pixel] = unpacked->pixData[pixel] != 0 ? 1 : 0;
        } else {
            if (frame->length < pixels) return fail(error, LBX_ERR_PARSE, "frame " + std::to_string(index + 1) + " is cut short");
            std::memcpy(out, frame->pixData, pixels);
        }
        return LBX_OK;
    });
}

lbx_status lbx_pmap_frame(lbx_ai_object *ai, size_t index, float *out, size_t capacity, lbx_error *error) {
    return guarded(error, [&]() -> lbx_status {
        if (ai == nullptr || ai->map == nullptr || out == nullptr) return fail(error, LBX_ERR_ARGUMENT, "no parametric map");
        const size_t pixels = static_cast<size_t>(ai->rows) * ai->columns;
        if (capacity < pixels) return fail(error, LBX_ERR_ARGUMENT, "buffer too small");
        if (index >= ai->map->getNumberOfFrames()) return fail(error, LBX_ERR_ARGUMENT, "no frame " + std::to_string(index + 1));
        DPMParametricMapIOD::FramesType frames = ai->map->getFrames();
        const auto copy = [&](auto *typed) -> lbx_status {
            if (typed == nullptr) return fail(error, LBX_ERR_PARSE, "frame " + std::to_string(index + 1) + " has no pixel data");
            for (size_t pixel = 0; pixel < pixels; ++pixel) out[pixel] = static_cast<float>(typed[pixel]);
            return LBX_OK;
        };
        if (auto *f32 = OFget<DPMParametricMapIOD::Frames<Float32>>(&frames)) return copy(f32->getFrame(index));
        if (auto *f64 = OFget<DPMParametricMapIOD::Frames<Float64>>(&frames)) return copy(f64->getFrame(index));
        if (auto *u16 = OFget<DPMParametricMapIOD::Frames<Uint16>>(&frames)) return copy(u16->getFrame(index));
        if (auto *s16 = OFget<DPMParametricMapIOD::Frames<Sint16>>(&frames)) return copy(s16->getFrame(index));
        return fail(error, LBX_ERR_PARSE, "the map's pixel type is not one of 16-bit integer, 32- or 64-bit float");
    });
}

void lbx_ai_close(lbx_ai_object *ai) { delete ai; }

} // extern "C"
