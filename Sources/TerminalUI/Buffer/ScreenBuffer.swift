/// One terminal cell: a character (one column wide) and its style.
public struct Cell: Sendable, Hashable {
    public var character: Character
    public var style: CellStyle

    public init(_ character: Character = " ", style: CellStyle = .plain) {
        self.character = character
        self.style = style
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

    /// Writes text from (x, y), one cell per character, clipped at `maxWidth` and the buffer's edge.
    /// Wide characters are replaced by "?" so every character takes one column. Returns the end column.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, style: CellStyle = .plain, maxWidth: Int? = nil) -> Int {
        guard y >= 0, y < height else { return x }
        let limit = min(width, x + (maxWidth ?? width))
        var column = x
        for character in text {
            guard column < limit else { break }
            if column >= 0 { self[column, y] = Cell(CellWidth.isSingle(character) ? character : "?", style: style) }
            column += 1
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
        var line = String(cells[(y * width)..<((y + 1) * width)].map(\.character))
        while line.last == " " { line.removeLast() }
        return line
    }

    /// Every row as text.
    public var textRows: [String] { (0..<height).map { text(row: $0) } }
}

/// Display width of characters: Lightbox draws only single-column characters.
public enum CellWidth {
    /// True for characters that take exactly one terminal column.
    public static func isSingle(_ character: Character) -> Bool {
        for scalar in character.unicodeScalars {
            let v = scalar.value
            if v < 0x20 || (0x7F...0x9F).contains(v) { return false }
            // East Asian wide and emoji ranges take two columns.
            if (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
                || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
                || (0xFFE0...0xFFE6).contains(v) || (0x1F300...0x1FAFF).contains(v) || (0x20000...0x3FFFD).contains(v) {
                return false
            }
        }
        return character.unicodeScalars.count == 1 || character.unicodeScalars.dropFirst().allSatisfy { $0.properties.generalCategory == .nonspacingMark }
    }
}
