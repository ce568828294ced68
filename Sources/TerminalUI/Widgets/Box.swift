/// Frames and separators, with Unicode line drawing or plain ASCII (under LANG=C).
public struct BorderSet: Sendable {
    let horizontal, vertical, topLeft, topRight, bottomLeft, bottomRight: Character

    /// Light Unicode box drawing.
    public static let unicode = BorderSet(horizontal: "─", vertical: "│", topLeft: "┌", topRight: "┐", bottomLeft: "└", bottomRight: "┘")
    /// ASCII only.
    public static let ascii = BorderSet(horizontal: "-", vertical: "|", topLeft: "+", topRight: "+", bottomLeft: "+", bottomRight: "+")

    /// The set for a terminal.
    public static func forTerminal(unicode: Bool) -> BorderSet { unicode ? .unicode : .ascii }
}

/// Draws a frame with an optional title in its top edge.
public enum Box {
    public static func draw(_ rect: Rect, title: String = "", into buffer: inout ScreenBuffer, style: CellStyle,
                            titleStyle: CellStyle? = nil, borders: BorderSet) {
        guard rect.width >= 2, rect.height >= 2 else { return }
        let right = rect.x + rect.width - 1, bottom = rect.y + rect.height - 1
        for x in rect.x...right {
            buffer[x, rect.y] = Cell(borders.horizontal, style: style)
            buffer[x, bottom] = Cell(borders.horizontal, style: style)
        }
        for y in rect.y...bottom {
            buffer[rect.x, y] = Cell(borders.vertical, style: style)
            buffer[right, y] = Cell(borders.vertical, style: style)
        }
        buffer[rect.x, rect.y] = Cell(borders.topLeft, style: style)
        buffer[right, rect.y] = Cell(borders.topRight, style: style)
        buffer[rect.x, bottom] = Cell(borders.bottomLeft, style: style)
        buffer[right, bottom] = Cell(borders.bottomRight, style: style)
        if !title.isEmpty && rect.width > 4 {
            buffer.put(" \(title) ", x: rect.x + 1, y: rect.y, style: titleStyle ?? style, maxWidth: rect.width - 2)
        }
    }
}
