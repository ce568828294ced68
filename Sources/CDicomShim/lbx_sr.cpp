// C++ over DCMTK's dcmsr and cmr behind lbx_sr.h. Every entry point catches every exception.
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmsr/dsrdoc.h"
#include "dcmtk/dcmsr/dsrcsidl.h"
#include "dcmtk/dcmsr/dsrreftn.h"
#include "dcmtk/dcmsr/cmr/tid1500.h"
#include "dcmtk/dcmsr/cmr/cid7021.h"
#include "dcmtk/dcmsr/cmr/cid100.h"
#include "dcmtk/dcmsr/cmr/cid5000.h"
#include "dcmtk/dcmsr/cmr/cid5001.h"
#include "dcmtk/dcmsr/cmr/init.h"

#include "lbx_sr.h"
#include "lbx_support.h"

#include <cmath>
#include <cstdio>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

namespace {

using lbx::fail;

/// The cmr context groups are built lazily and not thread-safe: built once, here, before any use.
void initializeSR() {
    static std::once_flag once;
    std::call_once(once, [] { CMR_ContentMappingResource::initializeAllContextGroups(); });
}
using lbx::guarded;
using lbx::appendEscaped;
using lbx::appendField;

std::string text(const char *value) { return value != nullptr ? value : ""; }

DSRCodedEntryValue coded(const lbx_sr_code &code) {
    // Not checked against DCMTK's own tables: private codes and schemes are the point here.
    return DSRCodedEntryValue(text(code.value), text(code.scheme), text(code.meaning), DSRTypes::CVT_auto, OFFalse);
}

bool present(const lbx_sr_code &code) { return code.value != nullptr && *code.value != 0; }

/// Steps through `what`, stopping at the first failure with its condition in the message.
struct Steps {
    std::string failure;
    bool ok(const OFCondition &condition, const std::string &what) {
        if (condition.good() || !failure.empty()) return failure.empty();
        failure = what + ": " + condition.text();
        return false;
    }
};

std::string number(double value) {
    char buffer[32];
    // DS allows 16 characters.
    std::snprintf(buffer, sizeof(buffer), "%.6g", value);
    return buffer;
}

/// The patient and study attributes an SR must share with its study's images; `typeTwo` ones are
/// written empty when the image lacks them, the others left out.
struct CopiedTag {
    DcmTagKey tag;
    bool typeTwo;
};
const CopiedTag copiedTags[] = {
    {DCM_PatientName, true}, {DCM_PatientID, true}, {DCM_IssuerOfPatientID, false}, {DCM_PatientBirthDate, true},
    {DCM_PatientSex, true}, {DCM_StudyDate, true}, {DCM_StudyTime, true}, {DCM_AccessionNumber, true},
    {DCM_ReferringPhysicianName, true}, {DCM_StudyID, true}, {DCM_StudyDescription, false},
};

// MARK: reading

void appendCode(std::string &out, const char *name, const DSRCodedEntryValue &code, bool &first) {
    if (code.getCodeValue().empty() && code.getCodeMeaning().empty()) return;
    if (!first) out += ',';
    first = false;
    appendEscaped(out, name);
    out += ":{";
    bool inner = true;
    appendField(out, "value", code.getCodeValue().c_str(), inner);
    appendField(out, "scheme", code.getCodingSchemeDesignator().c_str(), inner);
    appendField(out, "meaning", code.getCodeMeaning().c_str(), inner);
    out += '}';
}

} // namespace

