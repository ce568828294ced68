public import LightboxCore

/// Quadrant (2×2) and sextant (2×3) cells, chosen per cell as chafa does: the cell's pixels are
/// split into two groups by every pattern the symbol set has, each group shown in its mean
/// colour, and the pattern with the least squared error wins. Written here rather than through
/// libchafa: the choice is about forty lines over pixels the renderer already holds, it keeps the
/// exact colours (chafa quantises through its own canvas), and it adds no library to the build.
public enum SymbolRaster {
    public typealias RGB = (r: UInt8, g: UInt8, b: UInt8)

    /// One cell: the symbol, the colour of its set pixels and of the rest, and the pattern
    /// (bit i: pixel i in reading order is set).
    public struct Choice: Sendable {
        public var character: Character
        public var foreground: RGB
        public var background: RGB
        public var pattern: Int
    }

    /// The cells of a picture, row after row.
    public struct Cells: Sendable {
        public var columns: Int
        public var rows: Int
        public var choices: [Choice]
    }

    /// The quadrant characters by pattern (bit 0 upper left, 1 upper right, 2 lower left, 3 lower right).
    static let quadrants: [Character] = [" ", "▘", "▝", "▀", "▖", "▌", "▞", "▛", "▗", "▚", "▐", "▜", "▄", "▙", "▟", "█"]

    /// The sextant character of a pattern (bit 0 top left … bit 5 bottom right): U+1FB00… in
    /// pattern order, skipping the two columns, which are the half blocks ▌ and ▐.
    static func sextant(_ pattern: Int) -> Character {
        switch pattern {
        case 0: return " "
        case 63: return "█"
        case 21: return "▌"
        case 42: return "▐"
        default:
            let index = pattern - 1 - (pattern > 21 ? 1 : 0) - (pattern > 42 ? 1 : 0)
            return Character(Unicode.Scalar(0x1FB00 + index)!)
        }
    }

    /// The character for a pattern in a mode.
    public static func character(_ pattern: Int, mode: ImageCellMode) -> Character {
        mode == .sextant ? sextant(pattern) : quadrants[pattern & 15]
    }

    /// Chooses every cell of `picture` (sized columns × 2 by rows × pixelsPerRow; pixels past
    /// the edge count as black).
    public static func cells(_ picture: RGBImage, mode: ImageCellMode) -> Cells {
        let across = mode.pixelsPerColumn, down = mode.pixelsPerRow
        let count = across * down
        let columns = (picture.width + across - 1) / across, rows = (picture.height + down - 1) / down
        var choices: [Choice] = []
        choices.reserveCapacity(columns * rows)
        // Patterns up to exchanging the two colours: the last pixel is always in the background.
        let patterns = 1 << (count - 1)
        var pixel = [SIMD3<Float>](repeating: .zero, count: count)
        picture.pixels.withUnsafeBufferPointer { bytes in
            for row in 0..<rows {
                for column in 0..<columns {
                    var total = SIMD3<Float>.zero
                    var squares: Float = 0
                    for i in 0..<count {
                        let x = column * across + i % across, y = row * down + i / across
                        var value = SIMD3<Float>.zero
                        if x < picture.width && y < picture.height {
                            let o = (y * picture.width + x) * 3
                            value = SIMD3(Float(bytes[o]), Float(bytes[o + 1]), Float(bytes[o + 2]))
                        }
                        pixel[i] = value
                        total += value
                        squares += (value * value).sum()
                    }
                    var best = 0
                    var bestError = Float.infinity
                    var bestSet = SIMD3<Float>.zero
                    var bestSetCount = 0
                    for pattern in 0..<patterns {
                        var set = SIMD3<Float>.zero
                        var setCount = 0
                        for i in 0..<count where pattern & (1 << i) != 0 { set += pixel[i]; setCount += 1 }
                        let rest = total - set, restCount = count - setCount
                        // Σ|x|² − |Σset|²/n_set − |Σrest|²/n_rest: the squared error of the two means.
                        var error = squares - (rest * rest).sum() / Float(restCount)
                        if setCount > 0 { error -= (set * set).sum() / Float(setCount) }
                        if error < bestError - 1e-3 { bestError = error; best = pattern; bestSet = set; bestSetCount = setCount }
                    }
                    let rest = total - bestSet
                    let background = rest / Float(count - bestSetCount)
                    let foreground = bestSetCount > 0 ? bestSet / Float(bestSetCount) : background
                    choices.append(Choice(character: character(best, mode: mode), foreground: rgb(foreground), background: rgb(background),
                                          pattern: best))
                }
            }
        }
        return Cells(columns: columns, rows: rows, choices: choices)
    }

    /// The cells as 24-bit ANSI text, one line per cell row, colours reset at each line end.
    public static func ansi24(_ cells: Cells) -> String {
        var out = ""
        for row in 0..<cells.rows {
            for column in 0..<cells.columns {
                let c = cells.choices[row * cells.columns + column]
                out += "\u{1B}[38;2;\(c.foreground.r);\(c.foreground.g);\(c.foreground.b);48;2;\(c.background.r);\(c.background.g);\(c.background.b)m"
                out.append(c.character)
            }
            out += "\u{1B}[0m\n"
        }
        return out
    }

    @inline(__always)
    static func rgb(_ value: SIMD3<Float>) -> RGB {
        func byte(_ v: Float) -> UInt8 { UInt8(min(max(v.rounded(), 0), 255)) }
        return (byte(value.x), byte(value.y), byte(value.z))
    }

    /// What a grid of cells shows, as a picture of `subColumns` × `subRows` pixels per cell
    /// (for measuring a mode against the full-resolution picture at a common grid). Half blocks:
    /// `top` and `bottom` colours per cell; symbol modes: their choices.
    public static func reconstruct(halfBlocks picture: RGBImage, subColumns: Int, subRows: Int) -> RGBImage {
        let columns = picture.width, rows = picture.height / 2
        var out = [UInt8](repeating: 0, count: columns * subColumns * rows * subRows * 3)
        let width = columns * subColumns
        for row in 0..<rows {
            for column in 0..<columns {
                for sy in 0..<subRows {
                    let source = picture[column, row * 2 + (sy * 2 / subRows)]
                    for sx in 0..<subColumns {
                        let o = ((row * subRows + sy) * width + column * subColumns + sx) * 3
                        out[o] = source.r; out[o + 1] = source.g; out[o + 2] = source.b
                    }
                }
            }
        }
        return RGBImage(width: width, height: rows * subRows, pixels: out)
    }

    /// The same for quadrant or sextant cells.
    public static func reconstruct(_ cells: Cells, mode: ImageCellMode, subColumns: Int, subRows: Int) -> RGBImage {
        let across = mode.pixelsPerColumn, down = mode.pixelsPerRow
        let width = cells.columns * subColumns
        var out = [UInt8](repeating: 0, count: width * cells.rows * subRows * 3)
        for (index, cell) in cells.choices.enumerated() {
            let column = index % cells.columns, row = index / cells.columns
            for sy in 0..<subRows {
                for sx in 0..<subColumns {
                    let bit = (sy * down / subRows) * across + sx * across / subColumns
                    let colour = cell.pattern & (1 << bit) != 0 ? cell.foreground : cell.background
                    let o = ((row * subRows + sy) * width + column * subColumns + sx) * 3
                    out[o] = colour.r; out[o + 1] = colour.g; out[o + 2] = colour.b
                }
            }
        }
        return RGBImage(width: width, height: cells.rows * subRows, pixels: out)
    }
}
