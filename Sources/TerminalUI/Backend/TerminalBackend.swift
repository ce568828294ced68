/// What a terminal can show, decided once at start.
public struct TerminalCapabilities: Sendable, Equatable {
    /// Colour depth.
    public var colorDepth: ColorDepth
    /// True when the locale is UTF-8, so box drawing and half blocks can be shown.
    public var unicode: Bool
    /// The pixel graphics protocol in use for the image area (nil: pictures in cells).
    public var graphics: GraphicsProtocol?
    /// One cell's size in screen pixels, when the terminal says (needed for pixel graphics).
    public var cellPixels: CellPixels?

    public init(colorDepth: ColorDepth, unicode: Bool, graphics: GraphicsProtocol? = nil, cellPixels: CellPixels? = nil) {
        self.colorDepth = colorDepth
        self.unicode = unicode
        self.graphics = graphics
        self.cellPixels = cellPixels
    }
}

/// A cell's size in screen pixels.
public struct CellPixels: Sendable, Equatable {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }
}

/// A terminal the app draws to and reads keys from (ncurses for real, `VirtualTerminal` in tests).
public protocol TerminalBackend: AnyObject {
    /// Current size in cells.
    var size: (width: Int, height: Int) { get }
    /// What the terminal can show.
    var capabilities: TerminalCapabilities { get }
    /// Shows a full frame; the backend sends only what changed.
    func present(_ buffer: ScreenBuffer)
    /// The next input event, waiting at most `timeoutMilliseconds` (nil: none arrived).
    func nextEvent(timeoutMilliseconds: Int) -> InputEvent?
    /// Suspends if the user asked to (SIGTSTP); true after resuming, when everything must be redrawn.
    func handlePendingSuspend() -> Bool
}

extension TerminalBackend {
    public func handlePendingSuspend() -> Bool { false }
}