extern "C" {

lbx_status lbx_sr_write(const lbx_sr_report *report, const char *path, lbx_error *error) {
    return guarded(error, [&]() -> lbx_status {
        lbx_dicom_initialize();
        if (report == nullptr || path == nullptr || report->template_image == nullptr || report->sop_instance_uid == nullptr ||
            report->series_instance_uid == nullptr || report->study_instance_uid == nullptr) {
            return fail(error, LBX_ERR_ARGUMENT, "an SR needs a template image, a path and its UIDs");
        }
        initializeSR();
        DcmFileFormat image;
        OFCondition condition = image.loadFile(report->template_image, EXS_Unknown, EGL_noChange, 4096);
        if (condition.bad()) return lbx::failCondition(error, LBX_ERR_IO, "cannot read the study's image " + std::string(report->template_image), condition);
        DcmDataset *imageData = image.getDataset();
        // The patient's name in the report's UTF-8 (a no-op for images without a character set).
        OFString imageCharset;
        imageData->findAndGetOFStringArray(DCM_SpecificCharacterSet, imageCharset);
        const bool copiedAsUTF8 = imageCharset.empty() || imageCharset == "ISO_IR 192" || imageData->convertToUTF8().good();

        Steps steps;
        TID1500_MeasurementReport tid(CMR_CID7021::ImagingMeasurementReport);
        steps.ok(tid.setLanguage(CID5000_Languages::English, CID5001_Countries::UnitedStates), "language");
        if (report->person_observer != nullptr && *report->person_observer != 0) {
            steps.ok(tid.getObservationContext().addPersonObserver(report->person_observer, ""), "person observer");
        }
        if (report->device_uid != nullptr) {
            steps.ok(tid.getObservationContext().addDeviceObserver(report->device_uid, text(report->device_name),
                                                                  text(report->device_manufacturer), text(report->device_model)),
                     "device observer");
        }
        steps.ok(tid.addProcedureReported(CID100_QuantitativeDiagnosticImagingProcedures(coded(report->procedure)), OFFalse),
                 "procedure reported");
        if (report->library_count > 0) {
            steps.ok(tid.getImageLibrary().createNewImageLibrary(), "image library");
            steps.ok(tid.getImageLibrary().addImageGroup(), "image library group");
        }
        for (size_t index = 0; index < report->library_count; ++index) {
            DcmFileFormat entry;
            if (entry.loadFile(report->library_images[index], EXS_Unknown, EGL_noChange, 256).good()) {
                steps.ok(tid.getImageLibrary().addImageEntry(*entry.getDataset(), TID1600_ImageLibrary::withoutDescriptors),
                         "image library entry");
            }
        }
        for (size_t index = 0; index < report->group_count && steps.failure.empty(); ++index) {
            const lbx_sr_group &group = report->groups[index];
            steps.ok(tid.addIndividualMeasurements(OFFalse), "measurement group");
            CMR_TID1501_in_TID1500 &measurements = tid.getIndividualMeasurements();
            steps.ok(measurements.setTrackingIdentifier(text(group.tracking_id)), "tracking identifier");
            steps.ok(measurements.setTrackingUniqueIdentifier(text(group.tracking_uid)), "tracking UID");
            if (present(group.finding)) steps.ok(measurements.setFinding(coded(group.finding), OFFalse), "finding");
            for (size_t m = 0; m < group.measurement_count; ++m) {
                const lbx_sr_measurement &measurement = group.measurements[m];
                if (!std::isfinite(measurement.value)) continue;
                CMR_SRNumericMeasurementValue value(number(measurement.value).c_str(), coded(measurement.unit), OFFalse);
                steps.ok(measurements.addMeasurement(CID7469_GenericIntensityAndSizeMeasurements(coded(measurement.concept)), value,
                                                     OFFalse, OFFalse),
                         "measurement");
            }
            for (size_t e = 0; e < group.evaluation_count; ++e) {
                const lbx_sr_evaluation &evaluation = group.evaluations[e];
                if (present(evaluation.code)) {
                    steps.ok(measurements.addQualitativeEvaluation(coded(evaluation.concept), coded(evaluation.code), OFFalse), "evaluation");
                } else if (evaluation.text != nullptr) {
                    steps.ok(measurements.addQualitativeEvaluation(coded(evaluation.concept), OFString(evaluation.text), OFFalse), "evaluation");
                }
            }
        }
        for (size_t e = 0; e < report->evaluation_count; ++e) {
            const lbx_sr_evaluation &evaluation = report->evaluations[e];
            if (present(evaluation.code)) {
                steps.ok(tid.addQualitativeEvaluation(coded(evaluation.concept), coded(evaluation.code), OFFalse), "evaluation");
            } else if (evaluation.text != nullptr) {
                steps.ok(tid.addQualitativeEvaluation(coded(evaluation.concept), OFString(evaluation.text), OFFalse), "evaluation");
            }
        }
        if (!steps.failure.empty()) return fail(error, LBX_ERR_WRITE, "cannot build the report: " + steps.failure);

        DSRDocument document(DSRTypes::DT_ComprehensiveSR);
        condition = document.setTreeFromRootTemplate(tid, OFTrue);
        if (condition.bad()) return lbx::failCondition(error, LBX_ERR_WRITE, "the report is not a valid TID 1500 tree", condition);
        // Each finding's place on its image, as TID 1410 draws an image region: a polyline
        // selected from the image, inside the finding's measurement group (the groups in order).
        DSRDocumentTree &tree = document.getTree();
        std::vector<size_t> groupNodes;
        const DSRCodedEntryValue groupConcept("125007", "DCM", "Measurement Group");
        if (tree.gotoRoot() > 0) {
            do {
                const DSRContentItem &item = tree.getCurrentContentItem();
                if (item.getValueType() == DSRTypes::VT_Container && item.getConceptName() == groupConcept) groupNodes.push_back(tree.getNodeID());
            } while (tree.iterate());
        }
        for (size_t index = 0; index < report->group_count && index < groupNodes.size(); ++index) {
            const lbx_sr_region *region = report->groups[index].region;
            if (region == nullptr || region->point_count < 2 || region->sop_instance_uid == nullptr) continue;
            DSRSpatialCoordinatesValue polyline(DSRTypes::GT_Polyline);
            for (size_t p = 0; p < region->point_count; ++p) {
                polyline.getGraphicDataList().addItem(region->points[2 * p], region->points[2 * p + 1]);
            }
            if (tree.gotoNode(groupNodes[index]) == 0 ||
                tree.addContentItem(DSRTypes::RT_contains, DSRTypes::VT_SCoord, DSRTypes::AM_belowCurrent) == 0) {
                return fail(error, LBX_ERR_WRITE, "cannot add the image region of finding " + std::to_string(index + 1));
            }
            tree.getCurrentContentItem().setConceptName(coded(region->concept), OFFalse);
            tree.getCurrentContentItem().setSpatialCoordinates(polyline, OFFalse);
            if (tree.addContentItem(DSRTypes::RT_selectedFrom, DSRTypes::VT_Image, DSRTypes::AM_belowCurrent) == 0) {
                return fail(error, LBX_ERR_WRITE, "cannot add the image of finding " + std::to_string(index + 1));
            }
            tree.getCurrentContentItem().setImageReference(
                DSRImageReferenceValue(text(region->sop_class_uid), text(region->sop_instance_uid), OFFalse), OFFalse);
        }
        document.setSpecificCharacterSetType(DSRTypes::CS_UTF8);
        for (size_t index = 0; index < report->scheme_count; ++index) {
            const lbx_sr_scheme &scheme = report->schemes[index];
            document.getCodingSchemeIdentification().addItem(text(scheme.designator), "", text(scheme.name), text(scheme.organization), OFFalse);
        }
        document.setSeriesDescription(text(report->series_description), OFFalse);
        document.setManufacturer(text(report->manufacturer), OFFalse);
        document.setContentDate(text(report->content_date), OFFalse);
        document.setContentTime(text(report->content_time), OFFalse);
        document.completeDocument();
        for (size_t index = 0; index < report->evidence_count; ++index) {
            const lbx_sr_reference &reference = report->evidence[index];
            if (reference.sop_instance_uid == nullptr) continue;
            document.getCurrentRequestedProcedureEvidence().addItem(text(reference.study_instance_uid), text(reference.series_instance_uid),
                                                                    text(reference.sop_class_uid), text(reference.sop_instance_uid), OFFalse);
        }

        DcmFileFormat file;
        DcmDataset *dataset = file.getDataset();
        condition = document.write(*dataset);
        if (condition.bad()) return lbx::failCondition(error, LBX_ERR_WRITE, "cannot encode the report", condition);
        // The UIDs and times the caller derived (the same decision gives the same object, byte
        // for byte), and the patient and study the images carry.
        dataset->putAndInsertString(DCM_StudyInstanceUID, report->study_instance_uid);
        dataset->putAndInsertString(DCM_SeriesInstanceUID, report->series_instance_uid);
        dataset->putAndInsertString(DCM_SOPInstanceUID, report->sop_instance_uid);
        dataset->putAndInsertString(DCM_InstanceCreationDate, text(report->content_date).c_str());
        dataset->putAndInsertString(DCM_InstanceCreationTime, text(report->content_time).c_str());
        dataset->putAndInsertString(DCM_SeriesNumber, std::to_string(report->series_number).c_str());
        dataset->putAndInsertString(DCM_InstanceNumber, std::to_string(report->instance_number).c_str());
        dataset->putAndInsertString(DCM_SeriesDate, text(report->content_date).c_str());
        dataset->putAndInsertString(DCM_SeriesTime, text(report->content_time).c_str());
        for (const CopiedTag &copied : copiedTags) {
            DcmElement *element = nullptr;
            if (imageData->findAndGetElement(copied.tag, element).good() && element != nullptr) {
                OFString value;
                element->getOFStringArray(value);
                dataset->putAndInsertOFStringArray(copied.tag, value);
            } else if (copied.typeTwo) {
                dataset->putAndInsertString(copied.tag, "");
            } else {
                delete dataset->remove(copied.tag);
            }
        }
        // The report is UTF-8; names copied from images in another character set were converted
        // to it above (or, where DCMTK cannot convert, are labelled with the images' own set).
        if (!copiedAsUTF8) {
            OFString charset;
            if (imageData->findAndGetOFStringArray(DCM_SpecificCharacterSet, charset).good() && !charset.empty()) {
                dataset->putAndInsertOFStringArray(DCM_SpecificCharacterSet, charset);
            }
        }
        const std::string partial = std::string(path) + ".partial";
        condition = file.saveFile(partial.c_str(), EXS_LittleEndianExplicit, EET_ExplicitLength, EGL_recalcGL, EPD_noChange, 0, 0,
                                  EWM_createNewMeta);
        if (condition.bad()) {
            std::remove(partial.c_str());
            return lbx::failCondition(error, LBX_ERR_WRITE, "cannot save", condition);
        }
        if (std::rename(partial.c_str(), path) != 0) {
            std::remove(partial.c_str());
            return fail(error, LBX_ERR_WRITE, "cannot rename the written file into place");
        }
        return LBX_OK;
    });
}

lbx_status lbx_sr_read(const char *path, lbx_sr_json_fn on_json, void *context, lbx_error *error) {
    return lbx::onLargeStack([&] { return guarded(error, [&]() -> lbx_status {
        lbx_dicom_initialize();
        if (path == nullptr || on_json == nullptr) return fail(error, LBX_ERR_ARGUMENT, "no path");
        DcmFileFormat file;
        OFCondition condition = file.loadFile(path);
        if (condition.bad()) return lbx::failCondition(error, LBX_ERR_IO, "cannot read", condition);
        if (lbx::nesting(*file.getDataset()) > lbx::maximumNesting) {
            return fail(error, LBX_ERR_PARSE, "content nested more than " + std::to_string(lbx::maximumNesting) + " levels deep");
        }
        DSRDocument document;
        condition = document.read(*file.getDataset());
        if (condition.bad()) return lbx::failCondition(error, LBX_ERR_PARSE, "not a readable structured report", condition);
        std::string out = "{\"document\":{";
        bool first = true;
        OFString value;
        const auto attribute = [&](const char *name, const DcmTagKey &tag) {
            value.clear();
            file.getDataset()->findAndGetOFStringArray(tag, value);
            appendField(out, name, value.c_str(), first);
        };
        attribute("sopClassUID", DCM_SOPClassUID);
        attribute("sopInstanceUID", DCM_SOPInstanceUID);
        attribute("seriesInstanceUID", DCM_SeriesInstanceUID);
        attribute("studyInstanceUID", DCM_StudyInstanceUID);
        attribute("contentDate", DCM_ContentDate);
        attribute("contentTime", DCM_ContentTime);
        attribute("seriesDescription", DCM_SeriesDescription);
        attribute("manufacturer", DCM_Manufacturer);
        attribute("modality", DCM_Modality);
        // The evidence: every instance the report says it used, in this study or another.
        out += ",\"evidence\":[";
        bool firstEvidence = true;
        const DcmTagKey lists[] = {DCM_CurrentRequestedProcedureEvidenceSequence, DCM_PertinentOtherEvidenceSequence};
        for (const DcmTagKey &list : lists) {
            DcmSequenceOfItems *studies = nullptr;
            if (file.getDataset()->findAndGetSequence(list, studies).bad() || studies == nullptr) continue;
            for (unsigned long s = 0; s < studies->card(); ++s) {
                DcmItem *study = studies->getItem(s);
                OFString studyUID;
                study->findAndGetOFString(DCM_StudyInstanceUID, studyUID);
                DcmSequenceOfItems *series = nullptr;
                if (study->findAndGetSequence(DCM_ReferencedSeriesSequence, series).bad() || series == nullptr) continue;
                for (unsigned long r = 0; r < series->card(); ++r) {
                    DcmSequenceOfItems *instances = nullptr;
                    if (series->getItem(r)->findAndGetSequence(DCM_ReferencedSOPSequence, instances).bad() || instances == nullptr) continue;
                    for (unsigned long i = 0; i < instances->card(); ++i) {
                        OFString uid, classUID;
                        instances->getItem(i)->findAndGetOFString(DCM_ReferencedSOPInstanceUID, uid);
                        instances->getItem(i)->findAndGetOFString(DCM_ReferencedSOPClassUID, classUID);
                        if (!firstEvidence) out += ',';
                        firstEvidence = false;
                        out += '{';
                        bool inner = true;
                        appendField(out, "studyInstanceUID", studyUID.c_str(), inner);
                        appendField(out, "sopInstanceUID", uid.c_str(), inner);
                        appendField(out, "sopClassUID", classUID.c_str(), inner);
                        out += '}';
                    }
                }
            }
        }
        out += "]";
        out += "},\"items\":[";
        DSRDocumentTree &tree = document.getTree();
        bool firstItem = true;
        if (tree.gotoRoot() > 0) {
            do {
                const DSRContentItem &item = tree.getCurrentContentItem();
                if (!firstItem) out += ',';
                firstItem = false;
                out += '{';
                bool field = true;
                appendField(out, "level", std::to_string(tree.getLevel()), field);
                OFString position;
                appendField(out, "position", tree.getPosition(position).c_str(), field);
                appendField(out, "relationship", DSRTypes::relationshipTypeToDefinedTerm(item.getRelationshipType()), field);
                appendField(out, "type", DSRTypes::valueTypeToDefinedTerm(item.getValueType()), field);
                appendCode(out, "concept", item.getConceptName(), field);
                switch (item.getValueType()) {
                case DSRTypes::VT_Code:
                    appendCode(out, "code", item.getCodeValue(), field);
                    break;
                case DSRTypes::VT_Num: {
                    const DSRNumericMeasurementValue &numeric = item.getNumericValue();
                    appendField(out, "number", numeric.getNumericValue().c_str(), field);
                    appendCode(out, "unit", numeric.getMeasurementUnit(), field);
                    break;
                }
                case DSRTypes::VT_SCoord: {
                    DSRSpatialCoordinatesValue coordinates = item.getSpatialCoordinates();
                    appendField(out, "graphicType", DSRTypes::graphicTypeToEnumeratedValue(coordinates.getGraphicType()), field);
                    std::ostringstream points;
                    const DSRGraphicDataList &list = coordinates.getGraphicDataList();
                    for (size_t index = 1; index <= list.getNumberOfItems(); ++index) {
                        Float32 column = 0, row = 0;
                        if (list.getItem(index, column, row).good()) points << (index > 1 ? " " : "") << column << " " << row;
                    }
                    appendField(out, "points", points.str(), field);
                    break;
                }
                case DSRTypes::VT_SCoord3D: {
                    DSRSpatialCoordinates3DValue coordinates = item.getSpatialCoordinates3D();
                    appendField(out, "graphicType", DSRTypes::graphicType3DToEnumeratedValue(coordinates.getGraphicType()), field);
                    std::ostringstream points;
                    const DSRGraphicData3DList &list = coordinates.getGraphicDataList();
                    for (size_t index = 1; index <= list.getNumberOfItems(); ++index) {
                        Float32 x = 0, y = 0, z = 0;
                        if (list.getItem(index, x, y, z).good()) points << (index > 1 ? " " : "") << x << " " << y << " " << z;
                    }
                    appendField(out, "points", points.str(), field);
                    appendField(out, "frameOfReferenceUID", coordinates.getFrameOfReferenceUID().c_str(), field);
                    break;
                }
                case DSRTypes::VT_Image: {
                    const DSRImageReferenceValue &image = item.getImageReference();
                    appendField(out, "sopClassUID", image.getSOPClassUID().c_str(), field);
                    appendField(out, "sopInstanceUID", image.getSOPInstanceUID().c_str(), field);
                    const auto numbers = [&](const char *name, const auto &list) {
                        if (list.getNumberOfItems() == 0) return;
                        std::ostringstream text;
                        for (size_t index = 1; index <= list.getNumberOfItems(); ++index) text << (index > 1 ? " " : "") << list.getItem(index);
                        appendField(out, name, text.str(), field);
                    };
                    numbers("frames", image.getFrameList());
                    numbers("segments", image.getSegmentList());
                    break;
                }
                case DSRTypes::VT_Composite: {
                    const DSRCompositeReferenceValue &composite = item.getCompositeReference();
                    appendField(out, "sopClassUID", composite.getSOPClassUID().c_str(), field);
                    appendField(out, "sopInstanceUID", composite.getSOPInstanceUID().c_str(), field);
                    break;
                }
                case DSRTypes::VT_byReference: {
                    // The target's position ("1.2.3"); the reader never follows it, so a reference
                    // to an ancestor cannot loop.
                    if (auto *node = dynamic_cast<const DSRByReferenceTreeNode *>(tree.getCurrentNode())) {
                        appendField(out, "target", node->getReferencedContentItem().c_str(), field);
                    }
                    break;
                }
                case DSRTypes::VT_Container:
                    break;
                default:
                    appendField(out, "text", item.getStringValue().c_str(), field);
                }
                out += '}';
            } while (tree.iterate());
        }
        out += "]}";
        on_json(context, out.data(), out.size());
        return LBX_OK;
    }); });
}

} // extern "C"
