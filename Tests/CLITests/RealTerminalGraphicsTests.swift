import DicomReading
import Foundation
import LightboxCore
import NcursesTerminal
import TerminalUI
import Testing
import TestSupport

/// An X server of its own (Xvfb) with programs started in it and screenshots taken of it.
final class XDisplay {
    let display: String
    private var pids: [pid_t] = []
    let folder = TemporaryFolder("x")

    init() throws {
        // A display number nothing else uses.
        var number = 90 + Int.random(in: 0..<400)
        while FileManager.default.fileExists(atPath: "/tmp/.X11-unix/X\(number)") { number += 1 }
        display = ":\(number)"
        pids.append(try Self.start(["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"], environment: [:]))
        let deadline = Date(timeIntervalSinceNow: 10)
        while !FileManager.default.fileExists(atPath: "/tmp/.X11-unix/X\(number)") {
            guard Date() < deadline else { throw XError("Xvfb \(display) did not start within 10 s") }
            usleep(50_000)
        }
    }

    deinit {
        for pid in pids.reversed() { kill(pid, SIGTERM) }
        // Reaped within two seconds, else killed.
        for pid in pids {
            var status: Int32 = 0
            var waited = 0
            while waitpid(pid, &status, WNOHANG) == 0 {
                if waited == 40 { kill(pid, SIGKILL) }
                usleep(50_000)
                waited += 1
            }
        }
    }

    struct XError: Error, CustomStringConvertible {
        let description: String
        init(_ text: String) { description = text }
    }

    /// Starts a program in the background (stdout and stderr to a file in the folder).
    static func start(_ arguments: [String], environment: [String: String], log: String = "/dev/null") throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var variables = ProcessInfo.processInfo.environment
        variables.merge(environment) { $1 }
        variables["TMUX"] = nil
        // As a user's desktop would have it: colour on, not inside tmux.
        variables["NO_COLOR"] = nil
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        var envp: [UnsafeMutablePointer<CChar>?] = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv { free(p) }; for p in envp { free(p) } }
        // The test's threads block signals (Dispatch does): the children start with none blocked
        // and default handlers, so SIGTERM ends them and the terminals run as they would for a user.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), all = sigset_t()
        sigemptyset(&empty)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let status = posix_spawnp(&pid, arguments[0], &actions, &attributes, &argv, &envp)
        guard status == 0 else { throw XError("\(arguments[0]) could not be started (\(String(cString: strerror(status)))): install it (make test does)") }
        return pid
    }

    func launch(_ arguments: [String], environment: [String: String] = [:]) throws {
        pids.append(try Self.start(arguments, environment: environment.merging(["DISPLAY": display]) { $1 }, log: folder.file("programs.log")))
    }

    /// Runs an X client to completion (xdotool, xwd), returning its output.
    func run(_ arguments: [String]) throws -> Data {
        let output = folder.file("out-\(UUID().uuidString)")
        let pid = try Self.start(arguments, environment: ["DISPLAY": display], log: output)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return FileManager.default.contents(atPath: output) ?? Data()
    }

    /// Resizes the window of `windowClass` (the terminal tells the program with SIGWINCH).
    func resize(windowClass: String, width: Int, height: Int) throws {
        _ = try run(["xdotool", "windowsize", "--sync", try window(of: windowClass), String(width), String(height)])
    }

    /// The id of the first window of `windowClass` (waiting for it to exist).
    func window(of windowClass: String) throws -> String {
        let window = String(decoding: try run(["xdotool", "search", "--sync", "--class", windowClass]), as: UTF8.self)
            .split(separator: "\n").first { Int($0) != nil }.map(String.init)
        guard let window else { throw XError("no window of class \(windowClass) on \(display)") }
        return window
    }

    /// Presses keys in the window of `windowClass` (focused first; there is no window manager).
    func press(_ keys: [String], windowClass: String) throws {
        _ = try run(["xdotool", "windowfocus", "--sync", try window(of: windowClass)])
        _ = try run(["xdotool", "key", "--delay", "80"] + keys)
    }

    /// The whole screen (xwd's ZPixmap, 24 or 32 bits a pixel) as RGB.
    func screenshot() throws -> RGBImage {
        let data = try run(["xwd", "-root", "-silent"])
        if let keep = ProcessInfo.processInfo.environment["LIGHTBOX_KEEP_SCREENSHOTS"] {
            try? data.write(to: URL(fileURLWithPath: keep + "/screen-\(display.dropFirst()).xwd"))
        }
        return try Self.readXWD([UInt8](data))
    }

    static func readXWD(_ bytes: [UInt8]) throws -> RGBImage {
        func card(_ index: Int) -> Int {
            let o = index * 4
            return Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
        }
        guard bytes.count > 100, card(1) == 7, card(2) == 2, [24, 32].contains(card(11)) else {
            throw XError("not a 24- or 32-bit ZPixmap XWD file (\(bytes.count) bytes)")
        }
        let stride = card(11) / 8
        let headerSize = card(0), width = card(4), height = card(5), lsbFirst = card(7) == 0, bytesPerLine = card(12)
        let colours = card(19)
        let start = headerSize + colours * 12
        guard bytes.count >= start + height * bytesPerLine else { throw XError("XWD file cut short") }
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let o = start + y * bytesPerLine + x * stride
                let value = lsbFirst ? Int(bytes[o]) | Int(bytes[o + 1]) << 8 | Int(bytes[o + 2]) << 16
                    : Int(bytes[o + stride - 3]) << 16 | Int(bytes[o + stride - 2]) << 8 | Int(bytes[o + stride - 1])
                let i = (y * width + x) * 3
                rgb[i] = UInt8(value >> 16 & 0xFF); rgb[i + 1] = UInt8(value >> 8 & 0xFF); rgb[i + 2] = UInt8(value & 0xFF)
            }
        }
        return RGBImage(width: width, height: height, pixels: rgb)
    }
}

