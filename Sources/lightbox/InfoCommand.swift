import ArgumentParser
import DicomReading
import Foundation
import LightboxServices
import LightboxCore

/// `lightbox info FILE`: the header summary and whether the pixels decode.
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a DICOM file's header summary and check that its pixels decode.")

    @Argument(help: "The DICOM file.")
    var file: String

    @Flag(help: "Print as JSON.")
    var json = false

    @Flag(name: .customLong("show-identifiers"), help: "Show patient name, ID and birth date (masked by default).")
    var showIdentifiers = false

    func run() throws {
        let opened: DicomFile
        do { opened = try DicomFile.open(file) } catch { throw CLIFailure(error.description) }
        let header = opened.header()
        let identifiers: IdentifierDisplay = showIdentifiers ? .shown : .masked
        var decodeStatus = "ok"
        var failure: DicomError?
        var range: (Float, Float)?
        do {
            let image = try opened.decode()
            range = image.values.reduce((Float.infinity, -Float.infinity)) { (min($0.0, $1), max($0.1, $1)) }
        } catch {
            failure = error
            if case .noPixelData(let sopClass) = error.reason, StorageClass.neverCarriesPixels(sopClass) {
                decodeStatus = "no pixel data"
            } else {
                decodeStatus = "failed"
            }
        }
        let info = try? opened.pixelInfo()
        var structuredReport: StructuredReportInfo?
        var reportError: String?
        var content: StructuredReportContent?
        if header.sopClassUID.hasPrefix("1.2.840.10008.5.1.4.1.1.88.") {
            do {
                content = try StructuredReportFile.read(file)
                structuredReport = content.map { StructuredReportInfo($0, showComments: showIdentifiers) }
            } catch {
                reportError = "\(error)"
            }
        }
        // Other systems' AI results: a SEG, a parametric map or a TID 1500 report.
        var aiObject: AIObjectInfo?
        var aiObjectError: DicomError?
        switch AIObjectInfo.read(file, sopClassUID: header.sopClassUID, content: content) {
        case .success(let info)?:
            aiObject = info
            // A map's float pixels are read by dcmpmap, not the image decoder.
            if header.sopClassUID == StorageClass.parametricMap, case .noPixelData? = failure?.reason {
                failure = nil
                decodeStatus = "ok (float map, read by dcmpmap)"
            }
        case .failure(let error)?: aiObjectError = error
        case nil: break
        }
        var report = InfoReport(
            file: file, sopClassUID: header.sopClassUID, sopInstanceUID: header.sopInstanceUID,
            studyInstanceUID: header.studyInstanceUID, seriesInstanceUID: header.seriesInstanceUID,
            patientName: identifiers.show(header.patientName, personName: true), patientID: identifiers.show(header.patientID),
            patientBirthDate: identifiers.show(header.patientBirthDate), patientSex: SafeText.sanitize(header.patientSex),
            modality: SafeText.sanitize(header.modality), studyDate: SafeText.sanitize(header.studyDate),
            studyDescription: SafeText.sanitize(header.studyDescription), seriesDescription: SafeText.sanitize(header.seriesDescription),
            manufacturer: SafeText.sanitize(header.manufacturer), manufacturerModelName: SafeText.sanitize(header.manufacturerModelName),
            bodyPartExamined: SafeText.sanitize(header.bodyPartExamined),
            seriesNumber: header.seriesNumber, instanceNumber: header.instanceNumber,
            rows: header.rows, columns: header.columns, frames: header.numberOfFrames, samplesPerPixel: header.samplesPerPixel,
            photometricInterpretation: SafeText.sanitize(header.photometricInterpretation),
            bitsAllocated: header.bitsAllocated, bitsStored: header.bitsStored, highBit: header.highBit,
            pixelRepresentation: header.pixelRepresentation, pixelSpacing: header.pixelSpacing,
            sliceThickness: header.sliceThickness, imagePositionPatient: header.imagePositionPatient,
            imageOrientationPatient: header.imageOrientationPatient, rescaleSlope: header.rescaleSlope,
            rescaleIntercept: header.rescaleIntercept, windowCenter: header.windowCenters.first, windowWidth: header.windowWidths.first,
            transferSyntaxUID: info?.transferSyntaxUID ?? header.transferSyntaxUID, transferSyntaxName: info?.transferSyntaxName ?? "",
            pixels: decodeStatus, pixelError: failure.map { $0.reason.text },
            valueRange: range.map { [Double($0.0), Double($0.1)] })
        report.structuredReport = structuredReport
        report.structuredReportError = reportError
        report.aiObject = aiObject
        report.aiObjectError = aiObjectError.map { $0.reason.text }
        if json {
            CLI.write(try CLI.json(report))
        } else {
            CLI.write(report.text())
        }
        // Reports and other objects that never carry pixels are fine; an image without them is not.
        // A report whose content tree cannot be read says so in its "Report" row; the exit status
        // is about the pixels, as for every object.
        if let aiObjectError {
            CLI.printError(aiObjectError.description)
            throw ExitCode(1)
        }
        if let failure {
            if case .noPixelData(let sopClass) = failure.reason, StorageClass.neverCarriesPixels(sopClass) { return }
            CLI.printError(failure.description)
            throw ExitCode(1)
        }
    }
}

