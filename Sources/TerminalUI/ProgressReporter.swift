import Foundation

/// Progress of long work on stderr: a redrawn bar on a terminal, a plain line every tenth otherwise.
public final class ProgressReporter: @unchecked Sendable {
    private let label: String
    private let interactive: Bool
    private let lock = NSLock()
    private var lastShown = -1

    /// A reporter for work called `label`; draws a bar when stderr is a terminal.
    public init(label: String, interactive: Bool? = nil) {
        self.label = label
        self.interactive = interactive ?? (isatty(STDERR_FILENO) == 1)
    }

    /// Reports `done` of `total`.
    public func update(_ done: Int, of total: Int) {
        guard total > 0 else { return }
        lock.lock()
        defer { lock.unlock() }
        if interactive {
            let percent = done * 100 / total
            guard percent != lastShown || done == total else { return }
            lastShown = percent
            let width = 30, filled = done * width / total
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            FileHandle.standardError.write(Data("\r\(label) \(bar) \(done)/\(total)".utf8))
            if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
        } else {
            let tenth = done * 10 / total
            guard tenth != lastShown else { return }
            lastShown = tenth
            FileHandle.standardError.write(Data("\(label): \(done)/\(total)\n".utf8))
        }
    }
}

/// The terminal's size in cells, from the tty when there is one, else COLUMNS/LINES, else 80×24.
public enum TerminalSize {
    /// Columns and rows of the terminal on stdout.
    public static func current() -> (columns: Int, rows: Int) {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0 {
            return (Int(size.ws_col), Int(size.ws_row))
        }
        let environment = ProcessInfo.processInfo.environment
        return (Int(environment["COLUMNS"] ?? "") ?? 80, Int(environment["LINES"] ?? "") ?? 24)
    }
}
