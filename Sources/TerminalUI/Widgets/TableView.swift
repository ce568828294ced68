/// A table: a header row and data rows, one of them selected; scrolls to keep the selection visible.
public struct TableView {
    /// One column: title, width (cells), alignment.
    public struct Column: Sendable {
        public var title: String
        public var width: Int
        public var alignRight: Bool

        public init(_ title: String, width: Int, alignRight: Bool = false) {
            self.title = title
            self.width = width
            self.alignRight = alignRight
        }
    }

    public var columns: [Column]
    /// How many data rows there are; only the rows on screen are built (`rowAt`).
    public var rowCount: Int
    /// The cells of data row `index`, asked for the rows on screen only.
    public var rowAt: (Int) -> [String]
    /// Per-row style (nil: `rowStyle`).
    public var rowStyles: [CellStyle?]
    public var selected: Int
    public var headerStyle: CellStyle
    public var rowStyle: CellStyle
    public var selectedStyle: CellStyle

    /// A table over rows already built.
    public init(columns: [Column], rows: [[String]], rowStyles: [CellStyle?] = [], selected: Int,
                headerStyle: CellStyle, rowStyle: CellStyle, selectedStyle: CellStyle) {
        self.init(columns: columns, rowCount: rows.count, rowAt: { rows[$0] }, rowStyles: rowStyles, selected: selected,
                  headerStyle: headerStyle, rowStyle: rowStyle, selectedStyle: selectedStyle)
    }

    /// A table whose rows are built on demand: a worklist of 100,000 studies builds the 40 on screen.
    public init(columns: [Column], rowCount: Int, rowAt: @escaping (Int) -> [String], rowStyles: [CellStyle?] = [], selected: Int,
                headerStyle: CellStyle, rowStyle: CellStyle, selectedStyle: CellStyle) {
        self.columns = columns
        self.rowCount = rowCount
        self.rowAt = rowAt
        self.rowStyles = rowStyles
        self.selected = selected
        self.headerStyle = headerStyle
        self.rowStyle = rowStyle
        self.selectedStyle = selectedStyle
    }

    /// The first visible row so that `selected` shows in `visibleRows` rows.
    public static func firstVisibleRow(selected: Int, rowCount: Int, visibleRows: Int) -> Int {
        guard visibleRows > 0, rowCount > visibleRows else { return 0 }
        let centred = selected - visibleRows / 2
        return min(max(0, centred), rowCount - visibleRows)
    }

    /// Fits column widths into `width`: the last column takes what is left.
    static func fitted(_ columns: [Column], width: Int) -> [Column] {
        var result = columns
        let fixed = columns.dropLast().reduce(0) { $0 + $1.width + 1 }
        if var last = result.last {
            last.width = max(0, width - fixed)
            result[result.count - 1] = last
        }
        return result
    }

    /// Draws into `rect`: header on the first row, then the rows.
    public func draw(in rect: Rect, into buffer: inout ScreenBuffer) {
        guard rect.height > 0, rect.width > 0 else { return }
        let columns = Self.fitted(self.columns, width: rect.width)
        buffer.fill(Rect(x: rect.x, y: rect.y, width: rect.width, height: 1), with: Cell(" ", style: headerStyle))
        var x = rect.x
        for column in columns {
            buffer.put(Self.align(column.title, column), x: x, y: rect.y, style: headerStyle, maxWidth: min(column.width, rect.x + rect.width - x))
            x += column.width + 1
        }
        let visible = rect.height - 1
        let first = Self.firstVisibleRow(selected: selected, rowCount: rowCount, visibleRows: visible)
        for line in 0..<visible {
            let index = first + line
            guard index < rowCount else { break }
            let y = rect.y + 1 + line
            let style = index == selected ? selectedStyle : (index < rowStyles.count ? rowStyles[index] ?? rowStyle : rowStyle)
            buffer.fill(Rect(x: rect.x, y: y, width: rect.width, height: 1), with: Cell(" ", style: style))
            var x = rect.x
            for (column, value) in zip(columns, rowAt(index)) {
                buffer.put(Self.align(value, column), x: x, y: y, style: style, maxWidth: min(column.width, rect.x + rect.width - x))
                x += column.width + 1
            }
        }
    }

    static func align(_ text: String, _ column: Column) -> String {
        let clipped = text.count > column.width ? String(text.prefix(max(0, column.width - 1))) + (column.width > 0 ? "…" : "") : text
        guard column.alignRight else { return clipped }
        return String(repeating: " ", count: max(0, column.width - clipped.count)) + clipped
    }
}
