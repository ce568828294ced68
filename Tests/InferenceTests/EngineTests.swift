import Foundation
import Inference
import LightboxCore
import Testing
import TestSupport

/// The OpenCV DNN engine on a real ONNX file (a tiny network with fixed weights, written by
/// tools/make_test_model.py), against onnxruntime's outputs saved beside it.
struct EngineTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/tiny-model").path

    struct Reference: Decodable {
        let input: [Float]
        let inputShape: [Int]
        let probability: [Float]
        let heatmap: [Float]
        let embedding: [Float]
    }

    func reference() throws -> Reference {
        try JSONDecoder().decode(Reference.self, from: Data(contentsOf: URL(fileURLWithPath: Self.folder + "/reference.json")))
    }

    @Test func listsInputsAndOutputs() throws {
        let network = try OnnxNetwork(path: Self.folder + "/model.onnx")
        #expect(network.inputs == [TensorSignature(name: "image", shape: [-1, 1, 32, 32])])
        #expect(network.outputs.map(\.name) == ["probability", "heatmap", "embedding"])
        #expect(network.outputs[1].shape == [-1, 1, 32, 32])
    }

    @Test func outputsEqualOnnxRuntimeWithin1e4() throws {
        let reference = try reference()
        let network = try OnnxNetwork(path: Self.folder + "/model.onnx")
        let outputs = try network.run(reference.input, shape: reference.inputShape)
        let byName = Dictionary(uniqueKeysWithValues: outputs.map { ($0.name, $0.values) })
        for (name, expected) in [("probability", reference.probability), ("heatmap", reference.heatmap), ("embedding", reference.embedding)] {
            let actual = try #require(byName[name])
            #expect(actual.count == expected.count, "\(name)")
            let worst = zip(actual, expected).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst <= 1e-4, "\(name) differs by \(worst)")
        }
        #expect(outputs[0].shape == [3, 1])
    }

    /// The shipped default model: its card matches its graph, and OpenCV's outputs equal the
    /// onnxruntime outputs the training script saved beside it.
    @Test func defaultModelEqualsItsReferenceOutputs() throws {
        let path = Fixtures.repositoryRoot + "/models/default"
        let folder = try ModelFolder(path: path)
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: URL(fileURLWithPath: path + "/reference.json")))
        let outputs = try folder.network.run(reference.input, shape: reference.inputShape)
        let byName = Dictionary(uniqueKeysWithValues: outputs.map { ($0.name, $0.values) })
        for (name, expected) in [("probability", reference.probability), ("heatmap", reference.heatmap), ("embedding", reference.embedding)] {
            let actual = try #require(byName[name])
            #expect(actual.count == expected.count, "\(name)")
            let worst = zip(actual, expected).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst <= 1e-4, "\(name) differs by \(worst)")
        }
        #expect(folder.card.calibration != nil, "the card carries its calibration")
        #expect(folder.card.domain != nil, "the card carries its domain guard")
        let size = try FileManager.default.attributesOfItem(atPath: path + "/model.onnx")[.size] as? Int ?? .max
        #expect(size <= 10_000_000)
    }

    @Test func wrongInputShapeIsAnError() throws {
        let network = try OnnxNetwork(path: Self.folder + "/model.onnx")
        #expect(throws: InferenceError.self) { _ = try network.run([Float](repeating: 0, count: 16 * 16), shape: [1, 1, 16, 16]) }
        #expect(throws: InferenceError.self) { _ = try network.run([0, 1], shape: [1, 1, 32, 32]) }
    }

    @Test func detectorPreprocessesAsTheCardSaysAndBatches() throws {
        let detector = OnnxFindingDetector(folder: try ModelFolder(path: Self.folder), batchSize: 2)
        #expect(detector.modelName == "tiny-test-network")
        var header = ImageHeader()
        header.modality = "CT"
        // 64×64 HU ramp: the CT window 40/400 maps -160…240 to 0…1; area averaging halves the size.
        let values: [Float] = (0..<(64 * 64)).map { Float($0 % 64) * 8 - 200 }
        let image = DecodedImage(width: 64, height: 64, channels: 1, frames: 1, values: values, header: header)
        let input = try #require(detector.preprocess(image))
        #expect(input.count == 32 * 32)
        let window = Window(center: 40, width: 400)
        let expectedFirst = (window.normalized(values[0]) + window.normalized(values[1])) / 2
        #expect(abs(input[0] - expectedFirst) < 1e-6)
        #expect(input[31] == 1)
        let results = try detector.infer([image, image, image])
        #expect(results.count == 3)
        let direct = try detector.folder.network.run(input, shape: [1, 1, 32, 32])
        #expect(abs(results[2].probability - direct[0].values[0]) < 1e-5)
        #expect(results[0].heatmap.width == 32 && results[0].embedding.count == 4)
        header.modality = "XA"
        let outside = DecodedImage(width: 64, height: 64, channels: 1, frames: 1, values: values, header: header)
        #expect(detector.preprocess(outside) == nil)
        #expect(throws: InferenceError.self) { _ = try detector.infer([outside]) }
    }

    @Test func brokenModelFoldersNameTheFile() throws {
        let folder = TemporaryFolder("model")
        let card = try Data(contentsOf: URL(fileURLWithPath: Self.folder + "/model.json"))
        let model = try Data(contentsOf: URL(fileURLWithPath: Self.folder + "/model.onnx"))
        func expectError(_ fileSuffix: String, _ reason: String) {
            #expect {
                _ = try ModelFolder(path: folder.path)
            } throws: { error in
                guard let error = error as? InferenceError else { return false }
                return error.path.hasSuffix(fileSuffix) && error.reason.contains(reason)
            }
        }
        expectError("model.json", "no model card")
        try card.write(to: URL(fileURLWithPath: folder.file("model.json")))
        expectError("model.onnx", "no model.onnx")
        try model.prefix(model.count / 2).write(to: URL(fileURLWithPath: folder.file("model.onnx")))
        expectError("model.onnx", "not an ONNX model")
        try Data("not a model at all".utf8).write(to: URL(fileURLWithPath: folder.file("model.onnx")))
        expectError("model.onnx", "not an ONNX model")
        try model.write(to: URL(fileURLWithPath: folder.file("model.onnx")))
        _ = try ModelFolder(path: folder.path)
        let mismatched = String(decoding: card, as: UTF8.self).replacingOccurrences(of: "\"width\": 32", with: "\"width\": 64")
        try mismatched.write(toFile: folder.file("model.json"), atomically: true, encoding: .utf8)
        expectError("model.json", "does not match model.onnx input shape")
        let renamed = String(decoding: card, as: UTF8.self).replacingOccurrences(of: "\"heatmap\": \"heatmap\"", with: "\"heatmap\": \"map\"")
        try renamed.write(toFile: folder.file("model.json"), atomically: true, encoding: .utf8)
        expectError("model.json", "card output 'map'")
        try "{ not json".write(toFile: folder.file("model.json"), atomically: true, encoding: .utf8)
        expectError("model.json", "not valid")
    }

    @Test func truncatedAtEveryOffsetIsAnErrorNeverACrash() throws {
        let folder = TemporaryFolder("model")
        let model = try Data(contentsOf: URL(fileURLWithPath: Self.folder + "/model.onnx"))
        let path = folder.file("model.onnx")
        for length in 0..<model.count {
            try model.prefix(length).write(to: URL(fileURLWithPath: path))
            #expect(throws: InferenceError.self, "truncated at \(length) of \(model.count)") { _ = try OnnxNetwork(path: path) }
        }
    }
}
