public import TerminalUI
internal import CNcurses
import Foundation
import Synchronization

/// The signal that asked the app to stop (0: none). Set by the signal handler, read by the loop.
let pendingSignal = Atomic<Int32>(0)
/// Set when SIGTSTP arrived; the loop gives the terminal back, stops, and redraws on SIGCONT.
let pendingSuspend = Atomic<Bool>(false)

/// The real terminal through ncursesw: direct colour where terminfo has it, else 256/16/8 colours
/// with pairs allocated on demand, else monochrome; ASCII borders outside UTF-8 locales.
/// All curses calls happen on the thread that created it.
public final class NcursesTerminal: TerminalBackend {
    /// Why the terminal could not be started.
    public enum StartError: Error, CustomStringConvertible {
        case notInteractive(String)

        public var description: String {
            switch self { case .notInteractive(let why): why }
        }
    }

    public let capabilities: TerminalCapabilities
    /// The terminfo entry in use (may be the `-direct` variant of $TERM).
    public let terminalName: String
    private var pairs: [PairKey: Int32] = [:]
    private let pairCapacity: Int
    private var controlLeftCode: Int32 = -1
    private var controlRightCode: Int32 = -1
    private var stopped = false
    private var painter: PixelGraphicsPainter?
    /// Where curses writes (pictures go the same way, after it).
    private var outputDescriptor: Int32 = 1
    private var lastSize = (width: 0, height: 0)

    private struct PairKey: Hashable { let foreground: Int32, background: Int32 }

    /// What the terminal can do, read from terminfo without starting curses (for `lightbox doctor`).
    public struct Probe: Sendable, Encodable {
        public let term: String
        /// The terminfo entry the reviewer would use (a `-direct` one under COLORTERM=truecolor).
        public let entry: String
        public let entryFound: Bool
        public let colours: Int
        public let colourDepth: String
        public let utf8: Bool
        public let interactive: Bool
        public let columns: Int
        public let rows: Int
        public let ncursesVersion: String
        public let noColor: Bool
        public let insideTmux: Bool
    }

    /// Reads terminfo for $TERM (and its `-direct` variant under COLORTERM) and the locale.
    public static func probe(environment given: [String: String]? = nil) -> Probe {
        let environment = given ?? ProcessInfo.processInfo.environment
        let term = environment["TERM"] ?? ""
        var entry = term
        if ["truecolor", "24bit"].contains((environment["COLORTERM"] ?? "").lowercased()), !term.hasSuffix("-direct") {
            let base = term.replacingOccurrences(of: "-256color", with: "")
            if terminfoExists(base + "-direct") { entry = base + "-direct" }
        }
        let found = !entry.isEmpty && terminfoExists(entry)
        var colours = 0
        var rgb = false
        if found {
            var flag: Int32 = 0
            colours = Int(lbx_terminfo_colours(entry, &flag))
            rgb = flag != 0
        }
        let noColor = !(environment["NO_COLOR"] ?? "").isEmpty
        let depth: ColorDepth = noColor || colours <= 0 ? .monochrome
            : (colours >= 0x1000000 || rgb ? .direct : (colours >= 256 ? .palette256 : (colours >= 16 ? .palette16 : .palette8)))
        setlocale(LC_ALL, "")
        let size = TerminalSize.current()
        return Probe(term: term, entry: entry, entryFound: found, colours: colours, colourDepth: depth.rawValue,
                     utf8: lbx_locale_is_utf8() != 0, interactive: isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1,
                     columns: size.columns, rows: size.rows, ncursesVersion: String(cString: curses_version()),
                     noColor: noColor, insideTmux: !(environment["TMUX"] ?? "").isEmpty)
    }

