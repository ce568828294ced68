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
                table.column("status", .text).notNull()  // image | skipped | object | failed
                table.column("reason", .text)
                table.column("message", .text)
                table.column("studyInstanceUID", .text)
                table.column("seriesInstanceUID", .text)
                table.column("header", .blob)            // JSON of ImageHeader
            }
            try db.create(index: "files_study", on: "files", columns: ["studyInstanceUID"])
        }
        // The worklist's columns beside the header, so summaries come from SQL without decoding
        // a header. Rows indexed before have none: they are dropped and read again once.
        migrator.registerMigration("files-v2-worklist-columns") { db in
            for column in worklistColumns {
                try db.alter(table: "files") { table in table.add(column: column, column == "seriesNumber" || column == "frames" ? .integer : .text) }
            }
            try db.execute(sql: "DELETE FROM files")
        }
        // Headers now carry scanner and protocol facts for monitoring: files indexed before are read again once.
        migrator.registerMigration("files-v3-acquisition") { db in
            try db.execute(sql: "DELETE FROM files")
        }
        // Segmentations and maps were indexed as images, reports only skipped: read again once
        // to be kept as their studies' objects (other systems' AI results).
        migrator.registerMigration("files-v4-objects") { db in
            try db.execute(sql: """
                DELETE FROM files WHERE status = 'skipped'
                   OR CAST(header AS TEXT) LIKE '%"sopClassUID":"1.2.840.10008.5.1.4.1.1.66.4"%'
                   OR CAST(header AS TEXT) LIKE '%"sopClassUID":"1.2.840.10008.5.1.4.1.1.30"%'
                """)
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

    /// The header fields the worklist shows, filters and sorts on, one column each.
    static let worklistColumns = ["patientName", "patientID", "accessionNumber", "studyDate", "studyTime", "studyDescription",
                                  "bodyPartExamined", "modality", "seriesDescription", "seriesNumber", "frames"]

    static func worklistValues(_ header: ImageHeader?) -> [(any DatabaseValueConvertible)?] {
        guard let h = header else { return Array(repeating: nil, count: worklistColumns.count) }
        return [h.patientName, h.patientID, h.accessionNumber, h.studyDate, h.studyTime, h.studyDescription, h.bodyPartExamined,
                h.modality, h.seriesDescription, h.seriesNumber, max(1, h.numberOfFrames)]
    }

    public func save(_ files: [IndexedFile]) throws {
        guard !files.isEmpty else { return }
        let encoder = JSONEncoder()
        let columns = Self.worklistColumns.joined(separator: ", ")
        let placeholders = Array(repeating: "?", count: Self.worklistColumns.count).joined(separator: ", ")
        try database.write { db in
            let statement = try db.makeStatement(sql: """
                INSERT OR REPLACE INTO files (path, size, modified, status, reason, message, studyInstanceUID, seriesInstanceUID, header, \(columns))
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, \(placeholders))
                """)
            for file in files {
                var status = "image", reason: String?, message: String?, study: String?, series: String?, header: Data?
                var image: ImageHeader?
                switch file.outcome {
                case .image(let value):
                    study = value.studyInstanceUID
                    series = value.seriesInstanceUID
                    header = try encoder.encode(value)
                    image = value
                case .skipped(let why):
                    status = "skipped"
                    reason = why
                case .object(let uid, let why):
                    status = "object"
                    reason = why
                    study = uid
                case .failed(let why, let text):
                    status = "failed"
                    reason = why
                    message = text
                }
                let values: [(any DatabaseValueConvertible)?] = [file.path, file.stamp.size, file.stamp.modified, status, reason, message,
                                                                  study, series, header]
                try statement.execute(arguments: StatementArguments(values + Self.worklistValues(image)))
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
                case "object": outcome = .object(studyInstanceUID: row["studyInstanceUID"] ?? "", reason: row["reason"] ?? "")
                default: outcome = .failed(reason: row["reason"] ?? "", message: row["message"] ?? "")
                }
                result.append(IndexedFile(path: row["path"], stamp: stamp, outcome: outcome))
            }
            return result
        }
    }

    public func summaries(under root: String) throws -> [StudySummary] {
        try database.read { db in
            let scope = "(path = ? OR path LIKE ? ESCAPE '\\') AND status = 'image'"
            let arguments: StatementArguments = [root, Self.likePrefix(root)]
            // Series descriptions, for the filter (a comma can be inside one, so not group_concat).
            var descriptions: [String: [String]] = [:]
            let described = try Row.fetchCursor(db, sql: """
                SELECT DISTINCT studyInstanceUID, seriesDescription FROM files WHERE \(scope) AND seriesDescription <> ''
                """, arguments: arguments)
            while let row = try described.next() {
                descriptions[row[0], default: []].append(row[1])
            }
            // One MIN() only: SQLite then takes the bare columns from that row, the first image of
            // the first series, which speaks for the study.
            let rows = try Row.fetchCursor(db, sql: """
                SELECT studyInstanceUID,
                       MIN(printf('%012d|%s', COALESCE(seriesNumber, 2147483647) + 2147483648, path)),
                       patientName, patientID, accessionNumber, studyDate, studyTime, studyDescription, bodyPartExamined,
                       COUNT(DISTINCT seriesInstanceUID), SUM(MAX(COALESCE(frames, 1), 1)), group_concat(DISTINCT modality)
                FROM files WHERE \(scope)
                GROUP BY studyInstanceUID
                ORDER BY studyDate, studyInstanceUID
                """, arguments: arguments)
            var result: [StudySummary] = []
            while let row = try rows.next() {
                let uid: String = row[0]
                let modalities = ((row[11] as String?) ?? "").split(separator: ",").map(String.init).filter { !$0.isEmpty }.sorted()
                result.append(StudySummary(
                    studyInstanceUID: uid, patientName: row[2] ?? "", patientID: row[3] ?? "", accessionNumber: row[4] ?? "",
                    studyDate: row[5] ?? "", studyTime: row[6] ?? "", studyDescription: row[7] ?? "", bodyPartExamined: row[8] ?? "",
                    modalities: modalities, seriesDescriptions: descriptions[uid] ?? [], seriesCount: row[9], imageCount: row[10]))
            }
            return result
        }
    }

    public func problems(under root: String) throws -> (problems: [FileProblem], skipped: Int) {
        try database.read { db in
            let scope = "(path = ? OR path LIKE ? ESCAPE '\\')"
            let arguments: StatementArguments = [root, Self.likePrefix(root)]
            let skipped = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM files WHERE \(scope) AND status IN ('skipped', 'object')", arguments: arguments) ?? 0
            let problems = try Row.fetchAll(db, sql: "SELECT path, reason, message FROM files WHERE \(scope) AND status = 'failed' ORDER BY path",
                                            arguments: arguments).map {
                FileProblem(path: $0["path"], reason: $0["reason"] ?? "", message: $0["message"] ?? "")
            }
            return (problems, skipped)
        }
    }

    public func objects(under root: String) throws -> [String: [String]] {
        try database.read { db in
            var found: [String: [String]] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT studyInstanceUID, path FROM files WHERE status = 'object' AND (path = ? OR path LIKE ? ESCAPE '\\') ORDER BY path
                """, arguments: [root, Self.likePrefix(root)])
            while let row = try rows.next() {
                guard let study: String = row["studyInstanceUID"] else { continue }
                found[study, default: []].append(row["path"])
            }
            return found
        }
    }

    public func study(_ studyInstanceUID: String, under root: String) throws -> Study? {
        let decoder = JSONDecoder()
        let instances: [InstanceEntry] = try database.read { db in
            let rows = try Row.fetchCursor(db, sql: """
                SELECT path, header FROM files
                WHERE studyInstanceUID = ? AND status = 'image' AND (path = ? OR path LIKE ? ESCAPE '\\')
                """, arguments: [studyInstanceUID, root, Self.likePrefix(root)])
            var found: [InstanceEntry] = []
            while let row = try rows.next() {
                guard let data: Data = row["header"], let header = try? decoder.decode(ImageHeader.self, from: data) else { continue }
                found.append(InstanceEntry(path: row["path"], header: header))
            }
            return found
        }
        return Study.assemble(instances).first
    }

    /// `root/%` with LIKE's wildcards in `root` escaped.
    static func likePrefix(_ root: String) -> String {
        let escaped = root.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
        return (escaped.hasSuffix("/") ? escaped : escaped + "/") + "%"
    }
}
