public import LightboxCore
import Foundation
import GRDB

/// Per-image model results in SQLite (WAL), keyed by SOP Instance UID, frame and model@version.
public final class SQLiteResultCache: ResultCache, Sendable {
    private let database: DatabaseQueue

    /// Opens (creating when absent) the cache at `path`.
    public init(path: String) throws {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("results-v1") { db in
            try db.create(table: "sliceResults") { table in
                table.column("sopInstanceUID", .text).notNull()
                table.column("frame", .integer).notNull()
                table.column("model", .text).notNull()
                table.column("probability", .double).notNull()
                table.column("heatmapWidth", .integer).notNull()
                table.column("heatmapHeight", .integer).notNull()
                table.column("heatmap", .blob).notNull()
                table.column("embedding", .blob).notNull()
                table.primaryKey(["sopInstanceUID", "frame", "model"])
            }
        }
        database = try SQLiteFile.open(path, migrator: migrator)
    }

    public func result(sopInstanceUID: String, frame: Int, model: String) throws -> SliceInference? {
        try database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM sliceResults WHERE sopInstanceUID = ? AND frame = ? AND model = ?",
                                             arguments: [sopInstanceUID, frame, model]) else { return nil }
            let width: Int = row["heatmapWidth"], height: Int = row["heatmapHeight"]
            let heat = Self.floats(row["heatmap"]), embedding = Self.floats(row["embedding"])
            guard heat.count == width * height else { return nil }
            return SliceInference(probability: Float(row["probability"] as Double), heatmap: Heatmap(width: width, height: height, values: heat),
                                  embedding: embedding)
        }
    }

    public func store(_ result: SliceInference, sopInstanceUID: String, frame: Int, model: String) throws {
        try database.write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO sliceResults (sopInstanceUID, frame, model, probability, heatmapWidth, heatmapHeight, heatmap, embedding)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [sopInstanceUID, frame, model, Double(result.probability), result.heatmap.width, result.heatmap.height,
                                 Self.data(result.heatmap.values), Self.data(result.embedding)])
        }
    }

    static func data(_ values: [Float]) -> Data { values.withUnsafeBytes { Data($0) } }

    static func floats(_ data: Data) -> [Float] {
        data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }
}
