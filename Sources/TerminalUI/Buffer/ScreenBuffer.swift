public import LightboxCore

/// One terminal cell: a character (one column wide) and its style.
public struct Cell: Sendable, Hashable {
    public var character: Character
    public var style: CellStyle
    /// The right half of a double-width character drawn in the cell to the left.
    public var isContinuation = false

    public init(_ character: Character = " ", style: CellStyle = .plain) {
        self.character = character
        self.style = style
    }

    /// The right half of a double-width character.
    public static func continuation(style: CellStyle) -> Cell {
        var cell = Cell(" ", style: style)
        cell.isContinuation = true
        return cell
    }
}

/// A rectangle of cells.
public struct Rect: Sendable, Hashable {
    public var x: Int, y: Int, width: Int, height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = max(0, width); self.height = max(0, height)
    }

    /// The rectangle shrunk by `margin` on every side.
    public func inset(_ margin: Int) -> Rect { Rect(x: x + margin, y: y + margin, width: width - 2 * margin, height: height - 2 * margin) }
}

/// The grid the screens draw into; a backend shows it. Drawing outside is clipped.
public struct ScreenBuffer: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]
    /// Pictures shown in true pixels over cells (Kitty or Sixel graphics); the cells under them
    /// are blank. Empty on terminals drawn in cells only.
    public var pictures: [PlacedPicture] = []

    /// A blank buffer filled with `fill`.
    public init(width: Int, height: Int, fill: Cell = Cell()) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: fill, count: self.width * self.height)
    }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set {
            guard x >= 0, y >= 0, x < width, y < height else { return }
            cells[y * width + x] = newValue
        }
    }

    /// Writes text from (x, y), clipped at `maxWidth` columns and the buffer's edge. Double-width
    /// characters (CJK) take two cells; controls and other unprintables become "?". Returns the end column.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, style: CellStyle = .plain, maxWidth: Int? = nil) -> Int {
        guard y >= 0, y < height else { return x }
        let limit = min(width, x + (maxWidth ?? width))
        var column = x
        for character in text {
            guard column < limit else { break }
            switch CellWidth.columns(character) {
            case 2:
                guard column + 1 < limit else { return column }
                if column >= 0 {
                    self[column, y] = Cell(character, style: style)
                    self[column + 1, y] = .continuation(style: style)
                }
                column += 2
            case 1:
                if column >= 0 { self[column, y] = Cell(character, style: style) }
                column += 1
            default:
                if column >= 0 { self[column, y] = Cell("?", style: style) }
                column += 1
            }
        }
        return column
    }

    /// Fills a rectangle.
    public mutating func fill(_ rect: Rect, with cell: Cell) {
        for y in max(0, rect.y)..<min(height, rect.y + rect.height) {
            for x in max(0, rect.x)..<min(width, rect.x + rect.width) { self[x, y] = cell }
        }
    }

    /// The characters of row `y`, trailing spaces trimmed (for tests and snapshots).
    public func text(row y: Int) -> String {
        var line = String(cells[(y * width)..<((y + 1) * width)].filter { !$0.isContinuation }.map(\.character))
        while line.last == " " { line.removeLast() }
        return line
    }

    /// Every row as text.
    public var textRows: [String] { (0..<height).map { text(row: $0) } }
}

/// Display width of characters in terminal columns.
public enum CellWidth {
    /// 1 or 2 columns; 0 for what Lightbox will not draw (controls, emoji, odd clusters).
    public static func columns(_ character: Character) -> Int {
        let scalars = character.unicodeScalars
        guard let first = scalars.first else { return 0 }
        guard scalars.count == 1 || scalars.dropFirst().allSatisfy({ $0.properties.generalCategory == .nonspacingMark }) else { return 0 }
        let v = first.value
        if v < 0x20 || (0x7F...0x9F).contains(v) { return 0 }
        if (0x1F300...0x1FAFF).contains(v) { return 0 }
        // East Asian wide and full-width ranges.
        if (0x1100...0x115F).contains(v) || (0x2E80...0x303E).contains(v) || (0x3041...0x33FF).contains(v)
            || (0x3400...0x4DBF).contains(v) || (0x4E00...0x9FFF).contains(v) || (0xA000...0xA4CF).contains(v)
            || (0xAC00...0xD7A3).contains(v) || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v)
            || (0xFF00...0xFF60).contains(v) || (0xFFE0...0xFFE6).contains(v) || (0x20000...0x3FFFD).contains(v) {
            return 2
        }
        return 1
    }

    /// True for characters that take exactly one terminal column.
    public static func isSingle(_ character: Character) -> Bool { columns(character) == 1 }
}

/// A picture in screen pixels laid over a rectangle of cells (pixel graphics).
public struct PlacedPicture: Sendable, Equatable, CustomStringConvertible {
    /// The cells it covers (its top left corner is where it is drawn).
    public var cells: Rect
    public var picture: RGBImage
    /// Identifies what the picture shows (slice, window, view, overlay): equal keys, same pixels,
    /// so a backend resends nothing while it stays.
    public var key: String

    public init(cells: Rect, picture: RGBImage, key: String) {
        self.cells = cells
        self.picture = picture
        self.key = key
    }

    public static func == (a: PlacedPicture, b: PlacedPicture) -> Bool { a.cells == b.cells && a.key == b.key }

    public var description: String {
        "\(picture.width)×\(picture.height) pixels over \(cells.width)×\(cells.height) cells at (\(cells.x), \(cells.y)): \(key)"
    }
}
