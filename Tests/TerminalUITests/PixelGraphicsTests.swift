import LightboxCore
import TerminalUI
import Testing

/// Kitty and Sixel encoders, and reading the terminal's answers to the graphics query.
struct PixelGraphicsTests {
    static func picture(width: Int, height: Int, grey: Bool = true) -> RGBImage {
        var bytes: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width {
                let v = UInt8((x * 37 + y * 11) % 256)
                bytes += grey ? [v, v, v] : [v, UInt8((x * 5) % 256), UInt8((y * 9) % 256)]
            }
        }
        return RGBImage(width: width, height: height, pixels: bytes)
    }

    /// Decodes standard base64 (the test's own, to check the encoder).
    static func base64Decode(_ text: [UInt8]) -> [UInt8] {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        var buffer = 0, bits = 0
        for c in text where c != 0x3D {
            buffer = buffer << 6 | alphabet.firstIndex(of: c)!
            bits += 6
            if bits >= 8 { bits -= 8; out.append(UInt8(buffer >> bits & 0xFF)) }
        }
        return out
    }

    @Test func base64MatchesTheStandard() {
        #expect(Base64.encode(Array("Man".utf8)) == Array("TWFu".utf8))
        #expect(Base64.encode(Array("Ma".utf8)) == Array("TWE=".utf8))
        #expect(Base64.encode(Array("M".utf8)) == Array("TQ==".utf8))
        #expect(Base64.encode([]) == [])
    }

    @Test func kittyChunksCarryThePixelsAndThePlacement() {
        let image = Self.picture(width: 70, height: 50)
        let bytes = KittyGraphics.place(image, id: 7, columns: 12, rows: 4)
        let text = String(decoding: bytes, as: UTF8.self)
        let chunks = text.components(separatedBy: "\u{1B}\\").filter { !$0.isEmpty }
        #expect(chunks.allSatisfy { $0.hasPrefix("\u{1B}_G") })
        #expect(chunks[0].hasPrefix("\u{1B}_Ga=T,f=24,s=70,v=50,c=12,r=4,i=7,p=1,C=1,q=2,m=1;"))
        #expect(chunks.last!.hasPrefix("\u{1B}_Gm=0;") && chunks.dropLast().dropFirst().allSatisfy { $0.hasPrefix("\u{1B}_Gm=1;") })
        var payload: [UInt8] = []
        for chunk in chunks {
            let data = chunk.split(separator: ";", maxSplits: 1)[1]
            #expect(data.utf8.count <= 4096)
            payload += Array(data.utf8)
        }
        #expect(Self.base64Decode(payload) == image.pixels, "the chunks join to the picture's RGB bytes")
        #expect(String(decoding: KittyGraphics.delete(id: 7), as: UTF8.self) == "\u{1B}_Ga=d,d=I,i=7,q=2\u{1B}\\")
    }

    /// A small Sixel decoder (palette, raster size, colour passes, repeats, bands).
    static func decodeSixel(_ bytes: [UInt8]) -> (width: Int, height: Int, pixels: [UInt8])? {
        let text = Array(String(decoding: bytes, as: UTF8.self).unicodeScalars)
        guard let q = text.firstIndex(of: "q") else { return nil }
        var i = q + 1
        func number() -> Int { var n = 0; while i < text.count, let d = Int(String(text[i])) { n = n * 10 + d; i += 1 }; return n }
        var width = 0, height = 0
        var palette: [Int: (Int, Int, Int)] = [:]
        var pixels: [UInt8] = []
        var colour = 0, x = 0, bandY = 0
        while i < text.count {
            let c = text[i]
            switch c {
            case "\"":
                i += 1; _ = number(); i += 1; _ = number(); i += 1; width = number(); i += 1; height = number()
                pixels = [UInt8](repeating: 0, count: width * height * 3)
            case "#":
                i += 1
                let index = number()
                if i < text.count, text[i] == ";" {
                    i += 1; _ = number(); i += 1; let r = number(); i += 1; let g = number(); i += 1; let b = number()
                    palette[index] = (r, g, b)
                } else { colour = index }
            case "$": x = 0; i += 1
            case "-": x = 0; bandY += 6; i += 1
            case "!":
                i += 1
                let run = number()
                let value = Int(text[i].value) - 63
                for _ in 0..<run { paint(value) }
                i += 1
            case "\u{1B}": return (width, height, pixels)
            default:
                if (63...126).contains(Int(c.value)) { paint(Int(c.value) - 63) }
                i += 1
            }
        }
        func paint(_ value: Int) {
            for bit in 0..<6 where value & (1 << bit) != 0 {
                let y = bandY + bit
                guard x < width, y < height, let p = palette[colour] else { continue }
                let o = (y * width + x) * 3
                pixels[o] = UInt8(p.0 * 255 / 100); pixels[o + 1] = UInt8(p.1 * 255 / 100); pixels[o + 2] = UInt8(p.2 * 255 / 100)
            }
            x += 1
        }
        return (width, height, pixels)
    }

    @Test func sixelKeepsGreyLevelsAndCoversEveryPixel() throws {
        let image = Self.picture(width: 41, height: 17)
        let bytes = SixelEncoder.encode(image, colourRegisters: 256)
        #expect(bytes.starts(with: Array("\u{1B}P0;1;0q\"1;1;41;17".utf8)) && bytes.suffix(2) == [0x1B, 0x5C])
        #expect(bytes[bytes.count - 3] != 0x2D, "no band step after the last band (it would reach into the row below)")
        let decoded = try #require(Self.decodeSixel(bytes))
        #expect(decoded.width == 41 && decoded.height == 17)
        // 256 grey registers in percent: each grey comes back within the rounding of 1%.
        let worst = zip(decoded.pixels, image.pixels).map { abs(Int($0) - Int($1)) }.max()!
        #expect(worst <= 3, "worst grey error \(worst)")
    }

    @Test func sixelQuantisesColourToTheRegistersItHas() throws {
        let image = Self.picture(width: 30, height: 12, grey: false)
        for registers in [256, 16] {
            let decoded = try #require(Self.decodeSixel(SixelEncoder.encode(image, colourRegisters: registers)))
            let text = String(decoding: SixelEncoder.encode(image, colourRegisters: registers), as: UTF8.self)
            let defined = text.components(separatedBy: "#").filter { $0.split(separator: ";").count == 5 }.count
            #expect(defined <= registers, "\(defined) colours defined for \(registers) registers")
            let mean = Double(zip(decoded.pixels, image.pixels).map { abs(Int($0) - Int($1)) }.reduce(0, +)) / Double(image.pixels.count)
            #expect(mean < (registers == 256 ? 16 : 48), "mean error \(mean) with \(registers) registers")
        }
    }

    @Test func repliesAreReadAndGarbageIsIgnored() {
        func parse(_ text: String) -> GraphicsReply { GraphicsReply.parse(Array(text.utf8)) }
        let kitty = parse("\u{1B}_Gi=31;OK\u{1B}\\\u{1B}[6;20;10t\u{1B}[?62;22c")
        #expect(kitty.kitty && !kitty.sixel && kitty.complete && kitty.cellPixels == CellPixels(width: 10, height: 20))
        #expect(kitty.protocolFor(.auto) == .kitty)
        let xterm = parse("\u{1B}[?1;0;1024S\u{1B}[6;13;6t\u{1B}[?63;1;2;4;6;9;15;16;22;28;29c")
        #expect(xterm.sixel && !xterm.kitty && xterm.colourRegisters == 1024 && xterm.protocolFor(.auto) == .sixel)
        let plain = parse("\u{1B}[?1;2c")
        #expect(plain.complete && !plain.sixel && !plain.kitty && plain.protocolFor(.auto) == nil)
        #expect(plain.protocolFor(.cells) == nil && plain.protocolFor(.sixel) == .sixel, "an explicit choice is honoured")
        let garbage = parse("\u{1B}[?;;;c\u{1B}_Gi=31;ERROR\u{1B}\\\u{1B}[6;0;99999t\u{0}\u{1B}\u{1B}[")
        #expect(!garbage.kitty && !garbage.sixel && garbage.cellPixels == nil)
        let cut = parse("\u{1B}_Gi=31;O")
        #expect(!cut.kitty && !cut.complete, "a partial answer is not trusted")
        #expect(parse("").complete == false)
        #expect(GraphicsReply.query.hasSuffix("\u{1B}[c"), "Device Attributes last: every terminal answers it")
    }
}
