public import LightboxCore

/// Turns an RGB picture into terminal cells with the upper half block (U+2580): foreground is
/// the upper pixel, background the lower one, so each cell shows two square pixels.
public enum HalfBlockRaster {
    /// The picture as 24-bit ANSI text, one line per cell row, colours reset at each line end.
    /// Colour escapes are only emitted when a colour changes.
    public static func ansi24(_ image: RGBImage) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(image.width * (image.height / 2 + 1) * 24)
        let reset: [UInt8] = Array("\u{1B}[0m\n".utf8)
        image.pixels.withUnsafeBufferPointer { pixels in
            var row = 0
            while row < image.height {
                var lastTop = -1, lastBottom = -1
                for x in 0..<image.width {
                    let t = (row * image.width + x) * 3
                    let top = Int(pixels[t]) << 16 | Int(pixels[t + 1]) << 8 | Int(pixels[t + 2])
                    var bottom = 0
                    if row + 1 < image.height {
                        let b = t + image.width * 3
                        bottom = Int(pixels[b]) << 16 | Int(pixels[b + 1]) << 8 | Int(pixels[b + 2])
                    }
                    if top != lastTop {
                        appendColour(&out, code: 0x33, top)
                        lastTop = top
                    }
                    if bottom != lastBottom {
                        appendColour(&out, code: 0x34, bottom)
                        lastBottom = bottom
                    }
                    out.append(0xE2)
                    out.append(0x96)
                    out.append(0x80)
                }
                out.append(contentsOf: reset)
                row += 2
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// ESC [ 38;2;R;G;B m (foreground, `code` '3') or 48 (background, '4'), digits written directly.
    @inline(__always)
    private static func appendColour(_ out: inout [UInt8], code: UInt8, _ rgb: Int) {
        out.append(0x1B); out.append(0x5B); out.append(code); out.append(0x38); out.append(0x3B); out.append(0x32)
        for shift in [16, 8, 0] {
            out.append(0x3B)
            let value = (rgb >> shift) & 0xFF
            if value >= 100 { out.append(UInt8(0x30 + value / 100)) }
            if value >= 10 { out.append(UInt8(0x30 + value / 10 % 10)) }
            out.append(UInt8(0x30 + value % 10))
        }
        out.append(0x6D)
    }
}
