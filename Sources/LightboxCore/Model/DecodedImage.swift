/// Pixels of one instance in modality values: rescale slope and intercept applied in floating point,
/// colour kept as interleaved RGB. MONOCHROME1 values are not inverted here: windows apply to
/// modality values and the grey scale is inverted afterwards (`ImageHeader.isInvertedMonochrome`).
public struct DecodedImage: Sendable, Equatable {
    /// Pixels per row.
    public let width: Int
    /// Rows per frame.
    public let height: Int
    /// 1 for greyscale, 3 for RGB.
    public let channels: Int
    /// Number of frames; values hold them one after another.
    public let frames: Int
    /// frames × height × width × channels values.
    public let values: [Float]
    /// The header the pixels belong to.
    public let header: ImageHeader

    /// Wraps decoded values; `values.count` must equal frames × height × width × channels.
    public init(width: Int, height: Int, channels: Int, frames: Int, values: [Float], header: ImageHeader) {
        precondition(values.count == width * height * channels * frames, "values do not match the geometry")
        self.width = width
        self.height = height
        self.channels = channels
        self.frames = frames
        self.values = values
        self.header = header
    }

    /// The values of one frame.
    public func frame(_ index: Int) -> ArraySlice<Float> {
        let size = width * height * channels
        let clamped = min(max(index, 0), frames - 1)
        return values[(clamped * size)..<((clamped + 1) * size)]
    }
}
