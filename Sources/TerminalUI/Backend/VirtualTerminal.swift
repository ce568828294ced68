/// An in-memory terminal for tests: keeps the last frame, replays queued events.
public final class VirtualTerminal: TerminalBackend {
    public private(set) var size: (width: Int, height: Int)
    public let capabilities: TerminalCapabilities
    /// The last frame presented.
    public private(set) var frame: ScreenBuffer
    /// Frames presented so far.
    public private(set) var framesPresented = 0
    /// The text of every frame presented, in order (rows joined by newlines).
    public private(set) var presentedText: [String] = []
    private var queue: [InputEvent] = []

    /// A terminal of `width` × `height` cells.
    public init(width: Int, height: Int, capabilities: TerminalCapabilities = TerminalCapabilities(colorDepth: .direct, unicode: true)) {
        size = (width, height)
        self.capabilities = capabilities
        frame = ScreenBuffer(width: width, height: height)
    }

    public func present(_ buffer: ScreenBuffer) {
        frame = buffer
        framesPresented += 1
        presentedText.append(buffer.textRows.joined(separator: "\n"))
    }

    public func nextEvent(timeoutMilliseconds: Int) -> InputEvent? {
        queue.isEmpty ? nil : queue.removeFirst()
    }

    /// Queues key presses.
    public func type(_ keys: Key...) { queue += keys.map { .key($0) } }

    /// Queues text as character keys.
    public func type(text: String) { queue += text.map { .key(.character($0)) } }

    /// Changes the size and queues the resize event.
    public func resize(width: Int, height: Int) {
        size = (width, height)
        queue.append(.resize(width: width, height: height))
    }

    /// The last frame's rows as text.
    public var textRows: [String] { frame.textRows }

    /// Style changes along each row, as "row:column style" lines (for snapshots: text and style
    /// are compared separately, never raw escape bytes).
    public var styleRuns: [String] { StyleRuns.describe(frame) }
}

/// Lists where the style changes in a buffer.
public enum StyleRuns {
    /// One line per change: "y:x fg=… bg=… attrs".
    public static func describe(_ buffer: ScreenBuffer) -> [String] {
        var lines: [String] = []
        for y in 0..<buffer.height {
            var previous: CellStyle?
            for x in 0..<buffer.width {
                let style = buffer[x, y].style
                if style != previous {
                    lines.append("\(y):\(x) \(name(style))")
                    previous = style
                }
            }
        }
        return lines
    }

    /// One style as text.
    public static func describe(single style: CellStyle) -> String { name(style) }

    static func name(_ style: CellStyle) -> String {
        func colour(_ c: TerminalColor) -> String {
            switch c {
            case .terminalDefault: "default"
            case .rgb(let r, let g, let b): "#" + [r, g, b].map { String($0, radix: 16).leftPadded(2) }.joined()
            }
        }
        var text = "fg=\(colour(style.foreground)) bg=\(colour(style.background))"
        if style.attributes.contains(.bold) { text += " bold" }
        if style.attributes.contains(.dim) { text += " dim" }
        if style.attributes.contains(.reverse) { text += " reverse" }
        if style.attributes.contains(.underline) { text += " underline" }
        return text
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
