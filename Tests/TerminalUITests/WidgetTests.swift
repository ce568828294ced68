import LightboxCore
import Testing
import TerminalUI

struct ScreenBufferTests {
    @Test func putClipsAtTheEdgeAndTheLimit() {
        var buffer = ScreenBuffer(width: 8, height: 2)
        let end = buffer.put("hello world", x: 3, y: 0)
        #expect(end == 8)
        #expect(buffer.textRows == ["   hello", ""])
        buffer.put("abcdef", x: -2, y: 1, maxWidth: 5)
        #expect(buffer.text(row: 1) == "cde")
        buffer.put("zzz", x: 0, y: 5)
        #expect(buffer.textRows == ["   hello", "cde"])
    }

    @Test func wideCharactersTakeTwoColumnsAndControlsBecomeQuestionMarks() {
        var buffer = ScreenBuffer(width: 6, height: 1)
        let end = buffer.put("a漢\u{1B}b", x: 0, y: 0)
        #expect(end == 5)
        #expect(buffer.text(row: 0) == "a漢?b")
        #expect(buffer[2, 0].isContinuation)
        var narrow = ScreenBuffer(width: 3, height: 1)
        narrow.put("ab漢", x: 0, y: 0)
        #expect(narrow.text(row: 0) == "ab", "a wide character that does not fit is left out, not split")
    }

    @Test func zeroSizedBuffersAreFine() {
        var buffer = ScreenBuffer(width: 0, height: 0)
        buffer.put("x", x: 0, y: 0)
        buffer.fill(Rect(x: 0, y: 0, width: 5, height: 5), with: Cell("#"))
        #expect(buffer.textRows.isEmpty)
    }
}

struct TableViewTests {
    let style = CellStyle.plain
    let selected = CellStyle(attributes: .reverse)

    func table(rows: Int, selected index: Int) -> TableView {
        TableView(columns: [.init("N", width: 3, alignRight: true), .init("Name", width: 10)],
                  rows: (0..<rows).map { [String($0), "row \($0)"] }, selected: index,
                  headerStyle: style, rowStyle: style, selectedStyle: selected)
    }

    @Test func headerRowsAndSelection() {
        var buffer = ScreenBuffer(width: 14, height: 4)
        table(rows: 3, selected: 1).draw(in: Rect(x: 0, y: 0, width: 14, height: 4), into: &buffer)
        #expect(buffer.textRows == ["  N Name", "  0 row 0", "  1 row 1", "  2 row 2"])
        #expect(buffer[0, 2].style == selected)
        #expect(buffer[0, 1].style == style)
    }

    @Test func scrollsToKeepTheSelectionVisible() {
        var buffer = ScreenBuffer(width: 14, height: 4)
        table(rows: 50, selected: 40).draw(in: Rect(x: 0, y: 0, width: 14, height: 4), into: &buffer)
        #expect(buffer.textRows.dropFirst().contains(" 40 row 40"))
        #expect(TableView.firstVisibleRow(selected: 49, rowCount: 50, visibleRows: 3) == 47)
        #expect(TableView.firstVisibleRow(selected: 0, rowCount: 50, visibleRows: 3) == 0)
    }

    @Test func longCellsEndInAnEllipsis() {
        var buffer = ScreenBuffer(width: 14, height: 2)
        TableView(columns: [.init("Name", width: 6)], rows: [["abcdefghij"]], selected: 5,
                  headerStyle: style, rowStyle: style, selectedStyle: selected).draw(in: Rect(x: 0, y: 0, width: 6, height: 2), into: &buffer)
        #expect(buffer.text(row: 1) == "abcde…")
    }
}

