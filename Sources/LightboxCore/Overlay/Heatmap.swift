/// A per-slice map of values 0…1 over the slice's full extent, at any resolution.
public struct Heatmap: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// height × width values, row after row, in 0…1.
    public let values: [Float]

    public init(width: Int, height: Int, values: [Float]) {
        precondition(values.count == width * height, "heatmap values do not match its size")
        self.width = width
        self.height = height
        self.values = values.map { min(max($0.isFinite ? $0 : 0, 0), 1) }
    }
}

extension Heatmap {
    /// The values over `region` (fractions of the slice) at `width` × `height`: area-averaged
    /// where the region holds more cells than the target has pixels, else sampled bilinearly at
    /// each target pixel's centre (a zoomed view of a coarse map stays smooth and in place).
    public func resampled(region: NormalisedRegion, width targetWidth: Int, height targetHeight: Int) -> [Float] {
        guard width > 0, height > 0, targetWidth > 0, targetHeight > 0 else { return [Float](repeating: 0, count: max(0, targetWidth * targetHeight)) }
        if region == .whole {
            return Resampling.areaAverage(values[...], width: width, height: height, channels: 1, targetWidth: targetWidth, targetHeight: targetHeight)
        }
        let cellsX = region.width * Double(width), cellsY = region.height * Double(height)
        if cellsX >= Double(targetWidth) && cellsY >= Double(targetHeight) {
            // Cut to whole cells (less than one cell off, finer than a target pixel), then average.
            let x0 = max(0, min(width - 1, Int((region.x * Double(width)).rounded(.down))))
            let y0 = max(0, min(height - 1, Int((region.y * Double(height)).rounded(.down))))
            let x1 = max(x0 + 1, min(width, Int(((region.x + region.width) * Double(width)).rounded(.up))))
            let y1 = max(y0 + 1, min(height, Int(((region.y + region.height) * Double(height)).rounded(.up))))
            var cut = [Float](repeating: 0, count: (x1 - x0) * (y1 - y0))
            for y in y0..<y1 { for x in x0..<x1 { cut[(y - y0) * (x1 - x0) + (x - x0)] = values[y * width + x] } }
            return Resampling.areaAverage(cut[...], width: x1 - x0, height: y1 - y0, channels: 1, targetWidth: targetWidth, targetHeight: targetHeight)
        }
        var out = [Float](repeating: 0, count: targetWidth * targetHeight)
        for ty in 0..<targetHeight {
            let y = region.y + (Double(ty) + 0.5) / Double(targetHeight) * region.height
            for tx in 0..<targetWidth {
                out[ty * targetWidth + tx] = value(atX: region.x + (Double(tx) + 0.5) / Double(targetWidth) * region.width, y: y)
            }
        }
        return out
    }

    /// The heatmap value at a point of the slice (fractions of its width and height), bilinear
    /// between the four nearest cell centres, clamped at the edges.
    public func value(atX x: Double, y: Double) -> Float {
        let ux = min(max(x * Double(width) - 0.5, 0), Double(width - 1))
        let vy = min(max(y * Double(height) - 0.5, 0), Double(height - 1))
        let x0 = Int(ux), x1 = min(x0 + 1, width - 1), y0 = Int(vy), y1 = min(y0 + 1, height - 1)
        let fx = Float(ux - Double(x0)), fy = Float(vy - Double(y0))
        let top = values[y0 * width + x0] * (1 - fx) + values[y0 * width + x1] * fx
        let bottom = values[y1 * width + x0] * (1 - fx) + values[y1 * width + x1] * fx
        return top * (1 - fy) + bottom * fy
    }

    /// The box (fractions of the slice) around the connected cells ≥ `threshold` holding the
    /// highest value, nil when no cell reaches it.
    public func hottestRegion(threshold: Float = 0.5) -> NormalisedRegion? {
        guard let peak = values.indices.max(by: { values[$0] < values[$1] }), values[peak] >= threshold else { return nil }
        var seen = [Bool](repeating: false, count: values.count)
        var stack = [peak]
        seen[peak] = true
        var minX = width, minY = height, maxX = 0, maxY = 0
        while let index = stack.popLast() {
            let x = index % width, y = index / width
            minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
            for (nx, ny) in [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)] where nx >= 0 && ny >= 0 && nx < width && ny < height {
                let next = ny * width + nx
                if !seen[next] && values[next] >= threshold { seen[next] = true; stack.append(next) }
            }
        }
        return NormalisedRegion(x: Double(minX) / Double(width), y: Double(minY) / Double(height),
                                width: Double(maxX - minX + 1) / Double(width), height: Double(maxY - minY + 1) / Double(height))
    }
}

/// Identifies one image: a file and a frame in it.
public struct SliceKey: Sendable, Hashable, CustomStringConvertible {
    public let path: String
    public let frame: Int

    public init(path: String, frame: Int) {
        self.path = path
        self.frame = frame
    }

    public var description: String { frame == 0 ? path : "\(path)#\(frame + 1)" }
}

/// Where overlays come from (port): the AI model later; planted ground truth for the samples now.
public protocol HeatmapSource: Sendable {
    /// A label shown in the panel, saying what the overlay is (never presented as a diagnosis).
    var label: String { get }
    /// The heatmap of one image (a frame of the instance with `header`), nil when there is none.
    func heatmap(for header: ImageHeader, frame: Int) -> Heatmap?
}
