internal import CVisionLoader

/// A tensor's name and shape (-1 for a dynamic dimension).
public struct TensorSignature: Sendable, Equatable {
    public let name: String
    public let shape: [Int]

    public init(name: String, shape: [Int]) {
        self.name = name
        self.shape = shape
    }
}

/// A tensor result: values in row-major order and the shape.
public struct Tensor: Sendable, Equatable {
    public let name: String
    public let shape: [Int]
    public let values: [Float]
}

/// An ONNX network run in process by OpenCV DNN. Not thread-safe: one per thread, or a lock.
public final class OnnxNetwork {
    private let handle: OpaquePointer
    /// The file it came from.
    public let path: String
    /// Graph inputs (initializers excluded) and outputs, in the model's order.
    public let inputs: [TensorSignature]
    public let outputs: [TensorSignature]

    private let api: lbx_vision_api

    /// The engine's functions, loading OpenCV on first use; the error says why it could not be.
    static func engine(for path: String) throws(InferenceError) -> lbx_vision_api {
        var message = [CChar](repeating: 0, count: 512)
        guard let api = lbx_vision_api_load(&message, message.count) else {
            throw InferenceError(path: path, reason: message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        }
        return api.pointee
    }

    /// Loads `path`; a missing, truncated or foreign file throws an error naming it.
    public init(path: String) throws(InferenceError) {
        let api = try Self.engine(for: path)
        var error = lbx_vision_error()
        var handle: OpaquePointer?
        let status = api.net_load(path, &handle, &error)
        guard status == LBX_VISION_OK, let handle else {
            throw InferenceError(path: path, reason: Self.text(error.message))
        }
        self.api = api
        self.handle = handle
        self.path = path
        inputs = (0..<api.net_input_count(handle)).map { index in
            var info = lbx_tensor_info()
            _ = api.net_input(handle, index, &info)
            return Self.signature(info)
        }
        outputs = (0..<api.net_output_count(handle)).map { index in
            var info = lbx_tensor_info()
            _ = api.net_output(handle, index, &info)
            return Self.signature(info)
        }
    }

    deinit { api.net_free(handle) }

    /// Runs the network on one input tensor (the first graph input); returns every output.
    public func run(_ input: [Float], shape: [Int]) throws(InferenceError) -> [Tensor] {
        guard shape.reduce(1, *) == input.count else {
            throw InferenceError(path: path, reason: "input has \(input.count) values, shape \(shape) needs \(shape.reduce(1, *))")
        }
        var error = lbx_vision_error()
        let dims = shape.map(Int64.init)
        let status = input.withUnsafeBufferPointer { pointer in
            api.net_run(handle, pointer.baseAddress, dims, Int32(dims.count), &error)
        }
        guard status == LBX_VISION_OK else { throw InferenceError(path: path, reason: Self.text(error.message)) }
        return try (0..<Int32(outputs.count)).map { (index: Int32) throws(InferenceError) -> Tensor in
            var data: UnsafePointer<Float>?
            var info = lbx_tensor_info()
            guard api.net_result(handle, index, &data, &info) == LBX_VISION_OK, let data else {
                throw InferenceError(path: path, reason: "output \(index) missing after the run")
            }
            let signature = Self.signature(info)
            let count = signature.shape.reduce(1, *)
            return Tensor(name: signature.name, shape: signature.shape, values: Array(UnsafeBufferPointer(start: data, count: count)))
        }
    }

    static func signature(_ info: lbx_tensor_info) -> TensorSignature {
        let dims = withUnsafeBytes(of: info.dims) { Array($0.bindMemory(to: Int64.self)) }
        return TensorSignature(name: text(info.name), shape: dims.prefix(Int(info.rank)).map(Int.init))
    }

    static func text<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
    }
}

extension OnnxNetwork {
    /// The OpenCV version the engine runs on ("4.6.0"), or why the engine could not be loaded.
    public static var libraryVersion: String {
        do throws(InferenceError) { return try engine(for: "libLightboxVision.so").version().map { String(cString: $0) } ?? "unknown" } catch {
            return "not loaded (\(error.reason))"
        }
    }
}
