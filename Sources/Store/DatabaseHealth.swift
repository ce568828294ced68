import Foundation
import GRDB

/// A data file's health for `lightbox doctor`: SQLite's own integrity check, read-only, so a
/// check never creates or migrates anything.
public enum DatabaseHealth {
    /// SQLite's version ("3.40.1").
    public static var libraryVersion: String {
        (try? DatabaseQueue().read { db in try String.fetchOne(db, sql: "SELECT sqlite_version()") }) ?? "unknown"
    }

    /// "ok", or what `PRAGMA integrity_check` found (or why the file would not open); nil when the
    /// file does not exist yet.
    public static func integrity(of path: String) -> (ok: Bool, detail: String)? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            var configuration = Configuration()
            configuration.readonly = true
            configuration.busyMode = .timeout(2)
            let database = try DatabaseQueue(path: path, configuration: configuration)
            let lines = try database.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
            let size = ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int64) ?? 0
            if lines == ["ok"] { return (true, "integrity ok, \(ByteCountFormatter.string(fromByteCount: size, countStyle: .file))") }
            return (false, lines.prefix(3).joined(separator: "; "))
        } catch {
            return (false, "\(error)")
        }
    }
}