    /// Starts curses on the controlling terminal; throws when there is no usable terminal.
    public convenience init(environment: [String: String]? = nil, graphics choice: GraphicsChoice = .cells) throws {
        let environment = environment ?? ProcessInfo.processInfo.environment
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            throw StartError.notInteractive("lightbox needs an interactive terminal; for scripts and pipes use `lightbox render FILE` (or --png)")
        }
        let term = environment["TERM"] ?? ""
        guard !term.isEmpty, term != "dumb", term != "unknown" else {
            throw StartError.notInteractive("TERM is \(term.isEmpty ? "not set" : "'\(term)'"), which cannot draw the reviewer; use `lightbox render FILE` for plain output")
        }
        var name = term
        let wantsTrueColour = ["truecolor", "24bit"].contains((environment["COLORTERM"] ?? "").lowercased())
        if wantsTrueColour && !term.hasSuffix("-direct") {
            let base = term.replacingOccurrences(of: "-256color", with: "")
            if Self.terminfoExists(base + "-direct") { name = base + "-direct" }
        }
        Self.installSignalHandlers()
        // Asked before curses starts, so the answers never reach curses as keys.
        let detection = GraphicsDetection.detect(choice: choice, environment: environment)
        do {
            try self.init(terminalName: name, input: nil, output: nil, noColour: !(environment["NO_COLOR"] ?? "").isEmpty,
                          graphics: detection)
        } catch {
            guard name != term else { throw error }
            try self.init(terminalName: term, input: nil, output: nil, noColour: !(environment["NO_COLOR"] ?? "").isEmpty,
                          graphics: detection)
        }
        graphicsReason = painter == nil && detection.protocolInUse != nil
            ? "cells: \(detection.protocolInUse!.rawValue) is there, but the terminal is drawn without colour (NO_COLOR or no colours in terminfo)"
            : detection.reason
        if painter == nil, let path = environment["LIGHTBOX_GRAPHICS_LOG"] {
            // The log says why there are no pixel graphics, too.
            let reason = graphicsReason.replacingOccurrences(of: "\"", with: "'")
            FileManager.default.createFile(atPath: path, contents: Data("{\"protocol\":\"cells\",\"reason\":\"\(reason)\",\"bytes\":0}\n".utf8))
        }
    }

    /// Why the image area is drawn as it is (pixel graphics, or cells and why).
    public private(set) var graphicsReason = "cells"


    /// Starts curses with terminfo entry `terminalName` on the given descriptors (nil: stdin and
    /// stdout). Signals are left alone: the convenience initialiser installs them for the real terminal.
    public init(terminalName: String, input: Int32?, output: Int32?, noColour: Bool, graphics: GraphicsDetection? = nil) throws {
        setlocale(LC_ALL, "")
        let unicode = lbx_locale_is_utf8() != 0
        let screen = (input != nil || output != nil)
            ? lbx_newterm_fds(terminalName, output ?? STDOUT_FILENO, input ?? STDIN_FILENO)
            : lbx_newterm(terminalName)
        guard screen != nil else {
            throw StartError.notInteractive("no terminfo entry for TERM '\(terminalName)' (install ncurses-term); use `lightbox render FILE` meanwhile")
        }
        self.terminalName = terminalName
        outputDescriptor = output ?? STDOUT_FILENO
        var depth = ColorDepth.monochrome
        if !noColour && has_colors() {
            start_color()
            use_default_colors()
            let colours = lbx_colors()
            if colours >= 0x1000000 || tigetflag("RGB") > 0 { depth = .direct }
            else if colours >= 256 { depth = .palette256 }
            else if colours >= 16 { depth = .palette16 }
            else if colours >= 8 { depth = .palette8 }
        }
        // Pixel graphics need direct colour pictures and a UTF-8 screen around them; else cells.
        let pixels = graphics.flatMap { $0.protocolInUse != nil && depth != .monochrome ? $0 : nil }
        capabilities = TerminalCapabilities(colorDepth: depth, unicode: unicode, graphics: pixels?.protocolInUse, cellPixels: pixels?.cellPixels)
        if let pixels, let chosen = pixels.protocolInUse, let cell = pixels.cellPixels {
            painter = PixelGraphicsPainter(graphics: chosen, colourRegisters: pixels.colourRegisters, cell: cell,
                                           logPath: ProcessInfo.processInfo.environment["LIGHTBOX_GRAPHICS_LOG"])
        }
        pairCapacity = max(0, Int(lbx_color_pairs()) - 1)
        cbreak()
        noecho()
        nonl()
        keypad(lbx_stdscr(), true)
        curs_set(0)
        set_escdelay(25)
        controlLeftCode = Self.keyCode(capability: "kLFT5", fallback: "\u{1B}[1;5D")
        controlRightCode = Self.keyCode(capability: "kRIT5", fallback: "\u{1B}[1;5C")
    }

    /// Sets the screen size curses draws for (a pseudo-terminal has no window to measure).
    public func resize(width: Int, height: Int) {
        resizeterm(Int32(height), Int32(width))
    }

    deinit { stop() }

    /// Restores the terminal (idempotent).
    public func stop() {
        guard !stopped else { return }
        stopped = true
        if let bytes = painter?.clearAll(), !bytes.isEmpty { Self.writeAll(bytes, to: outputDescriptor) }
        endwin()
    }

    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written > 0 { offset += written } else if errno != EINTR && errno != EAGAIN { return }
        }
    }

    /// The signal that asked to stop, if any (SIGINT, SIGTERM, SIGHUP).
    public var stopSignal: Int32? {
        let value = pendingSignal.load(ordering: .relaxed)
        return value == 0 ? nil : value
    }

    public var size: (width: Int, height: Int) { (Int(lbx_cols()), Int(lbx_lines())) }

    public func present(_ buffer: ScreenBuffer) {
        let (width, height) = size
        let maxX = min(width, buffer.width), maxY = min(height, buffer.height)
        var text: [wchar_t] = [0, 0]
        for y in 0..<maxY {
            for x in 0..<maxX {
                let cell = buffer[x, y]
                // The right half of a double-width character: curses fills it with the left half.
                if cell.isContinuation { continue }
                let scalar = cell.character.unicodeScalars.first.map { capabilities.unicode || $0.isASCII ? $0 : "?" } ?? " "
                text[0] = wchar_t(bitPattern: scalar.value)
                lbx_put_cell(Int32(y), Int32(x), text, attributes(cell.style), pair(for: cell.style))
            }
        }
        if let painter {
            if (width, height) != lastSize { painter.forceRedraw = true }
            // Rows under a Sixel picture that went away: curses sends them again.
            for rows in painter.rowsToRepaint(for: buffer.pictures) { wredrawln(lbx_stdscr(), Int32(rows.lowerBound), Int32(rows.count)) }
        }
        lastSize = (width, height)
        wnoutrefresh(lbx_stdscr())
        doupdate()
        if let painter {
            let bytes = painter.bytes(for: buffer.pictures)
            if !bytes.isEmpty { Self.writeAll(bytes, to: outputDescriptor) }
        }
    }

    public func nextEvent(timeoutMilliseconds: Int) -> InputEvent? {
        wtimeout(lbx_stdscr(), Int32(timeoutMilliseconds))
        var character: wint_t = 0
        let result = wget_wch(lbx_stdscr(), &character)
        if result == ERR { return nil }
        if result == KEY_CODE_YES {
            let code = Int32(character)
            switch code {
            case KEY_RESIZE: return .resize(width: size.width, height: size.height)
            case KEY_UP: return .key(.up)
            case KEY_DOWN: return .key(.down)
            case KEY_LEFT: return .key(.left)
            case KEY_RIGHT: return .key(.right)
            case KEY_SR: return .key(.shiftUp)
            case KEY_SF: return .key(.shiftDown)
            case KEY_SLEFT: return .key(.shiftLeft)
            case KEY_SRIGHT: return .key(.shiftRight)
            case KEY_PPAGE: return .key(.pageUp)
            case KEY_NPAGE: return .key(.pageDown)
            case KEY_HOME: return .key(.home)
            case KEY_END: return .key(.end)
            case KEY_ENTER: return .key(.enter)
            case KEY_BACKSPACE: return .key(.backspace)
            case KEY_DC: return .key(.delete)
            case controlLeftCode where controlLeftCode > 0: return .key(.controlLeft)
            case controlRightCode where controlRightCode > 0: return .key(.controlRight)
            default:
                if code > KEY_F0 && code <= KEY_F0 + 24 { return .key(.function(Int(code - KEY_F0))) }
                return nil
            }
        }
        switch character {
        case 10, 13: return .key(.enter)
        case 27: return .key(.escape)
        case 8, 127: return .key(.backspace)
        case 9: return .key(.tab)
        case 1...26: return .key(.control(Character(UnicodeScalar(UInt8(character) + 96))))
        default:
            guard let scalar = UnicodeScalar(UInt32(character)) else { return nil }
            return .key(.character(Character(scalar)))
        }
    }

    // MARK: Colours

    private func attributes(_ style: CellStyle) -> attr_t {
        var value: attr_t = 0
        if style.attributes.contains(.bold) { value |= lbx_attr_bold() }
        if style.attributes.contains(.dim) { value |= lbx_attr_dim() }
        if style.attributes.contains(.underline) { value |= lbx_attr_underline() }
        // Without colour, selection and emphasis must still show: reverse stays.
        if style.attributes.contains(.reverse) { value |= lbx_attr_reverse() }
        return value
    }

    private func pair(for style: CellStyle) -> Int32 {
        guard capabilities.colorDepth != .monochrome else { return 0 }
        let key = PairKey(foreground: Int32(ColorQuantizer.index(style.foreground, depth: capabilities.colorDepth)),
                          background: Int32(ColorQuantizer.index(style.background, depth: capabilities.colorDepth)))
        if key.foreground == -1 && key.background == -1 { return 0 }
        if let existing = pairs[key] { return existing }
        if pairs.count >= pairCapacity {
            // Full: start over. Cells on screen keep stale pairs until redrawn, so repaint all.
            reset_color_pairs()
            pairs.removeAll(keepingCapacity: true)
            clearok(lbx_stdscr(), true)
            painter?.forceRedraw = true
        }
        let number = Int32(pairs.count + 1)
        init_extended_pair(number, key.foreground, key.background)
        pairs[key] = number
        return number
    }

    // MARK: Set-up helpers

    private static func keyCode(capability: String, fallback: String) -> Int32 {
        if let sequence = tigetstr(capability), Int(bitPattern: sequence) != -1, Int(bitPattern: sequence) != 0 {
            let code = key_defined(sequence)
            if code > 0 { return code }
        }
        let code = key_defined(fallback)
        if code > 0 { return code }
        // Not in terminfo: teach curses the xterm sequence.
        let chosen = Int32(KEY_MAX) - (capability == "kLFT5" ? 2 : 1)
        define_key(fallback, chosen)
        return chosen
    }

    private static func terminfoExists(_ name: String) -> Bool {
        guard let first = name.first else { return false }
        let home = ProcessInfo.processInfo.environment["HOME"] ?? ""
        let folders = [ProcessInfo.processInfo.environment["TERMINFO"] ?? "", home + "/.terminfo", "/etc/terminfo", "/lib/terminfo", "/usr/share/terminfo"]
        let hex = String(first.asciiValue ?? 0, radix: 16)
        return folders.contains { folder in
            !folder.isEmpty && (FileManager.default.fileExists(atPath: "\(folder)/\(first)/\(name)")
                || FileManager.default.fileExists(atPath: "\(folder)/\(hex)/\(name)"))
        }
    }

    /// Gives the terminal back and stops if SIGTSTP arrived; returns true after resuming (redraw).
    public func handlePendingSuspend() -> Bool {
        guard pendingSuspend.exchange(false, ordering: .relaxed) else { return false }
        endwin()
        signal(SIGTSTP, SIG_DFL)
        raise(SIGTSTP)
        // Continued (SIGCONT): take the terminal again and repaint everything.
        Self.installSuspendHandler()
        refresh()
        clearok(lbx_stdscr(), true)
        painter?.forceRedraw = true
        return true
    }

    private static func installSuspendHandler() {
        signal(SIGTSTP) { _ in pendingSuspend.store(true, ordering: .relaxed) }
    }

    private static func installSignalHandlers() {
        // Installed before newterm, so ncurses keeps them (it only takes over default handlers).
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            signal(signalNumber) { number in pendingSignal.store(number, ordering: .relaxed) }
        }
        // Suspend (Ctrl-Z, SIGTSTP) unless the parent chose to ignore it (no job control there).
        var current = sigaction()
        let ignoredHandler = 1  // SIG_IGN is ((void (*)(int)) 1)
        if sigaction(SIGTSTP, nil, &current) == 0,
           current.__sigaction_handler.sa_handler.map({ unsafeBitCast($0, to: Int.self) }) != ignoredHandler {
            installSuspendHandler()
        }
        // A crash: best effort to give the terminal back, then die as before.
        for signalNumber in [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT] {
            signal(signalNumber) { number in
                endwin()
                signal(number, SIG_DFL)
                raise(number)
            }
        }
    }
}
