public import Foundation

/// Intensity statistics of one image as the model saw it (its input tensor, 0…1 after the card's
/// window): mean, standard deviation, 1st and 99th percentile, and the share of pixels at 0 or 1
/// (clipped by the window).
public struct InputStatistics: Sendable, Equatable, Codable {
    public var mean: Double
    public var standardDeviation: Double
    public var p1: Double
    public var p99: Double
    public var saturated: Double

    public init(mean: Double, standardDeviation: Double, p1: Double, p99: Double, saturated: Double) {
        self.mean = mean
        self.standardDeviation = standardDeviation
        self.p1 = p1
        self.p99 = p99
        self.saturated = saturated
    }

    /// The statistics of `values` (nil when empty).
    public static func of(_ values: [Float]) -> InputStatistics? {
        guard !values.isEmpty else { return nil }
        var sum = 0.0, squares = 0.0, saturated = 0
        // Percentiles from a 1,024-bin histogram of 0…1: exact to a thousandth, no sort.
        var histogram = [Int](repeating: 0, count: 1_024)
        for value in values {
            let v = Double(value)
            sum += v
            squares += v * v
            if v <= 0 || v >= 1 { saturated += 1 }
            histogram[min(1_023, max(0, Int(v * 1_024)))] += 1
        }
        let n = Double(values.count)
        let mean = sum / n
        func percentile(_ q: Double) -> Double {
            let target = q * n
            var seen = 0
            for (bin, count) in histogram.enumerated() {
                seen += count
                if Double(seen) >= target { return (Double(bin) + 0.5) / 1_024 }
            }
            return 1
        }
        return InputStatistics(mean: mean, standardDeviation: max(0, squares / n - mean * mean).squareRoot(),
                               p1: percentile(0.01), p99: percentile(0.99), saturated: Double(saturated) / n)
    }

    /// The mean of several images' statistics (a study's), nil when there are none.
    public static func mean(_ items: [InputStatistics]) -> InputStatistics? {
        guard !items.isEmpty else { return nil }
        let n = Double(items.count)
        return InputStatistics(mean: items.map(\.mean).reduce(0, +) / n, standardDeviation: items.map(\.standardDeviation).reduce(0, +) / n,
                               p1: items.map(\.p1).reduce(0, +) / n, p99: items.map(\.p99).reduce(0, +) / n,
                               saturated: items.map(\.saturated).reduce(0, +) / n)
    }
}

/// The scanner and protocol a study was made with, from its header. The station name is kept only
/// as a hash (`station`); nothing here identifies a patient.
public struct ScannerFingerprint: Sendable, Equatable, Codable {
    public var manufacturer: String?
    public var model: String?
    public var software: String?
    /// A hash of the station name (never the name).
    public var station: String?
    public var kernel: String?
    public var bodyPart: String?
    public var kvp: Double?
    public var sliceThickness: Double?
    /// Row spacing in millimetres.
    public var pixelSpacing: Double?
    public var exposure: Double?

    public init(manufacturer: String? = nil, model: String? = nil, software: String? = nil, station: String? = nil, kernel: String? = nil,
                bodyPart: String? = nil, kvp: Double? = nil, sliceThickness: Double? = nil, pixelSpacing: Double? = nil, exposure: Double? = nil) {
        self.manufacturer = manufacturer
        self.model = model
        self.software = software
        self.station = station
        self.kernel = kernel
        self.bodyPart = bodyPart
        self.kvp = kvp
        self.sliceThickness = sliceThickness
        self.pixelSpacing = pixelSpacing
        self.exposure = exposure
    }

    /// The fingerprint of a header; `hashStation` turns the station name into its hash.
    public static func of(_ header: ImageHeader, hashStation: (String) -> String) -> ScannerFingerprint {
        func text(_ value: String?) -> String? {
            guard let value else { return nil }
            let clean = SafeText.sanitize(value).trimmingCharacters(in: .whitespaces)
            return clean.isEmpty ? nil : String(clean.prefix(64))
        }
        return ScannerFingerprint(manufacturer: text(header.manufacturer), model: text(header.manufacturerModelName),
                                  software: text(header.softwareVersions), station: text(header.stationName).map(hashStation),
                                  kernel: text(header.convolutionKernel), bodyPart: text(header.bodyPartExamined), kvp: header.kvp,
                                  sliceThickness: header.sliceThickness, pixelSpacing: header.pixelSpacing?.first, exposure: header.exposure)
    }

    /// "Manufacturer Model", the scanner stratum ("unknown scanner" when the header says neither).
    public var scanner: String {
        let words = [manufacturer, model].compactMap { $0 }
        return words.isEmpty ? "unknown scanner" : words.joined(separator: " ")
    }
}

