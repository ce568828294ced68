public import LightboxCore

/// How an image is drawn in cells.
public enum ImageCellMode: String, Sendable, Equatable, CaseIterable {
    /// Upper half block: two pixels per cell, foreground above, background below.
    case halfBlock = "half"
    /// Quadrant blocks: 2×2 pixels per cell in two colours, the pattern that fits best.
    case quadrant = "quad"
    /// Sextants (Unicode 13 "Symbols for Legacy Computing"): 2×3 pixels per cell in two colours.
    case sextant
    /// A space with a background colour: one pixel per cell (no Unicode, e.g. LANG=C).
    case backgroundCell = "background"
    /// An ASCII density character: one pixel per cell (no colour).
    case density

    /// The mode for a terminal, given the symbols the user asked for (`--symbols`, config
    /// `symbols`): without colour, density characters; without Unicode, coloured spaces.
    public static func forTerminal(_ capabilities: TerminalCapabilities, symbols: ImageCellMode = .halfBlock) -> ImageCellMode {
        if capabilities.colorDepth == .monochrome { return .density }
        guard capabilities.unicode else { return .backgroundCell }
        return [.halfBlock, .quadrant, .sextant].contains(symbols) ? symbols : .halfBlock
    }

    /// The symbol modes a user can choose, by the names `--symbols` takes.
    public static let symbolNames = ["half": ImageCellMode.halfBlock, "quad": .quadrant, "sextant": .sextant]

    /// Picture pixel rows per cell row.
    public var pixelsPerRow: Int {
        switch self {
        case .halfBlock, .quadrant: 2
        case .sextant: 3
        case .backgroundCell, .density: 1
        }
    }

    /// Picture pixel columns per cell column.
    public var pixelsPerColumn: Int { self == .quadrant || self == .sextant ? 2 : 1 }

    /// Width over height of one picture pixel, for cells twice as high as wide.
    public var pixelAspect: Double { Double(pixelsPerRow) / Double(2 * pixelsPerColumn) }

    /// The picture size, in this mode's pixels, of a `width` × `height` image (pixels `pixelAspect`
    /// wide per unit high) in `columns` × `rows` cells: its physical aspect kept, whole cells.
    public func pictureSize(width: Int, height: Int, pixelAspect: Double, columns: Int, rows: Int) -> (width: Int, height: Int) {
        let across = pixelsPerColumn, down = pixelsPerRow
        let fitted = GridFit.fit(width: width, height: height, pixelAspect: pixelAspect / self.pixelAspect,
                                 maxWidth: columns * across, maxHeight: rows * down)
        func whole(_ value: Int, _ unit: Int, _ limit: Int) -> Int { max(unit, min(limit, (value + unit - 1) / unit * unit)) }
        return (whole(fitted.width, across, columns * across), whole(fitted.height, down, rows * down))
    }
}

/// Draws an RGB picture into cells at (x, y); the picture must already be sized for the mode
/// (width = columns × pixelsPerColumn, height = rows × pixelsPerRow).
public enum ImageView {
    public static func draw(_ picture: RGBImage, at x: Int, y: Int, mode: ImageCellMode, into buffer: inout ScreenBuffer) {
        if mode == .quadrant || mode == .sextant {
            let cells = SymbolRaster.cells(picture, mode: mode)
            for (index, cell) in cells.choices.enumerated() {
                let f = cell.foreground, b = cell.background
                buffer[x + index % cells.columns, y + index / cells.columns] =
                    Cell(cell.character, style: CellStyle(foreground: .rgb(f.r, f.g, f.b), background: .rgb(b.r, b.g, b.b)))
            }
            return
        }
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
                case .quadrant, .sextant: break
                }
            }
        }
    }
}
