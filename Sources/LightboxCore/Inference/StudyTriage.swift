import Foundation

/// The AI result of one study: calibrated probability, tier (with the reason when forced to
/// Review), findings, and what it was computed from.
public struct StudyResult: Sendable, Equatable, Codable {
    public var studyInstanceUID: String
    public var model: String
    public var modelVersion: String
    /// Calibrated probability of abnormality.
    public var probability: Double
    /// The aggregated raw probability before calibration.
    public var rawProbability: Double
    public var tier: ConfidenceTier
    /// Why the tier was forced to Review (outside the model's domain), if it was.
    public var reason: String?
    public var findings: [SeriesFinding]
    /// Images analysed and images skipped (modality outside the model's domain, decode failure).
    public var imagesAnalysed: Int
    public var imagesSkipped: Int
    /// Each model's part when several are fused (one entry, weight 1, for a single model).
    public var contributions: [Fusion.Contribution] = []

    public init(studyInstanceUID: String, model: String, modelVersion: String, probability: Double, rawProbability: Double,
                tier: ConfidenceTier, reason: String?, findings: [SeriesFinding], imagesAnalysed: Int, imagesSkipped: Int,
                contributions: [Fusion.Contribution] = []) {
        self.studyInstanceUID = studyInstanceUID
        self.model = model
        self.modelVersion = modelVersion
        self.probability = probability
        self.rawProbability = rawProbability
        self.tier = tier
        self.reason = reason
        self.findings = findings
        self.imagesAnalysed = imagesAnalysed
        self.imagesSkipped = imagesSkipped
        self.contributions = contributions
    }
}

/// A finding in one series.
public struct SeriesFinding: Sendable, Equatable, Codable {
    public var seriesInstanceUID: String
    public var finding: Finding
    /// The model that found it (name and version).
    public var model: String?

    public init(seriesInstanceUID: String, finding: Finding, model: String? = nil) {
        self.seriesInstanceUID = seriesInstanceUID
        self.finding = finding
        self.model = model
    }
}

/// How a model's outputs become a study result (from its card).
public struct TriageSettings: Sendable, Equatable {
    public var calibration: Calibration
    public var tiers: ConfidenceTier.Thresholds
    public var aggregation: Aggregation
    public var findingThreshold: Double
    public var domain: DomainGuard?
    public var modalities: [String]

    public init(calibration: Calibration = .identity, tiers: ConfidenceTier.Thresholds = .init(), aggregation: Aggregation = .max,
                findingThreshold: Double = 0.5, domain: DomainGuard? = nil, modalities: [String]) {
        self.calibration = calibration
        self.tiers = tiers
        self.aggregation = aggregation
        self.findingThreshold = findingThreshold
        self.domain = domain
        self.modalities = modalities
    }
}

/// Per-image results kept per SOP Instance UID, frame and model version (port; SQLite implements
/// it), so a reopened study needs no inference.
public protocol ResultCache: Sendable {
    func result(sopInstanceUID: String, frame: Int, model: String) throws -> SliceInference?
    func store(_ result: SliceInference, sopInstanceUID: String, frame: Int, model: String) throws
}

/// Runs a detector over a study: cached images are not inferred again.
public struct StudyTriage: Sendable {
    let source: any StudySource
    public let detector: any FindingDetector
    let cache: (any ResultCache)?
    let settings: TriageSettings
    /// Where each analysed study is recorded for monitoring (nil: not recorded).
    let monitor: (any MonitoringLog)?

    public init(source: any StudySource, detector: any FindingDetector, cache: (any ResultCache)?, settings: TriageSettings,
                monitor: (any MonitoringLog)? = nil) {
        self.source = source
        self.detector = detector
        self.cache = cache
        self.settings = settings
        self.monitor = monitor
    }

    /// The same model and settings over another source.
    public func with(source: any StudySource) -> StudyTriage {
        StudyTriage(source: source, detector: detector, cache: cache, settings: settings, monitor: monitor)
    }

    /// The cache key of the model: name and version.
    public var modelKey: String { detector.identity.description }

