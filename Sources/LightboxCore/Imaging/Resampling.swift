/// Area-averaging reduction: every target pixel is the coverage-weighted mean of the source
/// pixels under it (a box filter, separable in x and y). Enlarging repeats the nearest pixel.
public enum Resampling {
    /// Per target index, the source indices and weights (summing to 1) that cover it.
    struct AxisWeights {
        var starts: [Int] = []
        var counts: [Int] = []
        var weights: [Float] = []
        var offsets: [Int] = []

        init(source: Int, target: Int) {
            let scale = Double(source) / Double(target)
            for index in 0..<target {
                let begin = Double(index) * scale
                let end = min(Double(index + 1) * scale, Double(source))
                let first = min(Int(begin), source - 1)
                let last = max(first, min(Int((end - 1e-9).rounded(.down)), source - 1))
                offsets.append(weights.count)
                starts.append(first)
                counts.append(last - first + 1)
                var total = 0.0
                var local: [Double] = []
                for sourceIndex in first...last {
                    let covered = min(end, Double(sourceIndex + 1)) - max(begin, Double(sourceIndex))
                    local.append(max(covered, 0))
                    total += max(covered, 0)
                }
                for value in local { weights.append(Float(total > 0 ? value / total : 1 / Double(local.count))) }
            }
        }
    }

    /// Reduces (or enlarges) an interleaved image of `channels` values per pixel to the target size.
    public static func areaAverage(
        _ source: ArraySlice<Float>, width: Int, height: Int, channels: Int,
        targetWidth: Int, targetHeight: Int
    ) -> [Float] {
        precondition(source.count == width * height * channels && targetWidth > 0 && targetHeight > 0)
        let xs = AxisWeights(source: width, target: targetWidth)
        let ys = AxisWeights(source: height, target: targetHeight)
        // Pass 1: along x, every source row.
        var horizontal = [Float](repeating: 0, count: height * targetWidth * channels)
        source.withUnsafeBufferPointer { input in
            horizontal.withUnsafeMutableBufferPointer { output in
                for row in 0..<height {
                    let rowBase = row * width * channels
                    let outBase = row * targetWidth * channels
                    for x in 0..<targetWidth {
                        let start = xs.starts[x], count = xs.counts[x], offset = xs.offsets[x]
                        for channel in 0..<channels {
                            var sum: Float = 0
                            for k in 0..<count {
                                sum += input[rowBase + (start + k) * channels + channel] * xs.weights[offset + k]
                            }
                            output[outBase + x * channels + channel] = sum
                        }
                    }
                }
            }
        }
        // Pass 2: along y.
        var result = [Float](repeating: 0, count: targetHeight * targetWidth * channels)
        let stride = targetWidth * channels
        horizontal.withUnsafeBufferPointer { input in
            result.withUnsafeMutableBufferPointer { output in
                for y in 0..<targetHeight {
                    let start = ys.starts[y], count = ys.counts[y], offset = ys.offsets[y]
                    let outBase = y * stride
                    for k in 0..<count {
                        let weight = ys.weights[offset + k]
                        let inBase = (start + k) * stride
                        for i in 0..<stride { output[outBase + i] += input[inBase + i] * weight }
                    }
                }
            }
        }
        return result
    }
}
