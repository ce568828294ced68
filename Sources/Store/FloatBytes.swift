public import Foundation

/// Float32 vectors (heatmaps, embeddings) as the bytes the stores keep them in, SQLite and PostgreSQL alike.
public enum FloatBytes {
    public static func data(_ values: [Float]) -> Data { values.withUnsafeBytes { Data($0) } }

    /// The floats in `data` (copied out, so the bytes need no alignment).
    public static func floats(_ data: Data) -> [Float] {
        var values = [Float](repeating: 0, count: data.count / MemoryLayout<Float>.size)
        _ = values.withUnsafeMutableBytes { data.copyBytes(to: $0) }
        return values
    }
}
