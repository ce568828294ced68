public import Foundation
#if canImport(Glibc)
public import Glibc
#endif

/// Starts programs for the tests with posix_spawn, never Foundation's Process, when they may
/// outlive the call (servers): nothing of this process goes with them (every descriptor above
/// stderr is closed in the child), so a server started here cannot hold other tests' pipes and
/// sockets open, and their reads and waits end.
public enum Spawn {
    /// Starts `command` (stdin from /dev/null; stdout and stderr to `log`, or /dev/null) and
    /// returns its process id.
    public static func start(_ command: [String], log: String? = nil) throws -> pid_t {
        var argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        for descriptor: Int32 in [1, 2] {
            posix_spawn_file_actions_addopen(&actions, descriptor, log ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        }
        // glibc 2.34's closefrom action, looked up at run time: Swift's Glibc module does not declare it.
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
            throw FixtureError("this C library has no posix_spawn_file_actions_addclosefrom_np")
        }
        _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
        // Signals as a fresh process has them: the test process blocks some (its threads wait on
        // them), and a server inheriting that mask would never hear SIGTERM.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD, SIGQUIT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        guard posix_spawn(&pid, command[0], &actions, &attributes, &argv, environ) == 0 else { throw FixtureError("cannot start \(command[0])") }
        return pid
    }

    /// Waits for the process to end; its wait status.
    @discardableResult
    public static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status
    }

    /// Whether the process has not ended (reaping it if it has).
    public static func isRunning(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
    }

    /// Runs `command` to its end; throws unless it exits 0.
    public static func run(_ command: [String]) throws {
        let status = wait(try start(command))
        guard status == 0 else { throw FixtureError("\(command.joined(separator: " ")) failed (status \(status))") }
    }
}