/// The graphics paths end to end in real terminals under Xvfb: xterm as a VT340 (Sixel) and
/// kitty (its own protocol); a screenshot of the image area against the slice rendered here.
@Suite(.serialized)
struct RealTerminalGraphicsTests {
    struct Placement: Decodable {
        var `protocol`: String
        var x: Int?, y: Int?, width: Int?, height: Int?, cellWidth: Int?, cellHeight: Int?, bytes: Int, key: String?, cleared: Bool?, reason: String?
    }

    static func placements(_ path: String) -> [Placement] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Placement.self, from: Data($0.utf8)) }
    }

    static func wait(for seconds: Double, _ what: String, _ condition: () -> Bool) throws {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while !condition() {
            guard Date() < deadline else { throw XDisplay.XError("timed out after \(Int(seconds)) s waiting for \(what)") }
            usleep(100_000)
        }
    }

    /// Lightbox on the bundled CT phantom (alone in a folder) in a real terminal under Xvfb.
    final class Session {
        let x: XDisplay
        let folder = TemporaryFolder("phantom")
        let log: String
        let windowClass: String
        let slices: [SliceEntry]

        init(terminal: (String) -> [String], windowClass: String, expect name: String) throws {
            x = try XDisplay()
            self.windowClass = windowClass
            let sample = Fixtures.samples + "/chest-ct"
            let phantom = folder
            for file in try FileManager.default.contentsOfDirectory(atPath: sample) where file.hasSuffix(".dcm") {
                try FileManager.default.copyItem(atPath: sample + "/" + file, toPath: phantom.file(file))
            }
            // The slices as the viewer orders them (by position along the normal).
            let files = try FileManager.default.contentsOfDirectory(atPath: phantom.path).filter { $0.hasSuffix(".dcm") }
            let entries = try files.map { InstanceEntry(path: phantom.file($0), header: try DicomFile.open(phantom.file($0)).header()) }
            slices = Study.assemble(entries).first?.series.first?.slices ?? []
            log = x.folder.file("graphics.jsonl")
            let command = "LIGHTBOX_HOME='\(x.folder.file("home"))' LIGHTBOX_GRAPHICS_LOG='\(log)' '\(CommandLineTests.binary)' '\(folder.path)'; sleep 60"
            try x.launch(terminal(command), environment: ["LIBGL_ALWAYS_SOFTWARE": "1"])
            let path = log
            try RealTerminalGraphicsTests.wait(for: 30, "\(name) to start Lightbox (log \(path))") { !RealTerminalGraphicsTests.placements(path).isEmpty }
            let first = RealTerminalGraphicsTests.placements(path).first
            #expect(first?.protocol == name, "auto-detected \(name): \(first?.reason ?? "")")
        }

        var placements: [Placement] { RealTerminalGraphicsTests.placements(log) }

        /// Presses keys and waits until the latest frame drew what `condition` says (then a
        /// moment for the terminal to paint it).
        func press(_ keys: [String], until what: String, seconds: Double = 20, _ condition: @escaping (Placement) -> Bool) throws -> Placement {
            try x.press(keys, windowClass: windowClass)
            try RealTerminalGraphicsTests.wait(for: seconds, what) { placements.last.map(condition) == true }
            usleep(700_000)
            return placements.last!
        }

        /// Slice `index` rendered here as the viewer would at the placement's size (and region).
        func expected(_ index: Int, _ placement: Placement) throws -> RGBImage {
            let image = try DicomFile.open(slices[index].key.path).decode()
            // The key carries the region: "r X,Y,W,H".
            let region = placement.key?.split(separator: " ").first { $0.hasPrefix("r") }.map { $0.dropFirst().split(separator: ",").compactMap { Int($0) } }
            let pixels = region.flatMap { $0.count == 4 ? PixelRegion(x: $0[0], y: $0[1], width: $0[2], height: $0[3]) : nil }
            return SliceRenderer.render(image, window: WindowPreset.initialWindow(for: image), region: pixels,
                                        targetWidth: placement.width!, targetHeight: placement.height!)
        }

        /// The screen against slice `index` where the placement puts it.
        func error(_ index: Int, _ placement: Placement) throws -> Double {
            RealTerminalGraphicsTests.difference(try x.screenshot(), try expected(index, placement), at: placement).0
        }
    }

    /// The mean absolute difference (0–255) between the screenshot and `expected` placed at the
    /// placement's cells, at the best offset within the terminal's border (a few pixels).
    static func difference(_ shot: RGBImage, _ expected: RGBImage, at placement: Placement) -> (Double, Int, Int) {
        let x0 = placement.x! * placement.cellWidth!, y0 = placement.y! * placement.cellHeight!
        func mean(_ dx: Int, _ dy: Int, step: Int) -> Double {
            var total = 0, count = 0
            var y = 0
            while y < expected.height {
                var x = 0
                while x < expected.width {
                    let sx = x0 + dx + x, sy = y0 + dy + y
                    if sx < shot.width && sy < shot.height {
                        let a = shot[sx, sy], b = expected[x, y]
                        total += abs(Int(a.r) - Int(b.r)) + abs(Int(a.g) - Int(b.g)) + abs(Int(a.b) - Int(b.b))
                        count += 3
                    }
                    x += step
                }
                y += step
            }
            return count == 0 ? 255 : Double(total) / Double(count)
        }
        var best = (Double.infinity, 0, 0)
        for dy in 0...12 { for dx in 0...12 { let m = mean(dx, dy, step: 5); if m < best.0 { best = (m, dx, dy) } } }
        return (mean(best.1, best.2, step: 1), best.1, best.2)
    }

    /// Open, overlay off, scroll, zoom, a screen over the image and back, resize: each frame on
    /// screen is the slice rendered here.
    func walkThrough(_ session: Session, threshold: Double) throws {
        let noOverlay = { (p: Placement) in p.width != nil && p.key?.hasSuffix("o0.0") == true }
        // The first key can reach a terminal before its window has focus (there is no window
        // manager): Enter is sent again until the viewer opens (a second Enter there does nothing).
        var opened: Placement?
        for _ in 0..<4 where opened == nil {
            opened = try? session.press(["Return"], until: "the slice in pixels", seconds: 8) { $0.width != nil }
        }
        var placement = try #require(opened, "the viewer never opened in \(session.windowClass)")
        #expect(placement.width! > 400, "a picture of hundreds of pixels, not a cell grid: \(placement.width!)")
        placement = try session.press(["g"], until: "the slice without overlay", noOverlay)
        var error = try session.error(0, placement)
        var measured = [String(format: "open %.2f", error)]
        #expect(error < threshold, "slice 1: mean error \(error)")
        let last = session.slices.count - 1
        placement = try session.press(["End"], until: "the last slice") { noOverlay($0) && $0.key?.contains(session.slices[last].key.path) == true }
        error = try session.error(last, placement)
        #expect(error < threshold, "the last slice after scrolling: mean error \(error)")
        measured.append(String(format: "scrolled %.2f", error))
        let stale = try session.error(0, placement)
        #expect(stale > 2 * error + 1, "and not slice 1 any more (\(stale) from slice 1, \(error) from the last)")
        placement = try session.press(["z"], until: "the zoomed view") { noOverlay($0) && $0.key?.contains(" r64,64,128,128 ") == true }
        error = try session.error(last, placement)
        #expect(error < threshold, "zoomed 2×: mean error \(error)")
        measured.append(String(format: "zoomed %.2f", error))
        _ = try session.press(["question"], until: "the help screen (no picture)") { $0.cleared == true }
        error = try session.error(last, placement)
        #expect(error > 25, "the help screen covers the whole image area: \(error) from the picture")
        placement = try session.press(["Escape"], until: "the picture again") { noOverlay($0) }
        error = try session.error(last, placement)
        #expect(error < threshold, "back from the help: mean error \(error)")
        // A smaller window: the picture is laid out again and drawn whole at its new size.
        let before = placement
        try session.x.resize(windowClass: session.windowClass, width: 760, height: 520)
        try RealTerminalGraphicsTests.wait(for: 20, "the picture after the resize") {
            session.placements.last.map { noOverlay($0) && ($0.width != before.width || $0.x != before.x) } == true
        }
        usleep(700_000)
        placement = session.placements.last!
        error = try session.error(last, placement)
        #expect(error < threshold, "after a resize: mean error \(error) (\(placement.width!)×\(placement.height!) pixels)")
        measured.append(String(format: "resized %.2f", error))
        // The figures for the notes: the screenshot's mean error (0–255 a channel) at each step.
        print("\(session.windowClass) screenshot against the rendered slice, mean error: \(measured.joined(separator: ", "))")
        #expect(session.placements.allSatisfy { $0.bytes < 4_000_000 })
    }

    @Test func xtermAsAVT340ShowsTheSliceInSixel() throws {
        let session = try Session(terminal: { command in
            ["xterm", "-ti", "vt340", "-tn", "xterm-256color", "-bg", "black", "-fg", "grey90", "-xrm", "XTerm*numColorRegisters: 256",
             "-geometry", "160x48+0+0", "-e", "sh", "-c", command]
        }, windowClass: "xterm", expect: "sixel")
        try walkThrough(session, threshold: 4)
    }

    @Test func kittyShowsTheSliceWithItsGraphicsProtocol() throws {
        let session = try Session(terminal: { command in
            ["kitty", "--config", "NONE", "-o", "initial_window_width=1000", "-o", "initial_window_height=660", "-o", "remember_window_size=no",
             "-o", "font_size=9", "-o", "background=#000000", "-o", "window_padding_width=0", "--class", "lbkitty", "sh", "-c", command]
        }, windowClass: "lbkitty", expect: "kitty")
        try walkThrough(session, threshold: 3)
    }

    /// A terminal that never answers the query, or answers garbage: cells, within the timeout.
    @Test func aSilentOrGarbledTerminalGetsCellsWithoutAHang() throws {
        for answer in [nil, "\u{1B}[?;;x\u{1B}_Gi=31;no\u{1B}\\garbage"] {
            var master: Int32 = 0, slave: Int32 = 0
            var size = winsize(ws_row: 48, ws_col: 160, ws_xpixel: 0, ws_ypixel: 0)
            #expect(openpty(&master, &slave, nil, nil, &size) == 0)
            defer { close(slave); close(master) }
            if let answer {
                let bytes = Array(answer.utf8)
                _ = bytes.withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
            }
            let started = Date()
            let detection = GraphicsDetection.detect(choice: .auto, environment: [:], input: slave, output: slave)
            let elapsed = Date().timeIntervalSince(started)
            #expect(detection.protocolInUse == nil)
            #expect(elapsed < GraphicsDetection.timeout + 0.3, "waited \(elapsed) s")
            #expect(detection.reason.hasPrefix("cells: "), "\(detection.reason)")
            if answer == nil { #expect(detection.reason.contains("did not answer")) }
            // The query went out to the terminal.
            var buffer = [UInt8](repeating: 0, count: 256)
            let count = buffer.withUnsafeMutableBytes { read(master, $0.baseAddress, 256) }
            let sent = String(decoding: buffer[0..<max(0, count)], as: UTF8.self)
            #expect(count > 0 && sent.contains("\u{1B}[c"))
        }
        let tmux = GraphicsDetection.detect(choice: .auto, environment: ["TMUX": "/tmp/tmux-0/default,1,0"])
        #expect(tmux.protocolInUse == nil && tmux.reason.contains("inside tmux"))
    }
}
