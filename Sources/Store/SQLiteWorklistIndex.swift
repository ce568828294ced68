public import LightboxCore
import Foundation
import GRDB

/// The folder index in SQLite (WAL): one row per file with its stamp and outcome, so a rescan
/// reads only new or changed files and a large worklist opens from the index alone.
public final class SQLiteWorklistIndex: WorklistIndex, Sendable {
    private let database: DatabaseQueue

    /// Opens (creating when absent) the index at `path`.
    public init(path: String) throws {
        database = try SQLiteFile.open(path, migrator: Self.migrator)
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("files-v1") { db in
            try db.create(table: "files") { table in
                table.column("path", .text).primaryKey()
                table.column("size", .integer).notNull()
                table.column("modified", .double).notNull()
                table.column("status", .text).notNull()  // image | skipped | failed
                table.column("reason", .text)
                table.column("message", .text)
                table.column("studyInstanceUID", .text)
                table.column("seriesInstanceUID", .text)
                table.column("header", .blob)            // JSON of ImageHeader
            }
            try db.create(index: "files_study", on: "files", columns: ["studyInstanceUID"])
        }
        return migrator
    }

    public func stamps(under root: String) throws -> [String: FileStamp] {
        try database.read { db in
            var result: [String: FileStamp] = [:]
            let rows = try Row.fetchCursor(db, sql: "SELECT path, size, modified FROM files WHERE path = ? OR path LIKE ? ESCAPE '\\'",
                                           arguments: [root, Self.likePrefix(root)])
            while let row = try rows.next() {
                result[row["path"]] = FileStamp(size: row["size"], modified: row["modified"])
            }
            return result
        }
    }

    public func save(_ files: [IndexedFile]) throws {
        guard !files.isEmpty else { return }
        let encoder = JSONEncoder()
        try database.write { db in
            let statement = try db.makeStatement(sql: """
                INSERT OR REPLACE INTO files (path, size, modified, status, reason, message, studyInstanceUID, seriesInstanceUID, header)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for file in files {
                var status = "image", reason: String?, message: String?, study: String?, series: String?, header: Data?
                switch file.outcome {
                case .image(let value):
                    study = value.studyInstanceUID
                    series = value.seriesInstanceUID
                    header = try encoder.encode(value)
                case .skipped(let why):
                    status = "skipped"
                    reason = why
                case .failed(let why, let text):
                    status = "failed"
                    reason = why
                    message = text
                }
                try statement.execute(arguments: [file.path, file.stamp.size, file.stamp.modified, status, reason, message, study, series, header])
            }
        }
    }

    public func remove(paths: [String]) throws {
        try database.write { db in
            for path in paths { try db.execute(sql: "DELETE FROM files WHERE path = ?", arguments: [path]) }
        }
    }

    public func files(under root: String) throws -> [IndexedFile] {
        let decoder = JSONDecoder()
        return try database.read { db in
            var result: [IndexedFile] = []
            let rows = try Row.fetchCursor(db, sql: "SELECT * FROM files WHERE path = ? OR path LIKE ? ESCAPE '\\' ORDER BY path",
                                           arguments: [root, Self.likePrefix(root)])
            while let row = try rows.next() {
                let stamp = FileStamp(size: row["size"], modified: row["modified"])
                let outcome: FileOutcome
                switch row["status"] as String {
                case "image":
                    guard let data: Data = row["header"], let header = try? decoder.decode(ImageHeader.self, from: data) else {
                        outcome = .failed(reason: "index", message: "\(row["path"] as String): index entry unreadable, rescan")
                        break
                    }
                    outcome = .image(header)
                case "skipped": outcome = .skipped(reason: row["reason"] ?? "")
                default: outcome = .failed(reason: row["reason"] ?? "", message: row["message"] ?? "")
                }
                result.append(IndexedFile(path: row["path"], stamp: stamp, outcome: outcome))
            }
            return result
        }
    }

    /// `root/%` with LIKE's wildcards in `root` escaped.
    static func likePrefix(_ root: String) -> String {
        let escaped = root.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
        return (escaped.hasSuffix("/") ? escaped : escaped + "/") + "%"
    }
}
