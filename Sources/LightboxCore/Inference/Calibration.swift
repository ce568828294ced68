import Foundation

/// Maps a model's raw probability to a calibrated one, with parameters fitted on a validation
/// split and stored in the model card.
public enum Calibration: Sendable, Equatable, Codable {
    /// No change.
    case identity
    /// Temperature scaling: sigmoid(logit(p) / T).
    case temperature(Double)
    /// Platt scaling: sigmoid(a · logit(p) + b).
    case platt(a: Double, b: Double)

    /// The calibrated probability of `raw` (clamped away from 0 and 1 first).
    public func apply(_ raw: Double) -> Double {
        let p = min(max(raw, 1e-7), 1 - 1e-7)
        let logit = log(p / (1 - p))
        switch self {
        case .identity: return p
        case .temperature(let t): return Self.sigmoid(logit / max(t, 1e-6))
        case .platt(let a, let b): return Self.sigmoid(a * logit + b)
        }
    }

    static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
}

/// The reader-facing confidence tier of a result. Review never looks confirmed.
public enum ConfidenceTier: String, Sendable, Codable, CaseIterable {
    case high, medium, review

    /// Thresholds on the confidence in the AI's call (from the model card; defaults 0.9 and 0.7).
    public struct Thresholds: Sendable, Equatable, Codable {
        public var high: Double
        public var medium: Double

        public init(high: Double = 0.9, medium: Double = 0.7) {
            self.high = high
            self.medium = medium
        }
    }

    /// Confidence in the call the probability makes: p when it calls abnormal (p ≥ 0.5), else 1 − p.
    public static func confidence(of probability: Double) -> Double { max(probability, 1 - probability) }

    /// The tier of a calibrated probability.
    public static func of(probability: Double, thresholds: Thresholds = Thresholds()) -> ConfidenceTier {
        let confidence = Self.confidence(of: probability)
        if confidence >= thresholds.high { return .high }
        if confidence >= thresholds.medium { return .medium }
        return .review
    }

    /// A symbol beside the text (never colour alone); Review's is a question, never a check.
    public func symbol(unicode: Bool = true) -> String {
        switch self {
        case .high: unicode ? "▲" : "^"
        case .medium: unicode ? "△" : "~"
        case .review: "?"
        }
    }

    /// Text for the reader, with a symbol so the tier never rests on colour alone.
    public var label: String {
        switch self {
        case .high: "High"
        case .medium: "Medium"
        case .review: "Review — human review recommended"
        }
    }
}
