import Foundation
import TestSupport

/// The built binary in a real terminal: a private tmux server running one pane, driven with
/// send-keys and read with capture-pane, as a user at a terminal would see it.
final class TmuxSession {
    let socket = "lightbox-test-\(UUID().uuidString.prefix(8))"
    let folder = TemporaryFolder("tmux")
    var before: String { folder.file("stty-before") }
    var after: String { folder.file("stty-after") }
    var exitFile: String { folder.file("exit") }
    var during: String { folder.file("stty-during") }

    /// Starts `lightbox ARGUMENTS` in a width × height pane with `environment` (TERM and friends).
    /// `jobControl`: the pane's shell runs with job control (`set -m`), as an interactive shell
    /// would, so the program can be suspended; while it is stopped the shell records the terminal
    /// settings in `during`, then resumes it with `fg`.
    init(width: Int = 120, height: Int = 40, arguments: [String], environment: [String: String], jobControl: Bool = false) throws {
        let home = folder.file("home")
        var variables = ["LIGHTBOX_HOME": home, "COLORTERM": "", "NO_COLOR": ""]
        variables.merge(environment) { $1 }
        let assignments = variables.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.quote($0.value))" }.joined(separator: " ")
        let wrapper = jobControl ? ["env", "--default-signal=TSTP,TTIN,TTOU"] : []
        let command = wrapper + [CommandLineTests.binary] + arguments
        let resume = jobControl ? "s=$?; while [ $s = 148 ]; do stty -g > \(Self.quote(during)); fg; s=$?; done; echo $s" : "echo $?"
        let monitor = jobControl ? "set -m; " : ""
        let script = """
            \(monitor)stty -g > \(Self.quote(before)); env \(assignments) \(command.map(Self.quote).joined(separator: " ")); \
            \(resume) > \(Self.quote(exitFile)); stty -g > \(Self.quote(after)); sleep 60
            """
        try tmux(["-f", "/dev/null", "new-session", "-d", "-x", String(width), "-y", String(height), "-s", "main", "sh", "-c", script],
                 capture: false)
    }

    deinit { _ = try? tmux(["kill-server"], capture: false) }

    static func quote(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// Runs a tmux command against this session's server and returns what it printed.
    /// posix_spawn and waitpid directly: Foundation's Process can miss the exit of the tmux client
    /// that forks the server, and hang.
    @discardableResult
    func tmux(_ arguments: [String], capture: Bool = true) throws -> String {
        try Self.spawn(["tmux", "-L", socket] + arguments, capture: capture)
    }

    /// Runs a program found on PATH; returns its standard output.
    static func spawn(_ arguments: [String], capture: Bool = true) throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("lightbox-spawn-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, capture ? output : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let status = posix_spawnp(&pid, arguments[0], &actions, nil, &argv, environ)
        guard status == 0 else { throw CocoaError(.executableLoad, userInfo: [NSFilePathErrorKey: arguments[0]]) }
        var exitStatus: Int32 = 0
        while waitpid(pid, &exitStatus, 0) == -1 && errno == EINTR {}
        return capture ? ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "") : ""
    }

    /// Sends keys (tmux key names: "Enter", "j", "Down", "S-Down", "C-Right").
    func keys(_ keys: String...) throws {
        for key in keys { try tmux(["send-keys", "-t", "main", key]) }
    }

    /// The pane's text, with colour escapes when `escapes`.
    func capture(escapes: Bool = false) throws -> String {
        try tmux(["capture-pane", "-p", "-t", "main"] + (escapes ? ["-e"] : []))
    }

    /// Waits until the pane shows `text` (true) or the time runs out (false).
    func waitFor(_ text: String, seconds: Double = 15) -> Bool {
        waitUntil(seconds: seconds) { $0.contains(text) }
    }

    /// Waits until the pane (with colour escapes when `escapes`) satisfies `condition`: a poll of
    /// the state the test needs, never a fixed sleep that hopes the frame has come.
    func waitUntil(seconds: Double = 15, escapes: Bool = false, _ condition: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let screen = try? capture(escapes: escapes), condition(screen) { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    /// Waits for the program to end and returns its exit status.
    func waitForExit(seconds: Double = 15) -> Int? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: exitFile, encoding: .utf8), let code = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)),
               FileManager.default.fileExists(atPath: after) {
                Thread.sleep(forTimeInterval: 0.1)
                return code
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return nil
    }

    /// stty settings before and after the program, both recorded by the pane's shell.
    func terminalSettings() -> (before: String, after: String) {
        ((try? String(contentsOfFile: before, encoding: .utf8)) ?? "missing", (try? String(contentsOfFile: after, encoding: .utf8)) ?? "missing")
    }

    /// The settings of the pane's terminal right now, read from outside.
    func currentSettings() throws -> String {
        let tty = try tmux(["display-message", "-p", "-t", "main", "#{pane_tty}"]).trimmingCharacters(in: .whitespacesAndNewlines)
        return try Self.spawn(["stty", "-F", tty, "-g"])
    }

    /// The lightbox process (the pane shell's child).
    func programPID() throws -> Int32? {
        let shell = try tmux(["display-message", "-p", "-t", "main", "#{pane_pid}"]).trimmingCharacters(in: .whitespacesAndNewlines)
        return try Self.spawn(["pgrep", "-P", shell, "-f", "lightbox"]).split(separator: "\n").first.flatMap { Int32($0) }
    }

    func resize(width: Int, height: Int) throws {
        try tmux(["resize-window", "-t", "main", "-x", String(width), "-y", String(height)])
    }

    func paneTitle() throws -> String {
        try tmux(["display-message", "-p", "-t", "main", "#{pane_title}"]).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
