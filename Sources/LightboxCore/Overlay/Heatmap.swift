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
