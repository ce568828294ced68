import LightboxCore
import Testing
import TerminalUI

struct HalfBlockRasterTests {
    @Test func upperPixelIsForegroundLowerIsBackground() {
        // 2 wide, 2 high: one cell row of two cells.
        let image = RGBImage(width: 2, height: 2, pixels: [255, 0, 0,  0, 255, 0,
                                                           0, 0, 255,  9, 9, 9])
        let text = HalfBlockRaster.ansi24(image)
        #expect(text == "\u{1B}[38;2;255;0;0m\u{1B}[48;2;0;0;255m▀\u{1B}[38;2;0;255;0m\u{1B}[48;2;9;9;9m▀\u{1B}[0m\n")
    }

    @Test func repeatedColoursAreNotResent() {
        let image = RGBImage(width: 3, height: 2, pixels: [UInt8](repeating: 7, count: 18))
        let text = HalfBlockRaster.ansi24(image)
        #expect(text == "\u{1B}[38;2;7;7;7m\u{1B}[48;2;7;7;7m▀▀▀\u{1B}[0m\n")
    }

    @Test func oddHeightPadsTheLastRowWithBlack() {
        let image = RGBImage(width: 1, height: 3, pixels: [1, 1, 1, 2, 2, 2, 3, 3, 3])
        let lines = HalfBlockRaster.ansi24(image).split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[1] == "\u{1B}[38;2;3;3;3m\u{1B}[48;2;0;0;0m▀\u{1B}[0m")
    }
}
