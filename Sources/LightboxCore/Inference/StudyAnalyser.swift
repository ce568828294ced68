import Foundation

/// The AI side of the reviewer (port): a study's result, computed once and cached, and the heatmap
/// of an image once its study has been analysed.
public protocol StudyAnalyser: HeatmapSource {
    /// The models, as `name@version` (shown in the panel and recorded with results).
    var models: [String] { get }
    /// The study's result (inferring only images not in the cache).
    func analyse(_ study: Study) throws -> StudyResult
    /// The study's embedding (after `analyse`) and the model it belongs to, for similar cases.
    func embedding(_ study: Study) throws -> (model: String, vector: [Float])?
}

/// One or several models over a study. Each model's calibrated result is computed by its own
/// `StudyTriage`; with several, they are fused with confidence-weighted weights (`Fusion`), each
/// contribution kept. A model whose result is outside its domain does not vote; when none votes,
/// the result is Review with that reason. The heatmap overlay is the first model's.
public final class FusedTriage: StudyAnalyser, @unchecked Sendable {
    public let triages: [StudyTriage]
    public let fusionTemperature: Double
    private let cache: (any ResultCache)?
    private let lock = NSLock()
    /// Heatmaps of recently analysed images (bounded), so drawing does not read the cache.
    private var recent: [String: Heatmap] = [:]
    private var recentOrder: [String] = []
    private let recentLimit = 1_024

    public init(triages: [StudyTriage], cache: (any ResultCache)?, fusionTemperature: Double = 0.1) {
        precondition(!triages.isEmpty, "FusedTriage needs at least one model")
        self.triages = triages
        self.cache = cache
        self.fusionTemperature = fusionTemperature
    }

    public var models: [String] { triages.map { $0.detector.identity.description } }

    public var label: String {
        "AI heatmap of \(models[0]) (anomaly likelihood; research tool, not a diagnosis)"
    }

    public func heatmap(for header: ImageHeader, frame: Int) -> Heatmap? {
        let key = "\(header.sopInstanceUID)#\(frame)"
        lock.lock()
        if let held = recent[key] {
            lock.unlock()
            return held
        }
        lock.unlock()
        guard let found = try? cache?.result(sopInstanceUID: header.sopInstanceUID, frame: frame, model: triages[0].modelKey) else { return nil }
        remember(key, found.heatmap)
        return found.heatmap
    }

    private func remember(_ key: String, _ heatmap: Heatmap) {
        lock.lock()
        defer { lock.unlock() }
        if recent[key] == nil { recentOrder.append(key) }
        recent[key] = heatmap
        if recentOrder.count > recentLimit {
            for old in recentOrder.prefix(recentOrder.count - recentLimit) { recent[old] = nil }
            recentOrder.removeFirst(recentOrder.count - recentLimit)
        }
    }

    public func embedding(_ study: Study) throws -> (model: String, vector: [Float])? {
        try triages[0].studyEmbedding(study).map { (triages[0].modelKey, $0) }
    }

    public func analyse(_ study: Study) throws -> StudyResult {
        let results = try triages.map { try $0.run(study) }
        return Self.fuse(results, temperature: fusionTemperature, thresholds: triages[0].settings.tiers, studyInstanceUID: study.studyInstanceUID)
    }

    /// Fuses per-model results (exposed for tests).
    public static func fuse(_ results: [StudyResult], temperature: Double, thresholds: ConfidenceTier.Thresholds = .init(),
                            studyInstanceUID: String) -> StudyResult {
        guard results.count > 1 else { return results[0] }
        let voting = results.filter { $0.reason == nil && $0.imagesAnalysed > 0 }
        let findings = results.flatMap(\.findings).sorted { $0.finding.peak > $1.finding.peak }
        let name = results.map(\.model).joined(separator: " + ")
        let version = results.map(\.modelVersion).joined(separator: " + ")
        let analysed = results.map(\.imagesAnalysed).max() ?? 0
        let skipped = results.map(\.imagesSkipped).min() ?? 0
        guard !voting.isEmpty else {
            let first = results.first { $0.imagesAnalysed > 0 } ?? results[0]
            return StudyResult(studyInstanceUID: studyInstanceUID, model: name, modelVersion: version, probability: first.probability,
                               rawProbability: first.rawProbability, tier: .review, reason: first.reason ?? "no model could analyse the study",
                               findings: findings, imagesAnalysed: analysed, imagesSkipped: skipped,
                               contributions: results.map { Fusion.Contribution(model: $0.modelIdentity.description, probability: $0.probability,
                                                                                 confidence: ConfidenceTier.confidence(of: $0.probability), weight: 0) })
        }
        let fused = Fusion.fuse(voting.map { (model: $0.modelIdentity.description, probability: $0.probability) }, temperature: temperature)
        var contributions = fused.contributions
        for result in results where !voting.contains(result) {
            contributions.append(Fusion.Contribution(model: result.modelIdentity.description, probability: result.probability,
                                                     confidence: ConfidenceTier.confidence(of: result.probability), weight: 0))
        }
        return StudyResult(studyInstanceUID: studyInstanceUID, model: name, modelVersion: version, probability: fused.probability,
                           rawProbability: fused.probability, tier: ConfidenceTier.of(probability: fused.probability, thresholds: thresholds),
                           reason: nil, findings: findings, imagesAnalysed: analysed, imagesSkipped: skipped, contributions: contributions)
    }
}
