/// Area-averaging reduction: every target pixel is the coverage-weighted mean of the source
/// pixels under it (a box filter, separable in x and y). Enlarging repeats the nearest pixel.
public enum Resampling {
    /// Per target index, the source indices and weights (summing to 1) that cover it.
    @usableFromInline
    struct AxisWeights {
        @usableFromInline var starts: [Int] = []
        @usableFromInline var counts: [Int] = []
        @usableFromInline var weights: [Float] = []
        @usableFromInline var offsets: [Int] = []

        @usableFromInline
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
        areaAverage(source, width: width, height: height, channels: channels, targetWidth: targetWidth, targetHeight: targetHeight) { $0 }
    }

    /// Greyscale windowed as it is averaged (`SliceRenderer`'s hot path): `Window.normalized`,
    /// inverted for MONOCHROME1, worked out inline for every source value.
    public static func areaAverageWindowed(
        _ source: ArraySlice<Float>, width: Int, height: Int, window: Window, inverted: Bool,
        targetWidth: Int, targetHeight: Int
    ) -> [Float] {
        let c = Float(window.center) - 0.5
        let w = Float(window.width) - 1
        if w <= 0 {
            return areaAverage(source, width: width, height: height, channels: 1, targetWidth: targetWidth, targetHeight: targetHeight) {
                let shade: Float = $0 > c ? 1 : 0
                return inverted ? 1 - shade : shade
            }
        }
        if inverted {
            return areaAverage(source, width: width, height: height, channels: 1, targetWidth: targetWidth, targetHeight: targetHeight) {
                let t = ($0 - c) / w + 0.5
                return 1 - (t < 0 ? 0 : (t > 1 ? 1 : t))
            }
        }
        return areaAverage(source, width: width, height: height, channels: 1, targetWidth: targetWidth, targetHeight: targetHeight) {
            let t = ($0 - c) / w + 0.5
            return t < 0 ? 0 : (t > 1 ? 1 : t)
        }
    }

    /// The same, with `transform` applied to every source value before it is averaged (the
    /// renderer's window), so no transformed full-size copy is made.
    @inlinable
    public static func areaAverage(
        _ source: ArraySlice<Float>, width: Int, height: Int, channels: Int,
        targetWidth: Int, targetHeight: Int, transform: (Float) -> Float
    ) -> [Float] {
        precondition(source.count == width * height * channels && targetWidth > 0 && targetHeight > 0)
        let xs = AxisWeights(source: width, target: targetWidth)
        let ys = AxisWeights(source: height, target: targetHeight)
        if channels == 1 && targetHeight * 2 <= height {
            return verticalFirst(source, width: width, targetWidth: targetWidth, targetHeight: targetHeight, xs: xs, ys: ys, transform: transform)
        }
        // Pass 1: along x, every source row.
        var horizontal = [Float](repeating: 0, count: height * targetWidth * channels)
        source.withUnsafeBufferPointer { input in
            horizontal.withUnsafeMutableBufferPointer { output in
                xs.starts.withUnsafeBufferPointer { starts in
                xs.counts.withUnsafeBufferPointer { counts in
                xs.offsets.withUnsafeBufferPointer { offsets in
                xs.weights.withUnsafeBufferPointer { weights in
                    if channels == 1 {
                        // Greyscale (most images): each row transformed once into a buffer (a loop
                        // the compiler vectorises), then the same sums without channel arithmetic.
                        let row = UnsafeMutablePointer<Float>.allocate(capacity: width)
                        defer { row.deallocate() }
                        for y in 0..<height {
                            let rowStart = input.baseAddress! + y * width
                            for i in 0..<width { row[i] = transform(rowStart[i]) }
                            let outStart = output.baseAddress! + y * targetWidth
                            for x in 0..<targetWidth {
                                let first = row + starts[x], offset = offsets[x]
                                var sum: Float = 0
                                for k in 0..<counts[x] { sum += first[k] * weights[offset + k] }
                                outStart[x] = sum
                            }
                        }
                        return
                    }
                    for row in 0..<height {
                        let rowBase = row * width * channels
                        let outBase = row * targetWidth * channels
                        for x in 0..<targetWidth {
                            let start = starts[x], count = counts[x], offset = offsets[x]
                            for channel in 0..<channels {
                                var sum: Float = 0
                                for k in 0..<count {
                                    sum += transform(input[rowBase + (start + k) * channels + channel]) * weights[offset + k]
                                }
                                output[outBase + x * channels + channel] = sum
                            }
                        }
                    }
                }
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

    /// Greyscale reduced to far fewer rows (a thumbnail, a contact-sheet tile): each source row
    /// is transformed and added, weighted, into its target row — whole rows at a time, which
    /// vectorises — and only the few target rows are then reduced along x.
    @inlinable
    static func verticalFirst(_ source: ArraySlice<Float>, width: Int, targetWidth: Int, targetHeight: Int,
                              xs: AxisWeights, ys: AxisWeights, transform: (Float) -> Float) -> [Float] {
        var vertical = [Float](repeating: 0, count: targetHeight * width)
        var result = [Float](repeating: 0, count: targetHeight * targetWidth)
        let row = UnsafeMutablePointer<Float>.allocate(capacity: width)
        defer { row.deallocate() }
        source.withUnsafeBufferPointer { input in
            vertical.withUnsafeMutableBufferPointer { sums in
                for y in 0..<targetHeight {
                    let out = sums.baseAddress! + y * width
                    for k in 0..<ys.counts[y] {
                        let weight = ys.weights[ys.offsets[y] + k]
                        let rowStart = input.baseAddress! + (ys.starts[y] + k) * width
                        for i in 0..<width { row[i] = transform(rowStart[i]) }
                        for i in 0..<width { out[i] += row[i] * weight }
                    }
                }
            }
        }
        vertical.withUnsafeBufferPointer { sums in
            result.withUnsafeMutableBufferPointer { output in
                for y in 0..<targetHeight {
                    let rowStart = sums.baseAddress! + y * width
                    for x in 0..<targetWidth {
                        var sum: Float = 0
                        let first = rowStart + xs.starts[x], offset = xs.offsets[x]
                        for k in 0..<xs.counts[x] { sum += first[k] * xs.weights[offset + k] }
                        output[y * targetWidth + x] = sum
                    }
                }
            }
        }
        return result
    }
}
