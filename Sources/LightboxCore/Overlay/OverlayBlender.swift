/// Lays a heatmap over a rendered slice as a separate layer: the heatmap is resampled to the
/// picture, coloured with a colormap and alpha-blended (alpha grows with the value, so weak
/// values stay transparent), or drawn as a contour only. The slice itself is never changed.
public enum OverlayBlender {
    /// Values below this are not drawn.
    public static let floor: Float = 0.1
    /// The level the contour follows.
    public static let contourLevel: Float = 0.5

    /// A new picture with the overlay on top of `picture`.
    /// `region` is the part of the slice the picture shows (a zoomed view); the heatmap is cut to
    /// the same part, whatever its own resolution.
    public static func blend(_ picture: RGBImage, heatmap: Heatmap, colormap: Colormap, opacity: Float, contourOnly: Bool,
                             region: NormalisedRegion = .whole) -> RGBImage {
        let resized = heatmap.resampled(region: region, width: picture.width, height: picture.height)
        var pixels = picture.pixels
        let alphaScale = min(max(opacity, 0), 1)
        for y in 0..<picture.height {
            for x in 0..<picture.width {
                let value = resized[y * picture.width + x]
                var alpha: Float
                var colourValue = value
                if contourOnly {
                    guard value >= contourLevel else { continue }
                    // An edge pixel: a 4-neighbour lies below the level (or the picture ends).
                    let neighbours = [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)]
                    let edge = neighbours.contains { nx, ny in
                        nx < 0 || ny < 0 || nx >= picture.width || ny >= picture.height || resized[ny * picture.width + nx] < contourLevel
                    }
                    guard edge else { continue }
                    alpha = 1
                    colourValue = max(value, 0.75)
                } else {
                    guard value >= floor else { continue }
                    alpha = alphaScale * min(1, (value - floor) / (1 - floor) * 1.5)
                }
                let (r, g, b) = colormap.colour(colourValue)
                let i = (y * picture.width + x) * 3
                pixels[i] = mix(pixels[i], r, alpha)
                pixels[i + 1] = mix(pixels[i + 1], g, alpha)
                pixels[i + 2] = mix(pixels[i + 2], b, alpha)
            }
        }
        return RGBImage(width: picture.width, height: picture.height, pixels: pixels)
    }

    @inline(__always)
    static func mix(_ base: UInt8, _ top: UInt8, _ alpha: Float) -> UInt8 {
        UInt8((Float(base) * (1 - alpha) + Float(top) * alpha).rounded())
    }
}
