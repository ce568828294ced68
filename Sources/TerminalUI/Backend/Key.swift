/// A key press, independent of the terminal library.
public enum Key: Sendable, Hashable {
    case character(Character)
    case up, down, left, right
    case shiftUp, shiftDown, shiftLeft, shiftRight
    case controlLeft, controlRight
    case pageUp, pageDown, home, end
    case enter, escape, backspace, tab, delete
    /// Control plus a letter (Ctrl-C arrives as `.control("c")`).
    case control(Character)
    case function(Int)

    /// The name used in the config file and the help screen ("k", "Up", "Shift+Up", "Ctrl+Left", "PgDn", "Enter", "F1").
    public var name: String {
        switch self {
        case .character(" "): "Space"
        case .character(let c): String(c)
        case .up: "Up"
        case .down: "Down"
        case .left: "Left"
        case .right: "Right"
        case .shiftUp: "Shift+Up"
        case .shiftDown: "Shift+Down"
        case .shiftLeft: "Shift+Left"
        case .shiftRight: "Shift+Right"
        case .controlLeft: "Ctrl+Left"
        case .controlRight: "Ctrl+Right"
        case .pageUp: "PgUp"
        case .pageDown: "PgDn"
        case .home: "Home"
        case .end: "End"
        case .enter: "Enter"
        case .escape: "Esc"
        case .backspace: "Backspace"
        case .tab: "Tab"
        case .delete: "Delete"
        case .control(let c): "Ctrl+\(c)"
        case .function(let n): "F\(n)"
        }
    }

    /// Parses a name as written in the config file; nil when unknown.
    public init?(name: String) {
        let named: [String: Key] = [
            "up": .up, "down": .down, "left": .left, "right": .right, "shift+up": .shiftUp, "shift+down": .shiftDown, "shift+left": .shiftLeft, "shift+right": .shiftRight,
            "ctrl+left": .controlLeft, "ctrl+right": .controlRight, "pgup": .pageUp, "pageup": .pageUp,
            "pgdn": .pageDown, "pagedown": .pageDown, "home": .home, "end": .end, "enter": .enter, "return": .enter,
            "esc": .escape, "escape": .escape, "backspace": .backspace, "tab": .tab, "delete": .delete, "space": .character(" "),
        ]
        if let key = named[name.lowercased()] { self = key; return }
        if name.count == 1, let c = name.first { self = .character(c); return }
        if name.lowercased().hasPrefix("ctrl+"), name.count == 6, let c = name.last { self = .control(Character(c.lowercased())); return }
        if name.uppercased().hasPrefix("F"), let n = Int(name.dropFirst()), (1...24).contains(n) { self = .function(n); return }
        return nil
    }
}

/// What the backend reports.
public enum InputEvent: Sendable, Equatable {
    case key(Key)
    case resize(width: Int, height: Int)
}
