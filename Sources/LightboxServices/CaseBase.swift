import DicomReading
import Foundation
import Inference
public import LightboxCore
public import ReviewApp
public import Store

/// A study named by a script (`decide`, `similar`): found in its folder, with the configured models.
public struct ScriptedStudy {
    public let paths: AppPaths
    public let configuration: Configuration
    public let source: any StudySource
    public let study: Study
    public let analyser: FusedTriage

    /// Finds the study: in `folder` when given (scanned first), else in the index of any folder
    /// scanned before (by `scan`, `triage` or the reviewer), else in config.toml's source or the
    /// bundled samples. Exits with a message naming what is missing and what to run
    /// (`purpose` says why a model is needed).
    public static func load(uid: String, folder: String?, models: [String], purpose: String) throws -> ScriptedStudy {
        let paths = AppPaths()
        try paths.ensureDataDirectory()
        let configuration = CLI.configuration(paths)
        let index = try SQLiteWorklistIndex(path: paths.indexDatabase)
        var found: (root: String, study: Study)?
        var pacsSource: PacsStudySource?
        if let folder, let pacs = try SourceResolver.pacs(folder, configuration: configuration) {
            // A PACS: the study retrieved into the cache (only what is missing), then read from there.
            let source = PacsStudySource(connection: pacs.connection, cache: SourceResolver.cache(paths, configuration: configuration),
                                         cacheKey: pacs.cacheKey, index: index)
            do { found = (source.sourceFolder, try source.study(uid)) } catch { throw CLIFailure("\(error)") }
            pacsSource = source
        } else if let folder {
            let root = FolderIndexer.normalized(folder)
            guard FileManager.default.fileExists(atPath: root) else { throw CLIFailure("\(folder): no such file or folder") }
            _ = try FolderIndexer(reader: DcmtkInstanceReader(), index: index).refresh(root: root)
            found = try index.study(uid, under: root).map { (root, $0) }
            if found == nil { throw CLIFailure("\(uid): no such study in \(root); `lightbox scan \(root)` lists what it holds") }
        } else if let known = try index.study(uid, under: "/") {
            found = (known.series.first?.instances.first.map { ($0.path as NSString).deletingLastPathComponent } ?? "/", known)
        } else if let root = (configuration.source ?? CLI.defaultSource()).map(FolderIndexer.normalized) {
            _ = try FolderIndexer(reader: DcmtkInstanceReader(), index: index).refresh(root: root)
            found = try index.study(uid, under: root).map { (root, $0) }
        }
        guard let (root, study) = found else {
            throw CLIFailure("\(uid): no such study in any folder scanned so far; run `lightbox scan DIR` on the folder that holds it, or pass --source DIR")
        }
        let source: any StudySource = pacsSource ?? FolderStudySource(root: root, index: index)
        let folders: [ModelFolder]
        do { folders = try ModelLocator.loadAll(models, configured: configuration.models) } catch let failure as CLIFailure {
            throw CLIFailure("\(purpose): \(failure.description)")
        }
        let analyser = try ModelLocator.analyser(folders, source: source, paths: paths, configuration: configuration)
        return ScriptedStudy(paths: paths, configuration: configuration, source: source, study: study, analyser: analyser)
    }
}

/// The case base: the bundled reference cases (samples whose ground truth is known, analysed by
/// the current model on first use) and every study decided on this installation.
public final class CaseBase: SimilarCaseService, @unchecked Sendable {
    public let analyser: FusedTriage
    public let store: any CaseStore
    public let source: any StudySource
    public let paths: AppPaths
    private let lock = NSLock()
    private var seeded = false

    public init(analyser: FusedTriage, source: any StudySource, paths: AppPaths, configuration: Configuration) throws {
        self.analyser = analyser
        self.source = source
        self.paths = paths
        store = try AnalysisStores.cases(paths, configuration: configuration)
    }

    /// Analyses the bundled samples (cached after the first time) and records them as reference cases.
    public func seedReferenceCases() throws {
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
                                        label: known.lesions.isEmpty ? .normal : .abnormal, decision: nil, date: study.header.studyDate,
                                        source: .reference, summary: known.description + " (bundled phantom; ground truth known)"))
        }
    }

    public func similar(to study: Study, k: Int = 5) throws -> [SimilarCase] {
        try seedReferenceCases()
        _ = try analyser.analyse(study)
        guard let embedding = try analyser.embedding(study) else { return [] }
        return SimilarCases.nearest(to: embedding.vector, among: try store.records(model: embedding.model), excluding: study.studyInstanceUID, k: k)
    }

    public func remember(_ study: Study, decision: Decision) throws {
        guard let embedding = try analyser.embedding(study) else { return }
        try store.upsert(CaseRecord(studyInstanceUID: study.studyInstanceUID, model: embedding.model, embedding: embedding.vector,
                                    label: CaseLabel(implied: DecisionStatistics.impliedAbnormal(decision)),
                                    decision: decision.summary, date: decision.decidedAt.day, source: .reviewed,
                                    summary: SafeText.sanitize(study.header.studyDescription)))
    }
}
