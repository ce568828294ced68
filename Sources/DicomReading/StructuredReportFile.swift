import CDicomShim
import Foundation
public import LightboxCore

/// DICOM Structured Reports through DCMTK's dcmsr and cmr (in the shim): a verdict written as a
/// TID 1500 Measurement Report (Comprehensive SR), and any SR's content tree read back.
public enum StructuredReportFile {
    /// Writes `report` at `path` (under a temporary name, renamed once whole). The patient and
    /// study attributes are copied from `template`, an image of the study; `library` images go
    /// into the report's image library. With `allowComment` false no free-text comment is
    /// written (it may hold identifiers).
    public static func write(_ report: VerdictReport, template: String, library: [String], allowComment: Bool, to path: String) throws {
        let strings = CStrings()
        defer { strings.free() }
        func code(_ concept: CodedConcept?) -> lbx_sr_code {
            guard let concept else { return lbx_sr_code(value: nil, scheme: nil, meaning: nil) }
            return lbx_sr_code(value: strings.make(concept.value), scheme: strings.make(concept.scheme), meaning: strings.make(concept.meaning))
        }
        func evaluations(verdict: DecisionAction?, reason: OverrideReason?, comment: String?, tier: ConfidenceTier?) -> [lbx_sr_evaluation] {
            var list: [lbx_sr_evaluation] = []
            if let tier { list.append(lbx_sr_evaluation(concept: code(VerdictCodes.tier), code: code(VerdictCodes.code(tier)), text: nil)) }
            if let verdict {
                list.append(lbx_sr_evaluation(concept: code(VerdictCodes.verdict), code: code(VerdictCodes.code(verdict)), text: nil))
            }
            if let reason {
                list.append(lbx_sr_evaluation(concept: code(VerdictCodes.reason), code: code(VerdictCodes.code(reason)), text: nil))
            }
            if allowComment, let comment, !comment.isEmpty {
                list.append(lbx_sr_evaluation(concept: code(VerdictCodes.comment), code: code(nil), text: strings.make(comment)))
            }
            return list
        }
        var groupEvaluations: [UnsafeMutableBufferPointer<lbx_sr_evaluation>] = []
        var groupMeasurements: [UnsafeMutableBufferPointer<lbx_sr_measurement>] = []
        var regions: [UnsafeMutablePointer<lbx_sr_region>] = []
        var pointBuffers: [UnsafeMutableBufferPointer<Float>] = []
        defer {
            groupEvaluations.forEach { $0.deallocate() }
            groupMeasurements.forEach { $0.deallocate() }
            regions.forEach { $0.deallocate() }
            pointBuffers.forEach { $0.deallocate() }
        }
        func buffer<T>(_ items: [T]) -> UnsafeMutableBufferPointer<T> {
            let pointer = UnsafeMutableBufferPointer<T>.allocate(capacity: max(1, items.count))
            _ = pointer.initialize(from: items)
            return pointer
        }
        var groups: [lbx_sr_group] = []
        for group in report.groups {
            let evaluationItems = evaluations(verdict: group.verdict, reason: group.reason, comment: group.comment, tier: group.tier)
            let evaluationList = buffer(evaluationItems)
            groupEvaluations.append(evaluationList)
            var measurementItems: [lbx_sr_measurement] = []
            if let probability = group.probability, probability.isFinite {
                measurementItems.append(lbx_sr_measurement(concept: code(VerdictCodes.probability), value: probability, unit: code(VerdictCodes.noUnits)))
            }
            if let peak = group.peak, peak.isFinite {
                measurementItems.append(lbx_sr_measurement(concept: code(VerdictCodes.peak), value: peak, unit: code(VerdictCodes.noUnits)))
            }
            let measurementList = buffer(measurementItems)
            groupMeasurements.append(measurementList)
            var regionPointer: UnsafeMutablePointer<lbx_sr_region>?
            if let region = group.region, region.points.count >= 4 {
                let points = buffer(region.points)
                pointBuffers.append(points)
                let pointer = UnsafeMutablePointer<lbx_sr_region>.allocate(capacity: 1)
                pointer.initialize(to: lbx_sr_region(concept: code(VerdictCodes.imageRegion), sop_class_uid: strings.make(region.sopClassUID),
                                                     sop_instance_uid: strings.make(region.sopInstanceUID),
                                                     points: UnsafePointer(points.baseAddress), point_count: region.points.count / 2))
                regions.append(pointer)
                regionPointer = pointer
            }
            groups.append(lbx_sr_group(tracking_id: strings.make(group.trackingID), tracking_uid: strings.make(group.trackingUID),
                                       finding: code(VerdictCodes.finding),
                                       measurements: UnsafePointer(measurementList.baseAddress), measurement_count: measurementItems.count,
                                       evaluations: UnsafePointer(evaluationList.baseAddress),
                                       evaluation_count: evaluationItems.count,
                                       region: UnsafePointer(regionPointer)))
        }
        // The decision's id and, for a decision on the whole study, the AI's study-level call and the verdict.
        var reportEvaluations = [lbx_sr_evaluation(concept: code(VerdictCodes.decisionID), code: code(nil), text: strings.make(report.decisionID))]
        reportEvaluations += evaluations(verdict: report.studyVerdict, reason: report.studyReason, comment: report.studyComment,
                                         tier: report.studyVerdict != nil ? report.studyTier : nil)
        let schemes = [lbx_sr_scheme(designator: strings.make(VerdictCodes.scheme), name: strings.make(VerdictCodes.schemeName),
                                     organization: strings.make(VerdictCodes.schemeOrganization))]
        let libraryStrings = library.map { strings.make($0) }
        let evidence = report.assessedObjects.map {
            lbx_sr_reference(study_instance_uid: strings.make($0.studyInstanceUID.isEmpty ? report.studyInstanceUID : $0.studyInstanceUID),
                             series_instance_uid: strings.make($0.seriesInstanceUID), sop_class_uid: strings.make($0.sopClassUID),
                             sop_instance_uid: strings.make($0.sopInstanceUID))
        }
        var error = lbx_error()
        let status: lbx_status = groups.withUnsafeBufferPointer { groupPointer in
            reportEvaluations.withUnsafeBufferPointer { evaluationPointer in
                schemes.withUnsafeBufferPointer { schemePointer in
                    libraryStrings.withUnsafeBufferPointer { libraryPointer in
                      evidence.withUnsafeBufferPointer { evidencePointer in
                        var native = lbx_sr_report(
                            template_image: strings.make(template), study_instance_uid: strings.make(report.studyInstanceUID),
                            series_instance_uid: strings.make(report.seriesInstanceUID), sop_instance_uid: strings.make(report.sopInstanceUID),
                            content_date: strings.make(report.contentDate), content_time: strings.make(report.contentTime),
                            series_number: 7001, instance_number: 1, series_description: strings.make("Lightbox AI result assessments"),
                            manufacturer: strings.make("Lightbox"), person_observer: strings.make(report.reader),
                            device_uid: strings.make(report.deviceUID), device_name: strings.make(report.model),
                            device_manufacturer: strings.make("Lightbox"), device_model: strings.make(report.modelVersion),
                            procedure: code(VerdictCodes.procedure), library_images: libraryPointer.baseAddress, library_count: libraryStrings.count,
                            groups: groupPointer.baseAddress, group_count: groups.count,
                            evaluations: evaluationPointer.baseAddress, evaluation_count: reportEvaluations.count,
                            schemes: schemePointer.baseAddress, scheme_count: schemes.count,
                            evidence: evidencePointer.baseAddress, evidence_count: evidence.count)
                        return lbx_sr_write(&native, path, &error)
                      }
                    }
                }
            }
        }
        if status != LBX_OK { throw DicomError(path: path, reason: ShimStatus.reason(status, error)) }
    }

    /// The content tree of the SR at `path`.
    public static func read(_ path: String) throws -> StructuredReportContent {
        final class Box { var data = Data() }
        let box = Box()
        var error = lbx_error()
        let status = lbx_sr_read(path, { context, json, length in
            guard let context, let json else { return }
            Unmanaged<Box>.fromOpaque(context).takeUnretainedValue().data = Data(bytes: json, count: length)
        }, Unmanaged.passUnretained(box).toOpaque(), &error)
        if status != LBX_OK { throw DicomError(path: path, reason: ShimStatus.reason(status, error)) }
        do { return try StructuredReportContent.decode(box.data) } catch {
            throw DicomError(path: path, reason: .malformed("the report's content could not be read (\(error))"))
        }
    }
}

/// C strings that live until `free()`.
final class CStrings {
    private var pointers: [UnsafeMutablePointer<CChar>] = []

    func make(_ text: String?) -> UnsafePointer<CChar>? {
        guard let text, let copy = strdup(text) else { return nil }
        pointers.append(copy)
        return UnsafePointer(copy)
    }

    func free() {
        pointers.forEach { Foundation.free($0) }
        pointers.removeAll()
    }
}