struct BoxAndBarTests {
    @Test(arguments: [true, false])
    func boxBorders(unicode: Bool) {
        var buffer = ScreenBuffer(width: 10, height: 3)
        Box.draw(Rect(x: 0, y: 0, width: 10, height: 3), title: "AI", into: &buffer, style: .plain, borders: .forTerminal(unicode: unicode))
        #expect(buffer.textRows == (unicode ? ["┌ AI ────┐", "│        │", "└────────┘"] : ["+ AI ----+", "|        |", "+--------+"]))
    }

    @Test func statusBarLeftAndRight() {
        var buffer = ScreenBuffer(width: 20, height: 1)
        StatusBar.draw(left: "left text", right: "1/5", row: 0, width: 20, style: .plain, into: &buffer)
        #expect(buffer.text(row: 0) == " left text      1/5")
    }
}

struct ImageViewTests {
    let picture = RGBImage(width: 2, height: 2, pixels: [255, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255])

    @Test func halfBlocksCarryBothPixels() {
        var buffer = ScreenBuffer(width: 2, height: 1)
        ImageView.draw(picture, at: 0, y: 0, mode: .halfBlock, into: &buffer)
        #expect(buffer[0, 0] == Cell("▀", style: CellStyle(foreground: .rgb(255, 0, 0), background: .rgb(0, 0, 255))))
        #expect(buffer[1, 0] == Cell("▀", style: CellStyle(foreground: .rgb(0, 0, 0), background: .rgb(255, 255, 255))))
    }

    @Test func withoutColourLuminanceBecomesDensity() {
        var buffer = ScreenBuffer(width: 2, height: 2)
        ImageView.draw(picture, at: 0, y: 0, mode: .density, into: &buffer)
        // Red (luminance 76) is light, blue (29) lighter still, white densest, black empty.
        #expect(buffer[0, 0].character == ColorQuantizer.densityCharacter(luminance: 76))
        #expect(buffer[0, 1].character == ColorQuantizer.densityCharacter(luminance: 29))
        #expect(buffer[1, 1].character == "@")
        #expect(buffer[1, 0].character == " ")
    }

    @Test func modesFollowTheTerminal() {
        #expect(ImageCellMode.forTerminal(TerminalCapabilities(colorDepth: .direct, unicode: true)) == .halfBlock)
        #expect(ImageCellMode.forTerminal(TerminalCapabilities(colorDepth: .palette256, unicode: false)) == .backgroundCell)
        #expect(ImageCellMode.forTerminal(TerminalCapabilities(colorDepth: .monochrome, unicode: true)) == .density)
    }
}

struct ColorQuantizerTests {
    @Test func greysUseTheGreyRampAndColoursTheCube() {
        #expect(ColorQuantizer.palette256(128, 128, 128) == 244)
        #expect(ColorQuantizer.palette256(255, 0, 0) == 196)
        #expect(ColorQuantizer.palette256(0, 0, 0) == 16)
        #expect(ColorQuantizer.palette256(238, 238, 238) == 255)
        #expect(ColorQuantizer.palette256(95, 135, 175) == 16 + 36 * 1 + 6 * 2 + 3)
    }

    @Test func ansiNearest() {
        #expect(ColorQuantizer.ansi(250, 10, 10, count: 16) == 9)
        #expect(ColorQuantizer.ansi(250, 10, 10, count: 8) == 1)
        #expect(ColorQuantizer.ansi(240, 240, 240, count: 8) == 7)
    }

    @Test func indicesPerDepth() {
        #expect(ColorQuantizer.index(.rgb(1, 2, 3), depth: .direct) == 0x010203)
        #expect(ColorQuantizer.index(.terminalDefault, depth: .palette256) == -1)
        #expect(ColorQuantizer.index(.rgb(255, 255, 255), depth: .monochrome) == -1)
    }

    @Test func keyNamesRoundTrip() {
        for key: Key in [.up, .shiftDown, .controlLeft, .pageDown, .enter, .character("W"), .character(" "), .function(5), .control("x")] {
            #expect(Key(name: key.name) == key, "\(key.name)")
        }
        #expect(Key(name: "nonsense") == nil)
    }
}
