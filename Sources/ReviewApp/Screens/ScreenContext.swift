import LightboxCore
public import TerminalUI

/// What the screens need besides the state: theme and terminal capabilities, and a memo of the
/// last picture drawn. Images and overlays come in the state; nothing here does I/O.
public final class ScreenContext: @unchecked Sendable {
    public let theme: Theme
    public let capabilities: TerminalCapabilities
    /// The last picture drawn, reused while nothing that shapes it has changed.
    var lastPicture: (key: PictureKey, picture: RGBImage)?

    struct PictureKey: Equatable, CustomStringConvertible {
        let slice: SliceKey
        let window: Window
        let width: Int
        let height: Int
        let region: PixelRegion
        let overlay: Bool
        let opacity: Float
        let contour: Bool

        var description: String {
            "\(slice) w\(window.width) c\(window.center) \(width)x\(height) r\(region.x),\(region.y),\(region.width),\(region.height) o\(overlay ? opacity : 0)\(contour ? "c" : "")"
        }
    }

    /// The cell mode pictures are drawn in (the terminal's, with the symbols asked for).
    public let imageMode: ImageCellMode

    public init(theme: Theme, capabilities: TerminalCapabilities, symbols: ImageCellMode = .halfBlock) {
        self.theme = theme
        self.capabilities = capabilities
        imageMode = .forTerminal(capabilities, symbols: symbols)
    }

    var borders: BorderSet { .forTerminal(unicode: capabilities.unicode) }

    /// Symbols with a plain-ASCII fallback.
    func symbol(_ unicode: String, _ ascii: String) -> String { capabilities.unicode ? unicode : ascii }
}

/// Draws the state into a buffer: the one entry point the app and the tests call.
public enum Screens {
    public static func draw(_ state: AppState, context: ScreenContext) -> ScreenBuffer {
        var buffer = ScreenBuffer(width: state.width, height: state.height, fill: Cell(" ", style: context.theme.textStyle))
        guard state.width >= Review.minimumSize.width, state.height >= Review.minimumSize.height else {
            TooSmallScreen.draw(state, context: context, into: &buffer)
            return buffer
        }
        switch state.screen {
        case .worklist: WorklistScreen.draw(state, context: context, into: &buffer)
        case .viewer: ViewerScreen.draw(state, context: context, into: &buffer)
        case .help: HelpScreen.draw(state, context: context, into: &buffer)
        case .header: HeaderScreen.draw(state, context: context, into: &buffer)
        case .problems: ProblemsScreen.draw(state, context: context, into: &buffer)
        case .monitor: MonitorScreen.draw(state, context: context, into: &buffer)
        }
        return buffer
    }

    /// The title bar on row 0.
    static func titleBar(_ left: String, state: AppState, context: ScreenContext, into buffer: inout ScreenBuffer) {
        StatusBar.draw(left: SafeText.sanitize(left), right: "research & triage tool — not for diagnosis ", row: 0,
                       width: state.width, style: context.theme.barStyle, into: &buffer)
    }

    /// The status bar on the last row: the message if any, else `hint`.
    static func statusBar(_ hint: String, right: String = "", state: AppState, context: ScreenContext, into buffer: inout ScreenBuffer) {
        let text = state.message ?? hint
        StatusBar.draw(left: SafeText.sanitize(text), right: right, row: state.height - 1, width: state.width,
                       style: context.theme.barStyle, into: &buffer)
    }

    /// "20260112" as "2026-01-12".
    static func date(_ value: String) -> String {
        guard value.count == 8, value.allSatisfy(\.isNumber) else { return SafeText.sanitize(value) }
        let digits = Array(value)
        return "\(String(digits[0..<4]))-\(String(digits[4..<6]))-\(String(digits[6..<8]))"
    }
}

/// Below the minimum size: say so, and what is needed.
enum TooSmallScreen {
    static func draw(_ state: AppState, context: ScreenContext, into buffer: inout ScreenBuffer) {
        let lines = ["Terminal too small", "\(state.width)×\(state.height), needs \(Review.minimumSize.width)×\(Review.minimumSize.height)", "q quits"]
        for (index, line) in lines.enumerated() {
            let y = max(0, state.height / 2 - 1 + index)
            buffer.put(line, x: max(0, (state.width - line.count) / 2), y: y, style: index == 0 ? context.theme.warningStyle : context.theme.textStyle)
        }
    }
}