/// What `info` prints.
struct InfoReport: Encodable {
    let file, sopClassUID, sopInstanceUID, studyInstanceUID, seriesInstanceUID: String
    let patientName, patientID, patientBirthDate, patientSex, modality, studyDate, studyDescription, seriesDescription: String
    let manufacturer, manufacturerModelName, bodyPartExamined: String
    let seriesNumber, instanceNumber: Int?
    let rows, columns, frames, samplesPerPixel: Int
    let photometricInterpretation: String
    let bitsAllocated, bitsStored, highBit, pixelRepresentation: Int
    let pixelSpacing: [Double]?
    let sliceThickness: Double?
    let imagePositionPatient, imageOrientationPatient: [Double]?
    let rescaleSlope, rescaleIntercept: Double
    let windowCenter, windowWidth: Double?
    let transferSyntaxUID, transferSyntaxName, pixels: String
    let pixelError: String?
    let valueRange: [Double]?
    var structuredReport: StructuredReportInfo?
    var structuredReportError: String?
    var aiObject: AIObjectInfo?
    var aiObjectError: String?

    func text() -> String {
        func numbers(_ values: [Double]?) -> String { values.map { $0.map { String(format: "%g", $0) }.joined(separator: " \\ ") } ?? "—" }
        func orDash(_ text: String) -> String { text.isEmpty ? "—" : text }
        let rows: [(String, String)] = [
            ("File", SafeText.sanitize(file)),
            ("Patient", "\(orDash(patientName))  ID \(orDash(patientID))  born \(orDash(patientBirthDate))  sex \(orDash(patientSex))"),
            ("Modality", "\(orDash(modality))   body part \(orDash(bodyPartExamined))"),
            ("Study", "\(orDash(studyDate))  \(orDash(studyDescription))"),
            ("Series", "\(seriesNumber.map(String.init) ?? "—")  \(orDash(seriesDescription))   instance \(instanceNumber.map(String.init) ?? "—")"),
            ("Equipment", "\(orDash(manufacturer)) \(manufacturerModelName)"),
            ("Study UID", orDash(studyInstanceUID)),
            ("Series UID", orDash(seriesInstanceUID)),
            ("SOP", "\(orDash(sopClassUID))  \(orDash(sopInstanceUID))"),
            ("Size", "\(columns) × \(rows) px, \(frames) frame\(frames == 1 ? "" : "s"), \(samplesPerPixel) sample\(samplesPerPixel == 1 ? "" : "s")/px, \(orDash(photometricInterpretation))"),
            ("Bits", "allocated \(bitsAllocated), stored \(bitsStored), high bit \(highBit), \(pixelRepresentation == 1 ? "signed" : "unsigned")"),
            ("Spacing", "\(numbers(pixelSpacing)) mm   slice thickness \(sliceThickness.map { String(format: "%g mm", $0) } ?? "—")"),
            ("Position", numbers(imagePositionPatient)),
            ("Orientation", numbers(imageOrientationPatient)),
            ("Rescale", String(format: "slope %g, intercept %g", rescaleSlope, rescaleIntercept)),
            ("Window", windowCenter.map { c in String(format: "centre %g, width %g", c, windowWidth ?? 0) } ?? "none stored"),
            ("Transfer syntax", "\(transferSyntaxName) (\(transferSyntaxUID))"),
            ("Pixels", pixelError.map { "\(pixels): \($0)" }
                ?? (valueRange.map { String(format: "decode ok, values %g … %g", $0[0], $0[1]) } ?? pixels)),
        ]
        var all = rows
        if let structuredReport { all += structuredReport.rows }
        if let structuredReportError { all.append(("Report", "unreadable: \(structuredReportError)")) }
        if let aiObject { all += aiObject.rows.map { ($0.label, $0.text) } }
        if let aiObjectError { all.append(("AI object", "unreadable: \(SafeText.sanitize(aiObjectError))")) }
        return all.map { "\($0.0.padding(toLength: 16, withPad: " ", startingAt: 0))\($0.1)" }.joined(separator: "\n") + "\n"
    }
}

