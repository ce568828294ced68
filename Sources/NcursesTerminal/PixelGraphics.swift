public import TerminalUI
internal import CZlib
import Foundation

/// Whether the terminal draws pixel graphics, found once before curses starts: the query is
/// written to the terminal and its answers read for at most `timeout` seconds (a terminal that
/// does not answer, or answers with garbage, gets cells, never a hang).
public struct GraphicsDetection: Sendable, Equatable {
    public var protocolInUse: GraphicsProtocol?
    public var cellPixels: CellPixels?
    public var colourRegisters: Int
    /// Why this was chosen, in words (for `doctor` and the log).
    public var reason: String

    public static let timeout = 0.4

    public init(protocolInUse: GraphicsProtocol?, cellPixels: CellPixels?, colourRegisters: Int, reason: String) {
        self.protocolInUse = protocolInUse
        self.cellPixels = cellPixels
        self.colourRegisters = colourRegisters
        self.reason = reason
    }

    public static func detect(choice: GraphicsChoice, environment: [String: String], input: Int32 = 0, output: Int32 = 1) -> GraphicsDetection {
        if choice == .cells {
            return GraphicsDetection(protocolInUse: nil, cellPixels: nil, colourRegisters: 0, reason: "cells (--graphics cells)")
        }
        if !(environment["TMUX"] ?? "").isEmpty {
            return GraphicsDetection(protocolInUse: nil, cellPixels: nil, colourRegisters: 0,
                                     reason: "cells: inside tmux, which redraws its panes over images (its passthrough is not used)")
        }
        guard isatty(input) == 1, isatty(output) == 1 else {
            return GraphicsDetection(protocolInUse: nil, cellPixels: nil, colourRegisters: 0, reason: "cells: not an interactive terminal")
        }
        let (reply, bytes) = query(input: input, output: output, timeout: timeout)
        var cell = reply.cellPixels
        var size = winsize()
        if ioctl(output, UInt(TIOCGWINSZ), &size) == 0, size.ws_xpixel > 0, size.ws_ypixel > 0, size.ws_col > 0, size.ws_row > 0 {
            cell = CellPixels(width: Int(size.ws_xpixel) / Int(size.ws_col), height: Int(size.ws_ypixel) / Int(size.ws_row))
        }
        let registers = reply.colourRegisters ?? 256
        guard let chosen = reply.protocolFor(choice) else {
            let why = bytes == 0 ? "the terminal did not answer the graphics query within \(Int(timeout * 1000)) ms"
                : (reply.complete ? "the terminal answered without Kitty graphics or Sixel" : "the terminal's answer was incomplete or not understood")
            return GraphicsDetection(protocolInUse: nil, cellPixels: cell, colourRegisters: registers, reason: "cells: \(why)")
        }
        guard let cell, cell.width >= 2, cell.height >= 4 else {
            return GraphicsDetection(protocolInUse: nil, cellPixels: nil, colourRegisters: registers,
                                     reason: "cells: \(chosen.rawValue) is there, but the terminal did not say its cell size in pixels")
        }
        let how = choice == .auto ? "detected" : "asked for with --graphics"
        let detail = chosen == .sixel ? ", \(registers) colour registers" : ""
        return GraphicsDetection(protocolInUse: chosen, cellPixels: cell, colourRegisters: registers,
                                 reason: "\(chosen.rawValue) (\(how); cells of \(cell.width)×\(cell.height) pixels\(detail))")
    }

    /// Writes the query in raw mode and reads until the Device Attributes answer or the timeout.
    static func query(input: Int32, output: Int32, timeout: Double) -> (GraphicsReply, Int) {
        var saved = termios()
        guard tcgetattr(input, &saved) == 0 else { return (GraphicsReply(), 0) }
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        raw.c_cc.6 = 0  // VMIN
        raw.c_cc.5 = 0  // VTIME
        tcsetattr(input, TCSANOW, &raw)
        defer { tcsetattr(input, TCSANOW, &saved) }
        let text = Array(GraphicsReply.query.utf8)
        _ = text.withUnsafeBytes { write(output, $0.baseAddress, $0.count) }
        var received: [UInt8] = []
        let deadline = Date(timeIntervalSinceNow: timeout)
        var buffer = [UInt8](repeating: 0, count: 512)
        while received.count < 65536 {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { break }
            var descriptor = pollfd(fd: input, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, Int32(max(1, left * 1000))) > 0 else { break }
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, 512) }
            if count <= 0 { break }
            received += buffer[0..<count]
            if GraphicsReply.parse(received).complete { break }
        }
        return (GraphicsReply.parse(received), received.count)
    }
}

