/// A model named as Lightbox names it everywhere: `name@version` (results are cached, fused,
/// compared and shown under this one form).
public struct ModelIdentity: Sendable, Hashable, Codable, CustomStringConvertible {
    public let name: String
    public let version: String

    public init(name: String, version: String) {
        self.name = name
        self.version = version
    }

    /// "lightbox-anomaly-unet@1.1.0".
    public var description: String { "\(name)@\(version)" }
}

extension FindingDetector {
    /// The detector's model as `name@version`.
    public var identity: ModelIdentity { ModelIdentity(name: modelName, version: modelVersion) }
}

extension StudyResult {
    /// The result's model as `name@version`.
    public var modelIdentity: ModelIdentity { ModelIdentity(name: model, version: modelVersion) }
}

extension Decision {
    /// The model the decision was made on, as `name@version`.
    public var modelIdentity: ModelIdentity { ModelIdentity(name: model, version: modelVersion) }
}
