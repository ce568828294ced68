public import Foundation

/// Refitting a model version's calibration on the labels the readers' verdicts imply: temperature
/// or Platt scaling on the earlier verdicts, expected calibration error before and after on the
/// later ones (held out), with bootstrap intervals.
public enum Recalibration {
    public enum Method: String, Sendable, Codable, CaseIterable {
        case temperature, platt
    }

    /// One labelled study: the model's raw (aggregated, uncalibrated) score and the label.
    public struct Sample: Sendable, Equatable {
        public var raw: Double
        public var abnormal: Bool
        public var time: Date
        public var sequence: Int

        public init(raw: Double, abnormal: Bool, time: Date, sequence: Int) {
            self.raw = raw
            self.abnormal = abnormal
            self.time = time
            self.sequence = sequence
        }
    }

    /// An estimate with its 95% bootstrap interval.
    public struct Interval: Sendable, Equatable, Codable {
        public var value: Double
        public var low: Double
        public var high: Double
    }

    public struct Result: Sendable, Equatable {
        public var calibration: Calibration
        public var fitted: Int
        public var heldOut: Int
        public var eceBefore: Interval
        public var eceAfter: Interval
        /// The ledger positions and times of the verdicts it was fitted on.
        public var firstSequence: Int
        public var lastSequence: Int
        public var from: Date
        public var to: Date
    }

    public struct Refusal: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// The labelled samples: each study's latest verdict that implies a label, joined to the
    /// model's record of it (its raw score). Verdicts on studies without a record are skipped.
    public static func samples(records: [MonitoringRecord], verdicts: [VerdictRecord], model: String, since: Date?) -> [Sample] {
        let raw = Dictionary(records.filter { $0.model == model }.map { ($0.studyKey, $0.rawScore) }, uniquingKeysWith: { first, _ in first })
        var latest: [String: Sample] = [:]
        for verdict in verdicts.sorted(by: { $0.sequence < $1.sequence }) where verdict.model == model {
            if let since, verdict.decidedAt < since { continue }
            guard let label = verdict.impliedAbnormal, let score = raw[verdict.studyKey] else { continue }
            latest[verdict.studyKey] = Sample(raw: score, abnormal: label, time: verdict.decidedAt, sequence: verdict.sequence)
        }
        return latest.values.sorted { $0.sequence < $1.sequence }
    }

    static func logit(_ p: Double) -> Double {
        let q = min(max(p, 1e-7), 1 - 1e-7)
        return log(q / (1 - q))
    }

    /// Mean negative log-likelihood of `samples` under `calibration`.
    static func loss(_ samples: [Sample], _ calibration: Calibration) -> Double {
        samples.reduce(0.0) { total, sample in
            let p = min(max(calibration.apply(sample.raw), 1e-12), 1 - 1e-12)
            return total - (sample.abnormal ? log(p) : log(1 - p))
        } / Double(max(1, samples.count))
    }

    /// The calibration of `method` that fits `samples` best (maximum likelihood).
    public static func fit(_ samples: [Sample], method: Method) -> Calibration {
        switch method {
        case .temperature:
            // Golden-section search on log T over [e^−4, e^4]: the loss is unimodal in T.
            var low = -4.0, high = 4.0
            let ratio = (5.0.squareRoot() - 1) / 2
            for _ in 0..<100 {
                let a = high - ratio * (high - low), b = low + ratio * (high - low)
                if loss(samples, .temperature(exp(a))) < loss(samples, .temperature(exp(b))) { high = b } else { low = a }
            }
            return .temperature(exp((low + high) / 2))
        case .platt:
            // Newton's method for logistic regression on the logit, a small ridge keeping it finite
            // when the classes separate.
            var a = 1.0, b = 0.0
            let ridge = 1e-3
            for _ in 0..<100 {
                var ga = ridge * (a - 1), gb = 0.0, haa = ridge, hab = 0.0, hbb = 1e-9
                for sample in samples {
                    let x = logit(sample.raw), p = 1 / (1 + exp(-(a * x + b))), y = sample.abnormal ? 1.0 : 0.0
                    ga += (p - y) * x
                    gb += p - y
                    let w = p * (1 - p)
                    haa += w * x * x
                    hab += w * x
                    hbb += w
                }
                let determinant = haa * hbb - hab * hab
                guard determinant > 1e-12 else { break }
                let da = (hbb * ga - hab * gb) / determinant, db = (haa * gb - hab * ga) / determinant
                a -= da
                b -= db
                if abs(da) + abs(db) < 1e-10 { break }
            }
            return .platt(a: a, b: b)
        }
    }

    /// Expected calibration error over 10 equal-width bins of the predicted probability.
    public static func ece(_ samples: [Sample], _ calibration: Calibration) -> Double {
        guard !samples.isEmpty else { return .nan }
        var count = [Double](repeating: 0, count: 10), predicted = count, observed = count
        for sample in samples {
            let p = calibration.apply(sample.raw)
            let bin = min(9, Int(p * 10))
            count[bin] += 1
            predicted[bin] += p
            observed[bin] += sample.abnormal ? 1 : 0
        }
        var total = 0.0
        for bin in 0..<10 where count[bin] > 0 {
            total += abs(predicted[bin] - observed[bin])
        }
        return total / Double(samples.count)
    }

    /// ECE with a 95% percentile bootstrap interval (`resamples`, a fixed seed: the same figures every run).
    public static func eceInterval(_ samples: [Sample], _ calibration: Calibration, resamples: Int = 1_000) -> Interval {
        var random = SeededRandom(seed: 0x5EED)
        func next() -> Int { Int(random.next() % UInt64(samples.count)) }
        var values: [Double] = []
        for _ in 0..<resamples {
            values.append(ece((0..<samples.count).map { _ in samples[next()] }, calibration))
        }
        values.sort()
        return Interval(value: ece(samples, calibration), low: DriftStatistics.quantile(sorted: values, 0.025),
                        high: DriftStatistics.quantile(sorted: values, 0.975))
    }

    /// Fits on the earlier `1 − heldOutShare` of the samples (in ledger order) and measures both
    /// calibrations on the rest. Refuses with fewer than `minimum` labelled studies, or without
    /// both labels among the fitted ones.
    public static func run(_ samples: [Sample], current: Calibration, method: Method, minimum: Int = 200, heldOutShare: Double = 0.3) throws -> Result {
        guard samples.count >= minimum else {
            throw Refusal(description: "too few verdicts to recalibrate: \(samples.count) studies with a label implied by a verdict (needs \(minimum); "
                          + "accepts and overrides for a false positive, false negative, wrong location or wrong finding type imply one)")
        }
        let split = Int((Double(samples.count) * (1 - heldOutShare)).rounded())
        let fitting = Array(samples[..<split]), heldOut = Array(samples[split...])
        let positives = fitting.filter(\.abnormal).count
        guard positives >= 10, fitting.count - positives >= 10 else {
            throw Refusal(description: "the verdicts to fit on hold \(positives) abnormal and \(fitting.count - positives) normal studies: both need at least 10")
        }
        let calibration = fit(fitting, method: method)
        return Result(calibration: calibration, fitted: fitting.count, heldOut: heldOut.count, eceBefore: eceInterval(heldOut, current),
                      eceAfter: eceInterval(heldOut, calibration), firstSequence: fitting.first!.sequence, lastSequence: fitting.last!.sequence,
                      from: fitting.first!.time, to: fitting.last!.time)
    }
}
