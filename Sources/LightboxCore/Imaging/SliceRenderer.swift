/// From modality values to display pixels: window first (in float), then the presentation
/// inversion of MONOCHROME1, then area averaging to the target size, then 8-bit RGB.
public enum SliceRenderer {
    /// Renders one frame (or the `region` of it: a zoomed view, resampled from the full-resolution
    /// values) at `targetWidth` × `targetHeight` (nil: the region's own size).
    public static func render(_ image: DecodedImage, frame: Int = 0, window: Window, region: PixelRegion? = nil,
                              targetWidth: Int? = nil, targetHeight: Int? = nil) -> RGBImage {
        let area = region ?? PixelRegion(x: 0, y: 0, width: image.width, height: image.height)
        let values = image.values(frame: frame, region: area)
        let sourceWidth = area.width, sourceHeight = area.height
        let inverted = image.header.isInvertedMonochrome && image.channels == 1
        let width = targetWidth ?? sourceWidth, height = targetHeight ?? sourceHeight
        let reduced: [Float]
        if width == sourceWidth && height == sourceHeight {
            var windowed = [Float](repeating: 0, count: values.count)
            windowed.withUnsafeMutableBufferPointer { output in
                var i = 0
                for value in values {
                    let shade = window.normalized(value)
                    output[i] = inverted ? 1 - shade : shade
                    i += 1
                }
            }
            reduced = windowed
        } else {
            // The window is applied to each value as the horizontal pass reads it: the same order
            // (window, then average) without a full-size copy of the windowed slice.
            if image.channels == 1 {
                reduced = Resampling.areaAverageWindowed(values, width: sourceWidth, height: sourceHeight, window: window,
                                                         inverted: inverted, targetWidth: width, targetHeight: height)
            } else {
                reduced = Resampling.areaAverage(values, width: sourceWidth, height: sourceHeight, channels: image.channels,
                                                 targetWidth: width, targetHeight: height) { window.normalized($0) }
            }
        }
        var bytes = [UInt8](repeating: 0, count: width * height * 3)
        bytes.withUnsafeMutableBufferPointer { out in
            reduced.withUnsafeBufferPointer { shades in
                if image.channels == 3 {
                    for i in 0..<(width * height * 3) { out[i] = UInt8(shades[i] * 255 + 0.5) }
                } else {
                    for i in 0..<(width * height) {
                        let grey = UInt8(shades[i] * 255 + 0.5)
                        out[i * 3] = grey
                        out[i * 3 + 1] = grey
                        out[i * 3 + 2] = grey
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: bytes)
    }
}
