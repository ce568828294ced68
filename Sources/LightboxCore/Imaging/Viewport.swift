/// The part of a slice the viewer shows: a zoom level and a centre in normalised image
/// coordinates (0…1 across the width and height), so it survives scrolling to slices of another
/// size. At 1× the whole image shows; at n× a region 1/n of the image in each direction.
public struct Viewport: Sendable, Equatable {
    /// The zoom levels the keys step through.
    public static let levels = [1, 2, 4, 8]

    public private(set) var zoom: Int
    /// The view's centre, normalised (0.5, 0.5 is the middle of the image).
    public private(set) var centerX: Double
    public private(set) var centerY: Double

    public init(zoom: Int = 1, centerX: Double = 0.5, centerY: Double = 0.5) {
        self.zoom = Self.levels.contains(zoom) ? zoom : 1
        self.centerX = centerX
        self.centerY = centerY
        clamp()
    }

    /// The whole image.
    public static let whole = Viewport()

    public var isWhole: Bool { zoom == 1 }

    /// One level closer (false when already at the closest).
    @discardableResult
    public mutating func zoomIn() -> Bool {
        guard let index = Self.levels.firstIndex(of: zoom), index + 1 < Self.levels.count else { return false }
        zoom = Self.levels[index + 1]
        clamp()
        return true
    }

    /// One level further out, around the same centre (false at 1×).
    @discardableResult
    public mutating func zoomOut() -> Bool {
        guard let index = Self.levels.firstIndex(of: zoom), index > 0 else { return false }
        zoom = Self.levels[index - 1]
        clamp()
        return true
    }

    /// Moves the view by `dx`, `dy` views (0.25: a quarter of the view); false when the clamp at
    /// the image's edge left it where it was.
    @discardableResult
    public mutating func pan(dx: Double, dy: Double) -> Bool {
        let before = (centerX, centerY)
        centerX += dx / Double(zoom)
        centerY += dy / Double(zoom)
        clamp()
        return before != (centerX, centerY)
    }

    /// A view at `zoom` centred on (x, y) (normalised), clamped to the image.
    public static func centred(on x: Double, _ y: Double, zoom: Int) -> Viewport {
        Viewport(zoom: zoom, centerX: x, centerY: y)
    }

    /// The closest level whose view holds a box `width` × `height` (normalised) with `margin`
    /// (0.5: half the box's size again around it).
    public static func level(fitting width: Double, _ height: Double, margin: Double = 0.5) -> Int {
        let needed = max(width, height) * (1 + margin)
        return levels.last { 1 / Double($0) >= needed } ?? 1
    }

    /// Keeps the view inside the image: the centre at least half a view from each edge.
    private mutating func clamp() {
        let half = 0.5 / Double(zoom)
        centerX = min(max(centerX.isFinite ? centerX : 0.5, half), 1 - half)
        centerY = min(max(centerY.isFinite ? centerY : 0.5, half), 1 - half)
    }

    /// The region of a `width` × `height` image in whole pixels (at least 1×1, inside the image).
    public func region(width: Int, height: Int) -> PixelRegion {
        guard width > 0, height > 0 else { return PixelRegion(x: 0, y: 0, width: max(width, 0), height: max(height, 0)) }
        if zoom == 1 { return PixelRegion(x: 0, y: 0, width: width, height: height) }
        let w = max(1, Int((Double(width) / Double(zoom)).rounded()))
        let h = max(1, Int((Double(height) / Double(zoom)).rounded()))
        let x = min(max(0, Int((centerX * Double(width) - Double(w) / 2).rounded())), width - w)
        let y = min(max(0, Int((centerY * Double(height) - Double(h) / 2).rounded())), height - h)
        return PixelRegion(x: x, y: y, width: w, height: h)
    }
}

/// A rectangle of image pixels.
public struct PixelRegion: Sendable, Equatable, Hashable {
    public var x: Int, y: Int, width: Int, height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }

    /// The region as fractions of a `imageWidth` × `imageHeight` image (for layers at another
    /// resolution, such as a heatmap).
    public func normalised(imageWidth: Int, imageHeight: Int) -> NormalisedRegion {
        NormalisedRegion(x: Double(x) / Double(max(imageWidth, 1)), y: Double(y) / Double(max(imageHeight, 1)),
                         width: Double(width) / Double(max(imageWidth, 1)), height: Double(height) / Double(max(imageHeight, 1)))
    }

    public func covers(width imageWidth: Int, height imageHeight: Int) -> Bool {
        x == 0 && y == 0 && width == imageWidth && height == imageHeight
    }
}

/// A rectangle in fractions of an image's width and height.
public struct NormalisedRegion: Sendable, Equatable, Hashable {
    public var x: Double, y: Double, width: Double, height: Double

    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }

    public static let whole = NormalisedRegion(x: 0, y: 0, width: 1, height: 1)
}

extension DecodedImage {
    /// The values of one frame inside `region`, row after row (a copy; the whole frame when the
    /// region covers it).
    public func values(frame index: Int, region: PixelRegion) -> ArraySlice<Float> {
        let all = frame(index)
        if region.covers(width: width, height: height) { return all }
        var out = [Float](repeating: 0, count: region.width * region.height * channels)
        let rowLength = region.width * channels
        all.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                for row in 0..<region.height {
                    let from = ((region.y + row) * width + region.x) * channels
                    for i in 0..<rowLength { target[row * rowLength + i] = source[from + i] }
                }
            }
        }
        return out[...]
    }
}
