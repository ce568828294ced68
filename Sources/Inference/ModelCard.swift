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

    public var name: String
    public var version: String
    public var intendedUse: String
    public var input: Input
    public var outputs: Outputs
    /// Modalities the model was trained on; others are outside its domain.
    public var modalities: [String]
    public var preprocessing: [String: Preprocessing]
}
