public import LightboxCore
import Foundation

/// A model folder: `model.onnx` and its card `model.json`, checked against each other on load.
public struct ModelFolder {
    public let path: String
    public let card: ModelCard
    public let network: OnnxNetwork

    /// Loads and checks the folder; every problem names the file it is about.
    public init(path: String) throws(InferenceError) {
        self.path = path
        let cardPath = path + "/model.json", modelPath = path + "/model.onnx"
        guard let data = FileManager.default.contents(atPath: cardPath) else {
            throw InferenceError(path: cardPath, reason: "no model card (model.json) in the model folder")
        }
        do {
            card = try JSONDecoder().decode(ModelCard.self, from: data)
        } catch {
            throw InferenceError(path: cardPath, reason: "model card is not valid: \(error)")
        }
        guard FileManager.default.fileExists(atPath: modelPath) else {
            throw InferenceError(path: modelPath, reason: "no model.onnx in the model folder")
        }
        network = try OnnxNetwork(path: modelPath)
        try Self.check(card, against: network, cardPath: cardPath)
    }

    /// The card must describe the graph: its input (name, 4-D shape, size) and its outputs.
    static func check(_ card: ModelCard, against network: OnnxNetwork, cardPath: String) throws(InferenceError) {
        guard let input = network.inputs.first(where: { $0.name == card.input.name }) else {
            throw InferenceError(path: cardPath, reason: "card input '\(card.input.name)' is not an input of model.onnx (it has \(network.inputs.map(\.name)))")
        }
        let expected = [-1, card.input.channels, card.input.height, card.input.width]
        guard input.shape.count == 4,
              zip(input.shape, expected).dropFirst().allSatisfy({ $0 == $1 || $0 == -1 }) else {
            throw InferenceError(path: cardPath, reason: "card input \(card.input.channels)×\(card.input.height)×\(card.input.width) does not match model.onnx input shape \(input.shape)")
        }
        for name in [card.outputs.probability, card.outputs.heatmap, card.outputs.embedding] where !network.outputs.contains(where: { $0.name == name }) {
            throw InferenceError(path: cardPath, reason: "card output '\(name)' is not an output of model.onnx (it has \(network.outputs.map(\.name)))")
        }
    }
}

extension ModelFolder {
    /// How this model's outputs become study results.
    public var triageSettings: TriageSettings {
        TriageSettings(calibration: card.calibrationFunction, tiers: card.tiers ?? .init(), aggregation: card.aggregation ?? .max,
                       findingThreshold: card.findingThreshold ?? 0.5, domain: card.domainGuard, modalities: card.modalities)
    }
}