/// An SR's content as `info` shows it: its title and size, and a verdict report read back.
struct StructuredReportInfo: Encodable {
    struct Finding: Encodable {
        let trackingID, trackingUID: String?
        let probability, peak: Double?
        let tier, verdict, reason, comment: String?
        let regionImage: String?
        let regionPoints: [Float]
    }

    let title: String
    let items: Int
    let verdict: String?
    let decisionID: String?
    let reader: String?
    let model: String?
    let modelVersion: String?
    let findings: [Finding]

    init(_ content: StructuredReportContent, showComments: Bool) {
        title = content.items.first?.concept?.meaning ?? ""
        items = content.items.count
        let back = VerdictReadBack(content)
        verdict = back?.summary
        decisionID = back?.decisionID
        reader = back?.reader
        model = back?.model
        modelVersion = back?.modelVersion
        func comment(_ text: String?) -> String? {
            guard let text else { return nil }
            return showComments ? SafeText.sanitize(text) : "(withheld: it may name the patient; --show-identifiers shows it)"
        }
        findings = (back?.groups ?? []).map {
            Finding(trackingID: $0.trackingID, trackingUID: $0.trackingUID, probability: $0.probability, peak: $0.peak, tier: $0.tier?.rawValue,
                    verdict: $0.verdict?.rawValue, reason: $0.reason?.rawValue, comment: comment($0.comment), regionImage: $0.regionImage,
                    regionPoints: $0.regionPoints)
        }
    }

    var rows: [(String, String)] {
        var rows: [(String, String)] = [("Report", "\(SafeText.sanitize(title)) (\(items) content items)")]
        if let verdict { rows.append(("Verdict", SafeText.sanitize(verdict))) }
        if let decisionID { rows.append(("Decision", SafeText.sanitize(decisionID))) }
        for (index, finding) in findings.enumerated() {
            var words = [SafeText.sanitize(finding.trackingID ?? "finding \(index + 1)")]
            if let probability = finding.probability { words.append(String(format: "probability %.2f", probability)) }
            if let peak = finding.peak { words.append(String(format: "peak %.2f", peak)) }
            if let tier = finding.tier { words.append("tier \(tier)") }
            if let verdict = finding.verdict { words.append("verdict \(verdict)" + (finding.reason.map { " (\($0))" } ?? "")) }
            if finding.regionPoints.count >= 4 {
                let xs = stride(from: 0, to: finding.regionPoints.count, by: 2).map { finding.regionPoints[$0] }
                let ys = stride(from: 1, to: finding.regionPoints.count, by: 2).map { finding.regionPoints[$0] }
                words.append(String(format: "region x %g–%g y %g–%g", xs.min() ?? 0, xs.max() ?? 0, ys.min() ?? 0, ys.max() ?? 0)
                             + (finding.regionImage.map { " on \(SafeText.sanitize($0))" } ?? ""))
            }
            if let uid = finding.trackingUID { words.append("UID \(SafeText.sanitize(uid))") }
            rows.append(("Finding \(index + 1)", words.joined(separator: ", ")))
            if let comment = finding.comment { rows.append(("  comment", comment)) }
        }
        return rows
    }
}