/// What monitoring keeps of one study analysed by one model version: no identifier, the study
/// itself only as a key (a hash of its UID) so verdicts can be joined to it.
public struct MonitoringRecord: Sendable, Equatable, Codable {
    public var studyKey: String
    /// name@version.
    public var model: String
    public var site: String
    public var analysedAt: Date
    public var fingerprint: ScannerFingerprint
    public var input: InputStatistics?
    public var rawScore: Double
    public var probability: Double
    public var tier: ConfidenceTier
    public var outOfDomain: Bool
    /// The domain guard's largest embedding distance over the study's images (nil without a guard).
    public var domainDistance: Double?
    public var images: Int

    public init(studyKey: String, model: String, site: String, analysedAt: Date, fingerprint: ScannerFingerprint, input: InputStatistics?,
                rawScore: Double, probability: Double, tier: ConfidenceTier, outOfDomain: Bool, domainDistance: Double?, images: Int) {
        self.studyKey = studyKey
        self.model = model
        self.site = site
        self.analysedAt = analysedAt
        self.fingerprint = fingerprint
        self.input = input
        self.rawScore = rawScore
        self.probability = probability
        self.tier = tier
        self.outOfDomain = outOfDomain
        self.domainDistance = domainDistance
        self.images = images
    }
}

/// A study as analysed, before monitoring keys it: the triage hands it to the log, which keeps a
/// `MonitoringRecord` (hashing the UID and the station name) and drops the rest.
public struct StudyObservation: Sendable, Equatable {
    public var studyInstanceUID: String
    public var model: String
    public var header: ImageHeader
    public var input: InputStatistics?
    public var rawScore: Double
    public var probability: Double
    public var tier: ConfidenceTier
    public var outOfDomain: Bool
    public var domainDistance: Double?
    public var images: Int

    public init(studyInstanceUID: String, model: String, header: ImageHeader, input: InputStatistics?, rawScore: Double, probability: Double,
                tier: ConfidenceTier, outOfDomain: Bool, domainDistance: Double?, images: Int) {
        self.studyInstanceUID = studyInstanceUID
        self.model = model
        self.header = header
        self.input = input
        self.rawScore = rawScore
        self.probability = probability
        self.tier = tier
        self.outOfDomain = outOfDomain
        self.domainDistance = domainDistance
        self.images = images
    }
}

/// Where analysed studies are recorded for monitoring (port; the result store implements it).
/// Recording a study a model already recorded keeps the first.
public protocol MonitoringLog: Sendable {
    func record(_ observation: StudyObservation) throws
}

/// A reader's verdict as monitoring sees it: keyed like the records, no identifier.
public struct VerdictRecord: Sendable, Equatable, Codable {
    public var studyKey: String
    public var model: String
    public var decidedAt: Date
    public var action: DecisionAction
    public var reason: OverrideReason?
    public var tier: ConfidenceTier?
    public var probability: Double?
    public var secondsSpent: Double
    /// The ledger's order (audit sequence or position), to find clocks that went backwards.
    public var sequence: Int

    public init(studyKey: String, model: String, decidedAt: Date, action: DecisionAction, reason: OverrideReason?, tier: ConfidenceTier?,
                probability: Double?, secondsSpent: Double, sequence: Int) {
        self.studyKey = studyKey
        self.model = model
        self.decidedAt = decidedAt
        self.action = action
        self.reason = reason
        self.tier = tier
        self.probability = probability
        self.secondsSpent = secondsSpent
        self.sequence = sequence
    }

    /// The label the verdict implies (the mapping `stats` uses), nil when it implies none.
    public var impliedAbnormal: Bool? {
        DecisionStatistics.impliedAbnormal(action: action, reason: reason, probability: probability)
    }
}

/// A model version's frozen reference period.
public struct MonitorReference: Sendable, Equatable, Codable {
    public var model: String
    public var from: Date
    public var to: Date
    /// How it was chosen: "first 500 studies", "2026-01-01…2026-02-01".
    public var basis: String

    public init(model: String, from: Date, to: Date, basis: String) {
        self.model = model
        self.from = from
        self.to = to
        self.basis = basis
    }
}

/// Where monitoring records and reference periods are kept (port): the workstation's result
/// store in SQLite, or the department's server.
public protocol MonitoringStore: Sendable {
    /// Keeps a study's record (the first analysis of a study by a model version stays).
    func record(_ record: MonitoringRecord) throws
    /// Many records at once (imports, benchmarks).
    func record(_ records: [MonitoringRecord]) throws
    /// Every record (of one model version, when given), oldest analysis first.
    func monitoringRecords(model: String?) throws -> [MonitoringRecord]
    /// Studies recorded per model version, without reading the records.
    func monitoringCounts() throws -> [(model: String, studies: Int)]
    /// Each model version's frozen reference period.
    func references() throws -> [MonitorReference]
    /// Sets (or replaces) a model version's reference period.
    func setReference(_ reference: MonitorReference) throws
}

extension MonitoringStore {
    /// Every record of every model version.
    public func monitoringRecords() throws -> [MonitoringRecord] { try monitoringRecords(model: nil) }
}
