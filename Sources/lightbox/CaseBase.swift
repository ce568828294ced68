import DicomReading
import Foundation
import Inference
import LightboxCore
import Store

/// The case base: the bundled reference cases (samples whose ground truth is known, analysed by
/// the current model on first use) and every study decided on this installation.
final class CaseBase: SimilarCaseService, @unchecked Sendable {
    let analyser: FusedTriage
    let store: SQLiteCaseStore
    let source: any StudySource
    let paths: AppPaths
    private let lock = NSLock()
    private var seeded = false

    init(analyser: FusedTriage, source: any StudySource, paths: AppPaths) throws {
        self.analyser = analyser
        self.source = source
        self.paths = paths
        store = try SQLiteCaseStore(path: paths.dataDirectory + "/cases.sqlite")
    }

    /// Analyses the bundled samples (cached after the first time) and records them as reference cases.
    func seedReferenceCases() throws {
        lock.lock()
        defer { lock.unlock() }
        guard !seeded, let folder = CLI.defaultSource() else { return }
        seeded = true
        guard let data = FileManager.default.contents(atPath: folder + "/ground-truth.json") else { return }
        let truth = try JSONDecoder().decode([SampleGenerator.WrittenStudy].self, from: data)
        let samples = FolderStudySource(root: FolderIndexer.normalized(folder), index: try SQLiteWorklistIndex(path: paths.indexDatabase))
        let triage = FusedTriage(triages: analyser.triages.map { $0.with(source: samples) }, cache: nil, fusionTemperature: analyser.fusionTemperature)
        for study in try samples.loadStudies(progress: nil).studies {
            guard let known = truth.first(where: { $0.studyInstanceUID == study.studyInstanceUID }) else { continue }
            let result = try triage.analyse(study)
            guard result.imagesAnalysed > 0, let embedding = try triage.embedding(study) else { continue }
            try store.upsert(CaseRecord(studyInstanceUID: study.studyInstanceUID, model: embedding.model, embedding: embedding.vector,
                                        label: known.lesions.isEmpty ? "normal" : "abnormal", decision: nil, date: study.header.studyDate,
                                        source: "reference", summary: known.description + " (bundled phantom; ground truth known)"))
        }
    }

    func similar(to study: Study, k: Int = 5) throws -> [SimilarCase] {
        try seedReferenceCases()
        _ = try analyser.analyse(study)
        guard let embedding = try analyser.embedding(study) else { return [] }
        return SimilarCases.nearest(to: embedding.vector, among: try store.records(model: embedding.model), excluding: study.studyInstanceUID, k: k)
    }

    func remember(_ study: Study, decision: Decision) throws {
        guard let embedding = try analyser.embedding(study) else { return }
        let label = DecisionStatistics.impliedAbnormal(decision).map { $0 ? "abnormal" : "normal" } ?? "unknown"
        let what = decision.action == .override ? "override (\(decision.reason?.label ?? "?"))" : decision.action.rawValue
        try store.upsert(CaseRecord(studyInstanceUID: study.studyInstanceUID, model: embedding.model, embedding: embedding.vector, label: label,
                                    decision: what, date: String(decision.decidedAt.prefix(10)), source: "reviewed",
                                    summary: SafeText.sanitize(study.header.studyDescription)))
    }
}