/// Draws the pictures of each frame in pixels after curses has drawn the cells: resent only when
/// a picture changes; where one went away, curses repaints the rows under it (Sixel pixels stay
/// until text covers them) and Kitty images are deleted.
final class PixelGraphicsPainter {
    let graphics: GraphicsProtocol
    let colourRegisters: Int
    let cell: CellPixels
    private var shown: [PlacedPicture] = []
    private var nextID = 1
    private var shownIDs: [Int] = []
    /// Set after a resize, a resume or a full repaint: everything is sent again.
    var forceRedraw = false
    /// Where each frame's bytes are counted (LIGHTBOX_GRAPHICS_LOG), if anywhere.
    private let log: FileHandle?

    init(graphics: GraphicsProtocol, colourRegisters: Int, cell: CellPixels, logPath: String?) {
        self.graphics = graphics
        self.colourRegisters = colourRegisters
        self.cell = cell
        if let logPath, FileManager.default.createFile(atPath: logPath, contents: nil) {
            log = FileHandle(forWritingAtPath: logPath)
        } else {
            log = nil
        }
    }

    /// Rows to repaint before curses refreshes: those of pictures that go away or change place.
    func rowsToRepaint(for pictures: [PlacedPicture]) -> [Range<Int>] {
        guard graphics == .sixel else { return [] }
        return shown.filter { old in forceRedraw || !pictures.contains { $0.cells == old.cells } }.map { $0.cells.y..<($0.cells.y + $0.cells.height) }
    }

    /// The bytes to write after curses refreshed.
    func bytes(for pictures: [PlacedPicture]) -> [UInt8] {
        if pictures == shown && !forceRedraw { return [] }
        var out: [UInt8] = []
        if graphics == .kitty {
            for id in shownIDs { out += KittyGraphics.delete(id: id) }
            shownIDs = []
        }
        out += [0x1B, 0x37]  // save the cursor: curses still thinks it is where it left it
        for picture in pictures {
            out += Array("\u{1B}[\(picture.cells.y + 1);\(picture.cells.x + 1)H".utf8)
            let id = nextID
            nextID = nextID % 100_000 + 1
            out += graphics.encode(picture, id: id, colourRegisters: colourRegisters, deflate: Self.deflate)
            shownIDs.append(id)
        }
        out += [0x1B, 0x38]
        if let log {
            for picture in pictures {
                let line = "{\"protocol\":\"\(graphics.rawValue)\",\"x\":\(picture.cells.x),\"y\":\(picture.cells.y),\"columns\":\(picture.cells.width),"
                    + "\"rows\":\(picture.cells.height),\"width\":\(picture.picture.width),\"height\":\(picture.picture.height),"
                    + "\"cellWidth\":\(cell.width),\"cellHeight\":\(cell.height),\"key\":\"\(picture.key.replacingOccurrences(of: "\"", with: "'"))\",\"bytes\":\(out.count)}\n"
                log.write(Data(line.utf8))
            }
            if pictures.isEmpty { log.write(Data("{\"protocol\":\"\(graphics.rawValue)\",\"cleared\":true,\"bytes\":\(out.count)}\n".utf8)) }
        }
        shown = pictures
        forceRedraw = false
        return out
    }

    /// zlib at its fastest level (a slice compresses several times; speed matters more here).
    static func deflate(_ bytes: [UInt8]) -> [UInt8]? {
        var size = compressBound(uLong(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(size))
        let status = out.withUnsafeMutableBufferPointer { target in
            bytes.withUnsafeBufferPointer { source in compress2(target.baseAddress, &size, source.baseAddress, uLong(source.count), 1) }
        }
        guard status == Z_OK else { return nil }
        out.removeSubrange(Int(size)...)
        return out
    }

    /// What to send when leaving: Kitty images deleted.
    func clearAll() -> [UInt8] {
        defer { shownIDs = []; shown = [] }
        return graphics == .kitty ? shownIDs.flatMap { KittyGraphics.delete(id: $0) } : []
    }
}
