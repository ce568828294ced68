public import LightboxCore

/// Turns an RGB picture into terminal cells with the upper half block (U+2580): foreground is
/// the upper pixel, background the lower one, so each cell shows two square pixels.
public enum HalfBlockRaster {
    /// The picture as 24-bit ANSI text, one line per cell row, colours reset at each line end.
    /// Colour escapes are only emitted when a colour changes.
    public static func ansi24(_ image: RGBImage) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(image.width * (image.height / 2 + 1) * 20)
        let upperHalf: [UInt8] = [0xE2, 0x96, 0x80]
        var row = 0
        while row < image.height {
            var lastTop: (UInt8, UInt8, UInt8)?
            var lastBottom: (UInt8, UInt8, UInt8)?
            for x in 0..<image.width {
                let top = image[x, row]
                let bottom = row + 1 < image.height ? image[x, row + 1] : (0, 0, 0)
                if lastTop.map({ $0 != top }) ?? true {
                    appendColour(&out, code: 38, top)
                    lastTop = top
                }
                if lastBottom.map({ $0 != bottom }) ?? true {
                    appendColour(&out, code: 48, bottom)
                    lastBottom = bottom
                }
                out.append(contentsOf: upperHalf)
            }
            out.append(contentsOf: Array("\u{1B}[0m\n".utf8))
            row += 2
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func appendColour(_ out: inout [UInt8], code: Int, _ colour: (r: UInt8, g: UInt8, b: UInt8)) {
        out.append(contentsOf: Array("\u{1B}[\(code);2;\(colour.r);\(colour.g);\(colour.b)m".utf8))
    }
}
