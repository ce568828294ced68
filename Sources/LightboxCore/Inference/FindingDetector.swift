/// What a model says about one image: an anomaly probability (uncalibrated), a heatmap over the
/// image's extent and an embedding for similar-case search.
public struct SliceInference: Sendable, Equatable {
    public var probability: Float
    public var heatmap: Heatmap
    public var embedding: [Float]
    /// Intensity statistics of the model's input for this image (for monitoring; nil from
    /// results cached before they were recorded).
    public var input: InputStatistics?

    public init(probability: Float, heatmap: Heatmap, embedding: [Float], input: InputStatistics? = nil) {
        self.probability = probability
        self.heatmap = heatmap
        self.embedding = embedding
        self.input = input
    }
}

/// Runs a model on images (port): the ONNX engine today, another engine later without
/// touching the rest.
public protocol FindingDetector: Sendable {
    /// The model's name and version, recorded with every result.
    var modelName: String { get }
    var modelVersion: String { get }
    /// Results for `images` (one frame each), in order; batches internally.
    func infer(_ images: [DecodedImage]) throws -> [SliceInference]
}
