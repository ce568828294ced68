public import LightboxCore

/// DEC Sixel: the picture quantised to the terminal's colour registers (greys only when the
/// picture is grey — a slice without overlay keeps its grey levels; else a 6×6×6 cube and grey
/// ramp), then bands of six rows, each colour of a band one run-length-encoded pass.
public enum SixelEncoder {
    /// The picture as one DCS … ST sequence, drawn from the cursor (the terminal does not scale it).
    public static func encode(_ picture: RGBImage, colourRegisters: Int = 256) -> [UInt8] {
        let palette = Palette(picture, registers: max(2, min(colourRegisters, 256)))
        let width = picture.width, height = picture.height
        var out: [UInt8] = []
        out.reserveCapacity(width * height / 3 + 4096)
        // P2 = 1: pixels no colour is set for keep what is behind; raster attributes give the size.
        out += Array("\u{1B}P0;1;0q\"1;1;\(width);\(height)".utf8)
        for (index, colour) in palette.colours.enumerated() {
            out += Array("#\(index);2;\(Int(colour.0) * 100 / 255);\(Int(colour.1) * 100 / 255);\(Int(colour.2) * 100 / 255)".utf8)
        }
        let count = palette.colours.count
        var indices = [UInt8](repeating: 0, count: width * height)
        picture.pixels.withUnsafeBufferPointer { bytes in
            for i in 0..<(width * height) { indices[i] = palette.index(bytes[i * 3], bytes[i * 3 + 1], bytes[i * 3 + 2]) }
        }
        // Per band: one row of sixel bits per colour, and where each colour's pixels start and end.
        var bits = [UInt8](repeating: 0, count: count * width)
        var first = [Int](repeating: Int.max, count: count)
        var last = [Int](repeating: -1, count: count)
        var used: [Int] = []
        used.reserveCapacity(count)
        indices.withUnsafeBufferPointer { indices in
        bits.withUnsafeMutableBufferPointer { bits in
        first.withUnsafeMutableBufferPointer { first in
        last.withUnsafeMutableBufferPointer { last in
            var band = 0
            while band < height {
                for c in used {
                    for x in first[c]...last[c] { bits[c * width + x] = 0 }
                    first[c] = Int.max
                    last[c] = -1
                }
                used.removeAll(keepingCapacity: true)
                let rows = min(6, height - band)
                for r in 0..<rows {
                    let rowStart = (band + r) * width
                    let bit = UInt8(1 << r)
                    for x in 0..<width {
                        let c = Int(indices[rowStart + x])
                        bits[c * width + x] |= bit
                        if last[c] < 0 { used.append(c) }
                        if x < first[c] { first[c] = x }
                        if x > last[c] { last[c] = x }
                    }
                }
                used.sort()
                var firstColour = true
                for c in used {
                    if !firstColour { out.append(0x24) }  // $ back to the band's start
                    firstColour = false
                    out.append(0x23)
                    appendNumber(&out, c)
                    var x = 0
                    if first[c] > 0 { appendRun(&out, 0x3F, first[c]); x = first[c] }
                    let row = bits.baseAddress! + c * width
                    while x <= last[c] {
                        let value = row[x]
                        var run = 1
                        while x + run <= last[c] && row[x + run] == value { run += 1 }
                        appendRun(&out, 0x3F + value, run)
                        x += run
                    }
                }
                band += 6
                // - to the next band (none after the last: it would reach into the row below).
                if band < height { out.append(0x2D) }
            }
        }
        }
        }
        }
        out += [0x1B, 0x5C]
        return out
    }

    @inline(__always)
    static func appendRun(_ out: inout [UInt8], _ character: UInt8, _ run: Int) {
        if run > 3 {
            out.append(0x21)
            appendNumber(&out, run)
            out.append(character)
        } else {
            for _ in 0..<run { out.append(character) }
        }
    }

    @inline(__always)
    static func appendNumber(_ out: inout [UInt8], _ value: Int) {
        if value >= 10 { appendNumber(&out, value / 10) }
        out.append(UInt8(0x30 + value % 10))
    }

    /// The colours registers hold, and the register of a colour.
    struct Palette {
        var colours: [(UInt8, UInt8, UInt8)] = []
        let grey: Bool
        let levels: Int
        let greyLevels: Int

        init(_ picture: RGBImage, registers: Int) {
            var isGrey = true
            picture.pixels.withUnsafeBufferPointer { p in
                var i = 0
                while i < p.count { if p[i] != p[i + 1] || p[i] != p[i + 2] { isGrey = false; break }; i += 3 }
            }
            grey = isGrey
            if isGrey {
                levels = 0
                greyLevels = registers
                colours = (0..<registers).map { let v = UInt8($0 * 255 / (registers - 1)); return (v, v, v) }
            } else {
                // The largest cube that fits with a grey ramp beside it (6 levels, 216 + 40 greys at 256).
                var n = 6
                while n > 2 && n * n * n > registers - 2 { n -= 1 }
                levels = n
                greyLevels = max(2, registers - n * n * n)
                for r in 0..<n { for g in 0..<n { for b in 0..<n {
                    colours.append((UInt8(r * 255 / (n - 1)), UInt8(g * 255 / (n - 1)), UInt8(b * 255 / (n - 1))))
                } } }
                for i in 0..<greyLevels { let v = UInt8(i * 255 / (greyLevels - 1)); colours.append((v, v, v)) }
            }
        }

        @inline(__always)
        func index(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
            func level(_ v: UInt8, _ n: Int) -> Int { (Int(v) * (n - 1) + 127) / 255 }
            if grey { return UInt8(level(r, greyLevels)) }
            let n = levels
            let cube = (level(r, n) * n + level(g, n)) * n + level(b, n)
            // A grey-ish colour goes to the ramp when the ramp is closer.
            let mean = (Int(r) + Int(g) + Int(b)) / 3
            let rampIndex = level(UInt8(mean), greyLevels)
            let ramp = colours[n * n * n + rampIndex], c = colours[cube]
            func distance(_ p: (UInt8, UInt8, UInt8)) -> Int {
                let dr = Int(p.0) - Int(r), dg = Int(p.1) - Int(g), db = Int(p.2) - Int(b)
                return dr * dr + dg * dg + db * db
            }
            return UInt8(distance(ramp) < distance(c) ? n * n * n + rampIndex : cube)
        }
    }
}
