import Crypto
import DicomReading
import Foundation
public import LightboxCore

/// Other systems' AI results on a study (IHE AI Results): the SEG, Parametric Map and TID 1500
/// SR objects of the same study lying beside its images (a folder source's folders, a PACS
/// study's cache folder), read through DCMTK and shaped as results (`ExternalResultBuilder`).
public struct ExternalResultReader: ExternalResultSource {

    public var thresholds: ConfidenceTier.Thresholds

    public init(thresholds: ConfidenceTier.Thresholds = .init()) {
        self.thresholds = thresholds
    }

    /// What was found: one result per algorithm, and the objects that could not be read (named,
    /// with the reason; the study and the other results still open).
    public struct Found: Sendable, Equatable {
        public var results: [ExternalResult]
        public var problems: [String]
    }

    public func externalResults(for study: Study, objects: [String]?) -> (results: [ExternalResult], problems: [String]) {
        let found = objects.map { read($0, study: study) } ?? results(for: study)
        return (found.results, found.problems)
    }

    /// The study's AI objects among the files of its images' folders (and `extra` paths).
    public func results(for study: Study, extra: [String] = []) -> Found {
        let images = Set(study.series.flatMap(\.instances).map(\.path))
        let folders = Set(study.series.flatMap(\.instances).map { ($0.path as NSString).deletingLastPathComponent })
        var candidates: [String] = []
        for folder in folders.sorted() {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            candidates += names.sorted().filter { !$0.hasPrefix(".") }.map { folder + "/" + $0 }.filter { !images.contains($0) }
        }
        candidates += extra
        return read(candidates, study: study)
    }

    /// Reads `paths` as AI objects of `study` (others are skipped quietly: images, other studies,
    /// Lightbox's own verdict SRs).
    public func read(_ paths: [String], study: Study) -> Found {
        var segmentations: [ExternalResultBuilder.SegmentationInput] = []
        var maps: [ExternalResultBuilder.MapInput] = []
        var reports: [ExternalResultBuilder.ReportInput] = []
        var problems: [String] = []
        for path in paths {
            guard let file = try? DicomFile.open(path) else { continue }
            let identity = file.identity
            guard identity.study == study.studyInstanceUID else { continue }
            let name = (path as NSString).lastPathComponent
            do {
                switch identity.sopClass {
                case StorageClass.segmentation:
                    let seg = try SegmentationFile.open(path)
                    segmentations.append(.init(object: seg.object, reference: try reference(path, identity, kind: "SEG"),
                                               frame: { try seg.frame($0) }))
                case StorageClass.parametricMap:
                    let map = try ParametricMapFile.open(path)
                    maps.append(.init(object: map.object, reference: try reference(path, identity, kind: "PM"),
                                      frame: { try map.frame($0) }))
                case let sopClass where sopClass.hasPrefix(StorageClass.reportPrefix):
                    let content = try StructuredReportFile.read(path)
                    // Lightbox's own verdicts are read back elsewhere; a report of no measurements is not a result.
                    guard VerdictReadBack(content) == nil, let report = MeasurementReportObject(content), !report.groups.isEmpty else { continue }
                    reports.append(.init(object: report, reference: try reference(path, identity, kind: "SR")))
                default:
                    continue
                }
            } catch let error as DicomError {
                problems.append("\(name): \(error.reason.text)")
            } catch {
                problems.append("\(name): \(error)")
            }
        }
        let results = ExternalResultBuilder.build(study: study, segmentations: segmentations, maps: maps, reports: reports, thresholds: thresholds)
        return Found(results: results, problems: problems)
    }

    private func reference(_ path: String, _ identity: (study: String, series: String, sopInstance: String, sopClass: String),
                           kind: String) throws -> ExternalObjectReference {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        var reference = ExternalObjectReference(sopInstanceUID: identity.sopInstance, kind: kind, path: path, contentHash: SHA256.hash(data: data).hexadecimal)
        reference.sopClassUID = identity.sopClass
        reference.seriesInstanceUID = identity.series
        reference.studyInstanceUID = identity.study
        return reference
    }
}
