/// Lines of styled text in a rectangle, clipped (no wrapping: long lines end in "…").
public struct TextBlock {
    /// One line: text segments with their styles.
    public struct Line: Sendable {
        public var segments: [(String, CellStyle)]
        public init(_ segments: [(String, CellStyle)]) { self.segments = segments }
        public init(_ text: String, _ style: CellStyle) { segments = [(text, style)] }
    }

    public var lines: [Line]
    /// The first line shown (for scrolling long text).
    public var offset: Int

    public init(lines: [Line], offset: Int = 0) {
        self.lines = lines
        self.offset = offset
    }

    public func draw(in rect: Rect, into buffer: inout ScreenBuffer) {
        for row in 0..<rect.height {
            let index = offset + row
            guard index >= 0, index < lines.count else { break }
            var x = rect.x
            let end = rect.x + rect.width
            for (text, style) in lines[index].segments {
                guard x < end else { break }
                let room = end - x
                let shown = text.count > room ? String(text.prefix(max(0, room - 1))) + "…" : text
                x = buffer.put(shown, x: x, y: rect.y + row, style: style, maxWidth: room)
            }
        }
    }
}

/// A one-row bar with text on the left and on the right.
public enum StatusBar {
    public static func draw(left: String, right: String = "", row y: Int, width: Int, style: CellStyle, into buffer: inout ScreenBuffer) {
        buffer.fill(Rect(x: 0, y: y, width: width, height: 1), with: Cell(" ", style: style))
        let rightStart = max(0, width - right.count - 1)
        buffer.put(" " + left, x: 0, y: y, style: style, maxWidth: right.isEmpty ? width : max(0, rightStart - 1))
        if !right.isEmpty { buffer.put(right, x: rightStart, y: y, style: style, maxWidth: width - rightStart) }
    }
}
