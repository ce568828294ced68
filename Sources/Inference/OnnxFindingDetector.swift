public import LightboxCore
import Foundation

/// The FindingDetector over an ONNX model folder: preprocesses each image exactly as the card
/// says (window to 0…1, area-averaged to the input size), runs batches, and splits the outputs.
public final class OnnxFindingDetector: FindingDetector, @unchecked Sendable {
    public let folder: ModelFolder
    public let batchSize: Int
    private let lock = NSLock()

    public init(folder: ModelFolder, batchSize: Int = 8) {
        self.folder = folder
        self.batchSize = max(1, batchSize)
    }

    public var modelName: String { folder.card.name }
    public var modelVersion: String { folder.card.version }

    /// The network input for one image (channels × height × width, 0…1); nil for a modality the
    /// card has no preprocessing for (outside the model's domain).
    public func preprocess(_ image: DecodedImage) -> [Float]? {
        let card = folder.card
        guard let recipe = card.preprocessing[image.header.modality] else { return nil }
        let window: Window
        switch recipe.window {
        case .fixed(let center, let width): window = Window(center: center, width: width)
        case .percentile: window = PercentileWindow.window(for: image.frame(0))
        }
        // Colour images are reduced to luminance first when the model takes one channel.
        // MONOCHROME1 is inverted after the window, as on screen, so the network always sees
        // bright as dense.
        let inverted = image.header.isInvertedMonochrome && image.channels == 1
        var grey = [Float](repeating: 0, count: image.width * image.height)
        let frame = image.frame(0)
        let base = frame.startIndex
        for index in 0..<grey.count {
            let value = image.channels == 3
                ? 0.299 * frame[base + index * 3] + 0.587 * frame[base + index * 3 + 1] + 0.114 * frame[base + index * 3 + 2]
                : frame[base + index]
            let shade = window.normalized(value)
            grey[index] = inverted ? 1 - shade : shade
        }
        let resized = Resampling.areaAverage(grey[...], width: image.width, height: image.height, channels: 1,
                                             targetWidth: card.input.width, targetHeight: card.input.height)
        return card.input.channels == 1 ? resized : Array((0..<card.input.channels).map { _ in resized }.joined())
    }

    public func infer(_ images: [DecodedImage]) throws -> [SliceInference] {
        let card = folder.card
        let plane = card.input.channels * card.input.height * card.input.width
        var results: [SliceInference] = []
        var start = 0
        while start < images.count {
            let batch = Array(images[start..<min(images.count, start + batchSize)])
            var input: [Float] = []
            var statistics: [InputStatistics?] = []
            input.reserveCapacity(batch.count * plane)
            for image in batch {
                guard let values = preprocess(image) else {
                    throw InferenceError(path: folder.path, reason: "modality \(image.header.modality) is outside the model's domain (\(card.modalities.joined(separator: ", ")))")
                }
                // What the model saw, for monitoring (one channel: the others repeat it).
                statistics.append(InputStatistics.of(Array(values.prefix(card.input.height * card.input.width))))
                input += values
            }
            let outputs: [Tensor]
            lock.lock()
            do {
                outputs = try folder.network.run(input, shape: [batch.count, card.input.channels, card.input.height, card.input.width])
                lock.unlock()
            } catch {
                lock.unlock()
                throw error
            }
            func output(_ name: String) throws -> Tensor {
                guard let tensor = outputs.first(where: { $0.name == name }), tensor.shape.first == batch.count else {
                    throw InferenceError(path: folder.path, reason: "output '\(name)' missing or not batched")
                }
                return tensor
            }
            let probability = try output(card.outputs.probability)
            let heatmap = try output(card.outputs.heatmap)
            let embedding = try output(card.outputs.embedding)
            let heatHeight = heatmap.shape.count >= 2 ? heatmap.shape[heatmap.shape.count - 2] : 1
            let heatWidth = heatmap.shape.last ?? 1
            let heatSize = heatmap.values.count / batch.count
            let embeddingSize = embedding.values.count / batch.count
            let probabilitySize = probability.values.count / batch.count
            for index in 0..<batch.count {
                let map = Array(heatmap.values[(index * heatSize)..<(index * heatSize + heatWidth * heatHeight)])
                results.append(SliceInference(
                    probability: probability.values[index * probabilitySize],
                    heatmap: Heatmap(width: heatWidth, height: heatHeight, values: map),
                    embedding: Array(embedding.values[(index * embeddingSize)..<((index + 1) * embeddingSize)]),
                    input: statistics[index]))
            }
            start += batch.count
        }
        return results
    }
}