    public func run(_ study: Study) throws -> StudyResult {
        var probabilities: [Double] = []
        var findings: [SeriesFinding] = []
        var analysed = 0, skipped = 0
        var domainReason: String?
        var modalityReason: String?
        var inputs: [InputStatistics] = []
        var largestDistance: Double?
        var analysedHeader: ImageHeader?
        for series in study.series {
            let slices = series.slices
            // A series of another modality is skipped; the study is out of domain only when nothing was analysed.
            guard settings.modalities.contains(series.header.modality) else {
                skipped += slices.count
                modalityReason = modalityReason ?? "outside the model's domain (modality \(series.header.modality))"
                continue
            }
            var results = [SliceInference?](repeating: nil, count: slices.count)
            var pending: [(Int, DecodedImage)] = []
            for (index, slice) in slices.enumerated() {
                if let cached = try cache?.result(sopInstanceUID: slice.header.sopInstanceUID, frame: slice.key.frame, model: modelKey) {
                    results[index] = cached
                    continue
                }
                do { pending.append((index, try source.decode(slice.key))) } catch { skipped += 1 }
                if pending.count == 16 { try infer(&pending, into: &results, slices: slices) }
            }
            try infer(&pending, into: &results, slices: slices)
            for (index, result) in results.enumerated() {
                guard let result else { continue }
                probabilities.append(Double(result.probability))
                analysed += 1
                if analysedHeader == nil { analysedHeader = slices[index].header }
                if let input = result.input { inputs.append(input) }
                if let distance = settings.domain?.distance(result.embedding) { largestDistance = max(largestDistance ?? 0, distance) }
                if domainReason == nil, let guardrail = settings.domain,
                   let reason = guardrail.reason(modality: series.header.modality, embedding: result.embedding) {
                    domainReason = reason
                }
            }
            for finding in FindingExtractor.findings(in: results.map { $0?.heatmap }, threshold: settings.findingThreshold) {
                findings.append(SeriesFinding(seriesInstanceUID: series.seriesInstanceUID, finding: finding, model: modelKey))
            }
        }
        let raw = settings.aggregation.combine(probabilities)
        let calibrated = probabilities.isEmpty ? 0 : settings.calibration.apply(raw)
        var tier = ConfidenceTier.of(probability: calibrated, thresholds: settings.tiers)
        if probabilities.isEmpty { domainReason = modalityReason ?? "no image could be analysed" }
        if domainReason != nil { tier = .review }
        if let monitor, let analysedHeader {
            // Monitoring must never cost the reader a result: a failed record is dropped.
            try? monitor.record(StudyObservation(studyInstanceUID: study.studyInstanceUID, model: modelKey, header: analysedHeader,
                                                 input: InputStatistics.mean(inputs), rawScore: raw, probability: calibrated, tier: tier,
                                                 outOfDomain: domainReason != nil, domainDistance: largestDistance, images: analysed))
        }
        return StudyResult(studyInstanceUID: study.studyInstanceUID, model: detector.modelName, modelVersion: detector.modelVersion,
                           probability: calibrated, rawProbability: raw, tier: tier, reason: domainReason,
                           findings: findings.sorted { $0.finding.peak > $1.finding.peak },
                           imagesAnalysed: analysed, imagesSkipped: skipped,
                           contributions: probabilities.isEmpty ? [] : [Fusion.Contribution(model: modelKey, probability: calibrated,
                                                                                            confidence: ConfidenceTier.confidence(of: calibrated), weight: 1)])
    }

    /// The study's embedding for similar-case search: the mean of its images' embeddings in the
    /// cache (nil when nothing was analysed).
    public func studyEmbedding(_ study: Study) throws -> [Float]? {
        guard let cache else { return nil }
        var sum: [Float] = []
        var count = 0
        for series in study.series where settings.modalities.contains(series.header.modality) {
            for slice in series.slices {
                guard let result = try cache.result(sopInstanceUID: slice.header.sopInstanceUID, frame: slice.key.frame, model: modelKey) else { continue }
                if sum.isEmpty { sum = [Float](repeating: 0, count: result.embedding.count) }
                guard result.embedding.count == sum.count else { continue }
                for index in sum.indices { sum[index] += result.embedding[index] }
                count += 1
            }
        }
        return count == 0 ? nil : sum.map { $0 / Float(count) }
    }

    private func infer(_ pending: inout [(Int, DecodedImage)], into results: inout [SliceInference?], slices: [SliceEntry]) throws {
        guard !pending.isEmpty else { return }
        let outputs = try detector.infer(pending.map(\.1))
        for ((index, _), output) in zip(pending, outputs) {
            results[index] = output
            try cache?.store(output, sopInstanceUID: slices[index].header.sopInstanceUID, frame: slices[index].key.frame, model: modelKey)
        }
        pending.removeAll()
    }
}