/// Another system's AI object as `info` shows it: a SEG's segments and source references, a
/// map's value mapping and range, a TID 1500 report's groups.
struct AIObjectInfo: Encodable {
    let kind: String
    let source: String
    var rows: [Row] = []

    struct Row: Encodable {
        let label, text: String
    }


    /// Nil for objects that are not SEG, map or measurement report.
    static func read(_ path: String, sopClassUID: String, content: StructuredReportContent?) -> Result<AIObjectInfo, DicomError>? {
        do {
            switch sopClassUID {
            case StorageClass.segmentation: return .success(segmentation(try SegmentationFile.open(path)))
            case StorageClass.parametricMap: return .success(try map(ParametricMapFile.open(path)))
            default:
                guard let content, VerdictReadBack(content) == nil, let report = MeasurementReportObject(content) else { return nil }
                return .success(measurementReport(report))
            }
        } catch let error as DicomError {
            return .failure(error)
        } catch {
            return .failure(DicomError(path: path, reason: .malformed("\(error)")))
        }
    }

    private static func code(_ concept: CodedConcept?) -> String {
        guard let concept else { return "—" }
        return SafeText.sanitize("\(concept.meaning) (\(concept.scheme) \(concept.value))")
    }

    private static func references(_ frames: [AIObjectFrame]) -> String {
        let bySource = frames.filter { !$0.sources.isEmpty }.count
        let byPlane = frames.filter { $0.sources.isEmpty && $0.position != nil }.count
        let images = Set(frames.flatMap { $0.sources.map(\.sopInstanceUID) }).count
        var words: [String] = []
        if bySource > 0 { words.append("\(bySource) frame(s) name their source image (\(images) image(s))") }
        if byPlane > 0 { words.append("\(byPlane) frame(s) placed by plane position only") }
        let neither = frames.count - bySource - byPlane
        if neither > 0 { words.append("\(neither) frame(s) with neither source nor position (cannot be placed)") }
        return words.isEmpty ? "no frames" : words.joined(separator: "; ")
    }

    static func segmentation(_ file: SegmentationFile) -> AIObjectInfo {
        let seg = file.object
        let first = seg.segments.first
        var info = AIObjectInfo(kind: "SEG", source: SafeText.sanitize([first?.algorithmName ?? seg.identity.modelName, first?.algorithmVersion ?? ""]
            .filter { !$0.isEmpty }.joined(separator: " ")))
        info.rows.append(Row(label: "AI object", text: "Segmentation, \(seg.kind.label), \(seg.segments.count) segment(s), \(seg.frames.count) frame(s) of \(seg.geometry.columns) × \(seg.geometry.rows)"))
        info.rows.append(Row(label: "Frame of ref.", text: seg.identity.frameOfReferenceUID.isEmpty ? "—" : SafeText.sanitize(seg.identity.frameOfReferenceUID)))
        info.rows.append(Row(label: "References", text: references(seg.frames)))
        let known = Set(seg.segments.map(\.number))
        for segment in seg.segments {
            let frames = seg.frames.filter { $0.segment == segment.number }.count
            var words = [SafeText.sanitize(segment.label.isEmpty ? "segment \(segment.number)" : segment.label), code(segment.type),
                         "category " + code(segment.category),
                         SafeText.sanitize([segment.algorithmType, segment.algorithmName, segment.algorithmVersion].filter { !$0.isEmpty }.joined(separator: " ")),
                         "\(frames) frame(s)"]
            if !segment.trackingUID.isEmpty { words.append("tracking \(SafeText.sanitize(segment.trackingID)) UID \(SafeText.sanitize(segment.trackingUID))") }
            info.rows.append(Row(label: "Segment \(segment.number)", text: words.joined(separator: ", ")))
        }
        let strays = seg.frames.enumerated().filter { $0.element.segment.map { !known.contains($0) } ?? true }
        if let stray = strays.first {
            info.rows.append(Row(label: "Problem", text: "\(strays.count) frame(s) name no segment of this object (frame \(stray.offset + 1): segment \(stray.element.segment.map(String.init) ?? "none"))"))
        }
        return info
    }

