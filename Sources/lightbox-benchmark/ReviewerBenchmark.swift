import DicomReading
import Foundation
import LightboxServices
import LightboxCore
import NcursesTerminal
import ReviewApp
import Store
import TerminalUI

/// The reviewer's figures: time to produce a frame while scrolling a 300-slice 512×512 CT series
/// at 160×48 and 240×70 cells (warm and cold slice cache), bytes ncurses writes per scroll step
/// (on a pseudo-terminal), and peak memory while scrolling through a 1,000-image study.
struct ReviewerBenchmark {
    let folder: String
    let repeats: Int

    func run() throws {
        let ct = folder + "/ct300"
        try Benchmark.writeSeries(to: ct, count: 300, perSeries: 300)
        var lines = ["Lightbox reviewer benchmark — \(ProcessInfo.processInfo.activeProcessorCount) cores, 300-slice 512×512 CT"]
        for (width, height) in [(160, 48), (240, 70)] {
            let cold = try scroll(ct, width: width, height: height, warm: false)
            let warm = try scroll(ct, width: width, height: height, warm: true)
            lines.append(String(format: "%d×%d frame while scrolling, warm cache (median / p95): %6.2f ms / %6.2f ms", width, height,
                                Benchmark.percentile(warm, 0.5), Benchmark.percentile(warm, 0.95)))
            lines.append(String(format: "%d×%d frame while scrolling, cold cache (median / p95): %6.2f ms / %6.2f ms", width, height,
                                Benchmark.percentile(cold, 0.5), Benchmark.percentile(cold, 0.95)))
        }
        for terminal in ["xterm-256color", "xterm-direct"] {
            let bytes = try bytesPerStep(ct, terminalName: terminal, width: 160, height: 48)
            lines.append(String(format: "bytes written per scroll step, 160×48, %@ (median / max): %.0f / %.0f", terminal,
                                Benchmark.percentile(bytes, 0.5), bytes.max() ?? 0))
        }
        let big = folder + "/study1000"
        try Benchmark.writeSeries(to: big, count: 1000, perSeries: 1000)
        CLI.write(lines.joined(separator: "\n") + "\n")
        // Memory in a process of its own: nothing of the runs above in it.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        child.arguments = ["reviewer-memory", "--workdir", folder]
        try child.run()
        child.waitUntilExit()
    }

    /// The memory figure alone (`benchmark reviewer-memory`, started by `run`).
    func runMemory() throws {
        CLI.write(try memory(folder + "/study1000") + "\n")
    }

    /// An app on a virtual terminal with the series open.
    func openApp(_ path: String, width: Int, height: Int, backend: (any TerminalBackend)? = nil,
                 symbols: ImageCellMode = .halfBlock) throws -> ReviewApplication {
        let index = try SQLiteWorklistIndex(path: folder + "/index.sqlite")
        let source = FolderStudySource(root: path, index: index)
        let app = ReviewApplication(backend: backend ?? VirtualTerminal(width: width, height: height), source: source,
                                    heatmaps: nil, theme: .dark, symbols: symbols)
        app.apply(.worklistLoaded(try source.loadWorklist(progress: nil)))
        app.apply(.key(.enter))
        app.awaitSlice(seconds: 10)
        return app
    }

    /// Milliseconds from a key to a finished frame (slice decoded if needed, screen drawn).
    /// Warm: every slice decoded beforehand. Cold: jumps past what prefetching has decoded.
    func scroll(_ path: String, width: Int, height: Int, warm: Bool) throws -> [Double] {
        let app = try openApp(path, width: width, height: height)
        if warm {
            // Decode the slices the run visits (0–100, within the cache budget) beforehand.
            for _ in 0..<100 { app.apply(.key(.down)); app.awaitSlice(seconds: 10) }
            app.apply(.key(.home)); app.awaitSlice(seconds: 10)
        }
        var times: [Double] = []
        // Warm: 150 single steps. Cold: 29 jumps of 10 slices, past the prefetched neighbours.
        let steps = warm ? 150 : 29
        for step in 0..<steps {
            let start = DispatchTime.now()
            app.apply(.key(warm ? (step < 100 ? .down : .up) : .shiftDown))
            app.awaitSlice(seconds: 10)
            _ = app.frame()
            times.append(Benchmark.milliseconds(since: start))
        }
        return times
    }

