public import LightboxCore

/// How an image is drawn in cells.
public enum ImageCellMode: Sendable, Equatable {
    /// Upper half block: two pixels per cell, foreground above, background below.
    case halfBlock
    /// A space with a background colour: one pixel per cell (no Unicode, e.g. LANG=C).
    case backgroundCell
    /// An ASCII density character: one pixel per cell (no colour).
    case density

    /// The mode for a terminal.
    public static func forTerminal(_ capabilities: TerminalCapabilities) -> ImageCellMode {
        if capabilities.colorDepth == .monochrome { return .density }
        return capabilities.unicode ? .halfBlock : .backgroundCell
    }

    /// Pixel rows per cell row.
    public var pixelsPerRow: Int { self == .halfBlock ? 2 : 1 }
}

/// Draws an RGB picture into cells at (x, y); the picture must already be sized for the mode
/// (width = cells, height = rows × pixelsPerRow).
public enum ImageView {
    public static func draw(_ picture: RGBImage, at x: Int, y: Int, mode: ImageCellMode, into buffer: inout ScreenBuffer) {
        let rows = (picture.height + mode.pixelsPerRow - 1) / mode.pixelsPerRow
        for row in 0..<rows {
            for column in 0..<picture.width {
                switch mode {
                case .halfBlock:
                    let top = picture[column, row * 2]
                    let bottom: (r: UInt8, g: UInt8, b: UInt8) = row * 2 + 1 < picture.height ? picture[column, row * 2 + 1] : (0, 0, 0)
                    buffer[x + column, y + row] = Cell("▀", style: CellStyle(foreground: .rgb(top.r, top.g, top.b),
                                                                            background: .rgb(bottom.r, bottom.g, bottom.b)))
                case .backgroundCell:
                    let p = picture[column, row]
                    buffer[x + column, y + row] = Cell(" ", style: CellStyle(background: .rgb(p.r, p.g, p.b)))
                case .density:
                    let p = picture[column, row]
                    let luminance = (Int(p.r) * 299 + Int(p.g) * 587 + Int(p.b) * 114) / 1000
                    buffer[x + column, y + row] = Cell(ColorQuantizer.densityCharacter(luminance: luminance))
                }
            }
        }
    }
}
