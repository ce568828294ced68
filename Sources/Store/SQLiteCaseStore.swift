public import LightboxCore
import Foundation
import GRDB

/// The case base in SQLite: one row per study and model, its embedding as Float32 bytes.
public final class SQLiteCaseStore: CaseStore, Sendable {
    private let database: DatabaseQueue

    public init(path: String) throws {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("cases-v1") { db in
            try db.create(table: "cases") { table in
                table.column("studyInstanceUID", .text).notNull()
                table.column("model", .text).notNull()
                table.column("embedding", .blob).notNull()
                table.column("label", .text).notNull()
                table.column("decision", .text)
                table.column("date", .text).notNull()
                table.column("source", .text).notNull()
                table.column("summary", .text).notNull()
                table.primaryKey(["studyInstanceUID", "model"])
            }
        }
        database = try SQLiteFile.open(path, migrator: migrator)
    }

    public func upsert(_ record: CaseRecord) throws {
        try database.write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO cases (studyInstanceUID, model, embedding, label, decision, date, source, summary)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [record.studyInstanceUID, record.model, FloatBytes.data(record.embedding), record.label.rawValue, record.decision,
                                 record.date, record.source.rawValue, record.summary])
        }
    }

    public func records(model: String) throws -> [CaseRecord] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM cases WHERE model = ? ORDER BY studyInstanceUID", arguments: [model]).map { row in
                CaseRecord(studyInstanceUID: row["studyInstanceUID"], model: row["model"], embedding: FloatBytes.floats(row["embedding"]),
                           label: CaseLabel(rawValue: row["label"] ?? "") ?? .unknown, decision: row["decision"], date: row["date"],
                           source: CaseOrigin(rawValue: row["source"] ?? "") ?? .reviewed, summary: row["summary"])
            }
        }
    }
}