    /// Bytes ncurses sends to a real (pseudo) terminal per scroll step, warm cache.
    /// `frameTimes`, when given, gets the milliseconds from the key to the frame handed to the
    /// terminal (drawn, encoded and written; the pseudo-terminal is drained by another thread).
    func bytesPerStep(_ path: String, terminalName: String, width: Int, height: Int, graphics: GraphicsDetection? = nil,
                      symbols: ImageCellMode = .halfBlock, frameTimes: UnsafeMutablePointer<[Double]>? = nil) throws -> [Double] {
        var master: Int32 = 0, slave: Int32 = 0
        var size = winsize(ws_row: UInt16(height), ws_col: UInt16(width), ws_xpixel: 0, ws_ypixel: 0)
        guard openpty(&master, &slave, nil, nil, &size) == 0 else { throw CLIFailure("cannot open a pseudo-terminal") }
        // A reader drains the pseudo-terminal as a terminal emulator would, so ncurses never blocks.
        let counter = ByteCounter()
        let reader = Thread { [master] in
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = read(master, &buffer, buffer.count)
                if count <= 0 { break }
                counter.add(count)
            }
        }
        reader.start()
        let terminal = try NcursesTerminal(terminalName: terminalName, input: slave, output: slave, noColour: false, graphics: graphics)
        terminal.resize(width: width, height: height)
        defer {
            terminal.stop()
            close(slave)
            close(master)
        }
        /// Bytes that arrived since the last call, once the output has settled.
        func drain() -> Int {
            var last = -1
            while true {
                Thread.sleep(forTimeInterval: 0.02)
                let now = counter.total
                if now == last { return counter.take() }
                last = now
            }
        }
        let app = try openApp(path, width: width, height: height, backend: terminal, symbols: symbols)
        for _ in 0..<40 { app.apply(.key(.down)); app.awaitSlice(seconds: 10) }
        app.apply(.key(.home)); app.awaitSlice(seconds: 10)
        terminal.present(app.frame())
        _ = drain()
        var bytes: [Double] = []
        for _ in 0..<30 {
            let start = DispatchTime.now()
            app.apply(.key(.down))
            app.awaitSlice(seconds: 10)
            terminal.present(app.frame())
            frameTimes?.pointee.append(Benchmark.milliseconds(since: start))
            bytes.append(Double(drain()))
        }
        return bytes
    }

    /// Resident memory while scrolling through every image of a 1,000-image study.
    func memory(_ path: String) throws -> String {
        let before = Self.residentMegabytes()
        let app = try openApp(path, width: 160, height: 48)
        var marks: [String] = ["before opening: \(before) MB", "open: \(Self.residentMegabytes()) MB"]
        for step in 1...999 {
            app.apply(.key(.down))
            app.awaitSlice(seconds: 10)
            _ = app.frame()
            if [100, 250, 500, 999].contains(step) { marks.append("\(step): \(Self.residentMegabytes()) MB") }
        }
        return "resident memory while scrolling a 1,000-image study (after N slices): " + marks.joined(separator: ", ")
            + "; peak \(Self.peakMegabytes()) MB"
    }

    static func residentMegabytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return -1 }
        return kilobytes / 1024
    }

    static func peakMegabytes() -> Int {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        return usage.ru_maxrss / 1024
    }
}

/// A byte count shared with the reader thread.
final class ByteCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func add(_ value: Int) { lock.lock(); count += value; lock.unlock() }

    var total: Int { lock.lock(); defer { lock.unlock() }; return count }

    /// The count so far, reset to zero.
    func take() -> Int { lock.lock(); defer { lock.unlock() }; let value = count; count = 0; return value }
}
