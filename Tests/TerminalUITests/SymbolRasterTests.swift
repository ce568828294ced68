import LightboxCore
import TerminalUI
import Testing

/// Quadrant and sextant cells: per cell, the two-colour pattern with the least error.
struct SymbolRasterTests {
    /// A picture from rows of characters: "#" white, "." black, digits 1–9 grey levels.
    static func picture(_ rows: [String]) -> RGBImage {
        var bytes: [UInt8] = []
        for row in rows {
            for c in row {
                let v: UInt8 = c == "#" ? 255 : (c == "." ? 0 : UInt8(c.wholeNumberValue! * 25))
                bytes += [v, v, v]
            }
        }
        return RGBImage(width: rows[0].count, height: rows.count, pixels: bytes)
    }

    /// What a cell shows, pixel by pixel in reading order: "#" white, "." black.
    static func shown(_ cell: SymbolRaster.Choice) -> String {
        (0..<4).map { cell.pattern & (1 << $0) != 0 ? cell.foreground.r : cell.background.r }.map { $0 == 255 ? "#" : "." }.joined()
    }

    @Test func quadrantsPickThePatternOfEachCell() {
        let image = Self.picture([
            "#..#.##.",
            "...##..#",
        ])
        let cells = SymbolRaster.cells(image, mode: .quadrant)
        #expect(cells.columns == 4 && cells.rows == 1)
        // Patterns are chosen up to exchanging the colours (the last pixel is background), so
        // compare what the terminal shows: the set quadrants in the foreground colour.
        #expect(cells.choices.map(Self.shown) == ["#...", ".#.#", ".##.", "#..#"], "reading order TL TR BL BR")
        // The characters: ▘ white on black; the right column as ▌ black on white; ▞ white on
        // black; the diagonal TL–BR as ▞ black on white.
        #expect(cells.choices.map(\.character) == ["▘", "▌", "▞", "▞"].map { Character($0) })
        #expect(cells.choices.map(\.foreground.r) == [255, 0, 255, 0])
    }

    @Test func sextantsCoverTwoByThreeWithTheRightCodePoints() {
        let image = Self.picture([
            "#.#.",
            "#.##",
            "#...",
        ])
        let cells = SymbolRaster.cells(image, mode: .sextant)
        #expect(cells.columns == 2 && cells.rows == 1)
        // Left column set: the half block ▌ (sextants skip the two half columns).
        #expect(cells.choices[0].character == "▌" && cells.choices[0].foreground.r == 255)
        // Top left and middle row set (bits 0, 2, 3): U+1FB00 + 13 - 1 - 0 = U+1FB0C.
        #expect(cells.choices[1].pattern == 0b001101)
        #expect(cells.choices[1].character == Character(Unicode.Scalar(0x1FB0C)!))
        #expect(SymbolRaster.character(62, mode: .sextant) == Character(Unicode.Scalar(0x1FB3B)!), "the last sextant")
        #expect(SymbolRaster.character(63, mode: .sextant) == "█" && SymbolRaster.character(0, mode: .sextant) == " ")
        #expect(SymbolRaster.character(42, mode: .sextant) == "▐")
    }

    @Test func aUniformCellIsOneColourAndGreysAreMeans() {
        let cells = SymbolRaster.cells(Self.picture(["44", "44", "44"]), mode: .sextant)
        #expect(cells.choices[0].pattern == 0 && cells.choices[0].background.r == 100)
        // Two levels split exactly: 2 and 8 → means 50 and 200.
        let split = SymbolRaster.cells(Self.picture(["28", "28"]), mode: .quadrant)
        #expect(split.choices[0].pattern == 0b0101 || split.choices[0].pattern == 0b1010)
        #expect(Set([split.choices[0].foreground.r, split.choices[0].background.r]) == [50, 200])
    }

    @Test func reconstructionsShowWhatTheCellsShow() {
        let image = Self.picture(["#.", ".#"])
        let quad = SymbolRaster.reconstruct(SymbolRaster.cells(image, mode: .quadrant), mode: .quadrant, subColumns: 2, subRows: 6)
        #expect(quad.width == 2 && quad.height == 6)
        #expect(quad[0, 0].r == 255 && quad[1, 0].r == 0 && quad[0, 5].r == 0 && quad[1, 5].r == 255)
        let half = SymbolRaster.reconstruct(halfBlocks: Self.picture(["#", "."]), subColumns: 2, subRows: 6)
        #expect(half[1, 2].r == 255 && half[1, 3].r == 0)
    }

    @Test func picturesOfEveryModeDrawIntoCells() {
        let image = Self.picture(["#.#.", "..##", "#..#", ".##."])
        var buffer = ScreenBuffer(width: 4, height: 4)
        ImageView.draw(image, at: 0, y: 0, mode: .quadrant, into: &buffer)
        // Cell 0: "#." over ".." is ▘ in white on black; cell 1: "#." over "##" is its complement
        // ▝ in black on white (the lower right pixel is always background).
        #expect(buffer.textRows[0].hasPrefix("▘▝"))
        #expect(buffer[0, 0].style.foreground == .rgb(255, 255, 255) && buffer[0, 0].style.background == .rgb(0, 0, 0))
        #expect(buffer[1, 0].style.foreground == .rgb(0, 0, 0) && buffer[1, 0].style.background == .rgb(255, 255, 255))
        // Row 2: "#." over ".#" is ▚ white on black, shown as ▞ black on white; ".#" over "#." is ▞.
        #expect(buffer.textRows[1].hasPrefix("▞▞"))
        #expect(buffer[0, 1].style.foreground == .rgb(0, 0, 0) && buffer[1, 1].style.foreground == .rgb(255, 255, 255))
        #expect(ImageCellMode.forTerminal(TerminalCapabilities(colorDepth: .direct, unicode: true), symbols: .sextant) == .sextant)
        #expect(ImageCellMode.forTerminal(TerminalCapabilities(colorDepth: .direct, unicode: false), symbols: .sextant) == .backgroundCell)
        #expect(ImageCellMode.quadrant.pixelAspect == 0.5 && ImageCellMode.sextant.pixelAspect == 0.75 && ImageCellMode.halfBlock.pixelAspect == 1)
    }
}