    static func map(_ file: ParametricMapFile) throws -> AIObjectInfo {
        let map = file.object
        var info = AIObjectInfo(kind: "PM", source: SafeText.sanitize([map.identity.modelName, map.identity.softwareVersions].filter { !$0.isEmpty }.joined(separator: " ")))
        info.rows.append(Row(label: "AI object", text: "Parametric Map, \(map.bitsAllocated)-bit, \(map.frames.count) frame(s) of \(map.geometry.columns) × \(map.geometry.rows)"))
        info.rows.append(Row(label: "References", text: references(map.frames)))
        for mapping in map.mappings {
            info.rows.append(Row(label: "Value map", text: SafeText.sanitize("\(mapping.label) \"\(mapping.explanation)\": stored × \(mapping.slope) + \(mapping.intercept), unit \(mapping.unit?.value ?? "—")")))
        }
        var low = Float.infinity, high = -Float.infinity
        for index in map.frames.indices {
            for value in try file.frame(index) where value.isFinite {
                low = min(low, value)
                high = max(high, value)
            }
        }
        info.rows.append(Row(label: "Values", text: low <= high ? String(format: "%g … %g (real-world)", low, high) : "none finite"))
        return info
    }

    static func measurementReport(_ report: MeasurementReportObject) -> AIObjectInfo {
        var info = AIObjectInfo(kind: "SR", source: SafeText.sanitize("\(report.sourceName) \(report.sourceVersion)".trimmingCharacters(in: .whitespaces)))
        info.rows.append(Row(label: "AI object", text: "TID 1500 measurement report, \(report.groups.count) group(s), source \(info.source)"))
        for (index, group) in report.groups.enumerated() {
            var words = [SafeText.sanitize(group.title), "finding " + code(group.findingType)]
            if !group.findingSites.isEmpty { words.append("site " + group.findingSites.map { code($0) }.joined(separator: ", ")) }
            if let laterality = group.laterality { words.append(SafeText.sanitize(laterality.meaning.lowercased())) }
            words.append(group.probability.map { String(format: "probability %.2f", $0) } ?? "no confidence given")
            for measurement in group.measurements {
                words.append(SafeText.sanitize("\(measurement.concept?.meaning ?? "value") \(String(format: "%g", measurement.value)) \(measurement.unit?.value ?? "")"))
            }
            for evaluation in group.evaluations {
                words.append(SafeText.sanitize("\(evaluation.concept?.meaning ?? "evaluation"): \(evaluation.value?.meaning ?? evaluation.text ?? "")"))
            }
            if let region = group.region {
                let place = region.image.map { "on \($0.sopInstanceUID)" } ?? region.frameOfReferenceUID.map { "in frame of reference \($0)" } ?? ""
                words.append(SafeText.sanitize("\(region.graphicType) of \(region.points.count / region.dimensions) point(s) \(place)"))
            }
            if let segment = group.segment { words.append(SafeText.sanitize("segment \(segment.number) of \(segment.object)")) }
            if let uid = group.trackingUID { words.append("UID \(SafeText.sanitize(uid))") }
            info.rows.append(Row(label: "Group \(index + 1)", text: words.joined(separator: ", ")))
        }
        for problem in report.problems { info.rows.append(Row(label: "Problem", text: SafeText.sanitize(problem))) }
        return info
    }
}
