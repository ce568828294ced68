public import LightboxCore
import Foundation

/// model.json: what the model is, what it expects, and how it was trained and measured.
/// Fields for calibration, tiers and metrics are optional here; the loader checks what the
/// engine needs (input size, output names) against the ONNX graph.
public struct ModelCard: Codable, Sendable, Equatable {
    /// The network's input tensor and the image size it takes.
    public struct Input: Codable, Sendable, Equatable {
        public var name: String
        public var width: Int
        public var height: Int
        public var channels: Int
    }

    /// Names of the output tensors.
    public struct Outputs: Codable, Sendable, Equatable {
        public var probability: String
        public var heatmap: String
        public var embedding: String
    }

    /// How slices of one modality become the network's input: a fixed window (modality units)
    /// or "percentile" (0.5th–99.5th), mapped to 0…1.
    public struct Preprocessing: Codable, Sendable, Equatable {
        public enum WindowChoice: Codable, Sendable, Equatable {
            case fixed(center: Double, width: Double)
            case percentile

            public init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let text = try? container.decode(String.self), text == "percentile" {
                    self = .percentile
                    return
                }
                struct Fixed: Codable { let center: Double; let width: Double }
                let fixed = try container.decode(Fixed.self)
                self = .fixed(center: fixed.center, width: fixed.width)
            }

            public func encode(to encoder: any Encoder) throws {
                var container = encoder.singleValueContainer()
                switch self {
                case .percentile: try container.encode("percentile")
                case .fixed(let center, let width): try container.encode(["center": center, "width": width])
                }
            }
        }

        public var window: WindowChoice
    }

    /// Calibration fitted on a validation split: {"method": "temperature", "temperature": T}
    /// or {"method": "platt", "a": A, "b": B}.
    public struct CalibrationSpec: Codable, Sendable, Equatable {
        public var method: String
        public var temperature: Double?
        public var a: Double?
        public var b: Double?
    }

    /// The training centroid of embeddings and the distance past which an input is out of domain.
    public struct DomainSpec: Codable, Sendable, Equatable {
        public var centroid: [Double]
        public var maximumDistance: Double
    }

    public var name: String
    public var version: String
    public var intendedUse: String
    public var input: Input
    public var outputs: Outputs
    /// Modalities the model was trained on; others are outside its domain.
    public var modalities: [String]
    public var preprocessing: [String: Preprocessing]
    public var calibration: CalibrationSpec?
    public var tiers: ConfidenceTier.Thresholds?
    public var aggregation: Aggregation?
    /// Heatmap level that outlines a finding (default 0.5).
    public var findingThreshold: Double?
    public var domain: DomainSpec?

    /// The calibration to apply (identity when the card has none or an unknown method).
    public var calibrationFunction: Calibration {
        switch calibration?.method {
        case "temperature": calibration?.temperature.map { .temperature($0) } ?? .identity
        case "platt": .platt(a: calibration?.a ?? 1, b: calibration?.b ?? 0)
        default: .identity
        }
    }

    /// The domain guard: the card's modalities, and its embedding centroid when it records one.
    public var domainGuard: DomainGuard? {
        domain.map { DomainGuard(modalities: modalities, centroid: $0.centroid, maximumDistance: $0.maximumDistance) }
    }
}
