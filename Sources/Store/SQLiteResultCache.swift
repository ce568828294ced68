public import LightboxCore
import Foundation
import GRDB

/// Per-image model results in SQLite (WAL), keyed by SOP Instance UID, frame and model@version,
/// with the input statistics of each image; and, for monitoring, one row per study and model
/// version (keyed by a hash of the study UID, nothing identifying) and each model's reference period.
public final class SQLiteResultCache: ResultCache, MonitoringStore, Sendable {
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
        migrator.registerMigration("results-v2-monitoring") { db in
            for column in Self.inputColumns {
                try db.alter(table: "sliceResults") { table in table.add(column: column, .double) }
            }
            try db.execute(sql: """
                CREATE TABLE monitoringStudies (
                    studyKey TEXT NOT NULL,
                    model TEXT NOT NULL,
                    site TEXT NOT NULL,
                    analysedAt DOUBLE NOT NULL,
                    manufacturer TEXT, scannerModel TEXT, software TEXT, station TEXT, kernel TEXT, bodyPart TEXT,
                    kvp DOUBLE, sliceThickness DOUBLE, pixelSpacing DOUBLE, exposure DOUBLE,
                    inputMean DOUBLE, inputSD DOUBLE, inputP1 DOUBLE, inputP99 DOUBLE, inputSaturated DOUBLE,
                    rawScore DOUBLE NOT NULL, probability DOUBLE NOT NULL, tier TEXT NOT NULL, outOfDomain INTEGER NOT NULL,
                    domainDistance DOUBLE, images INTEGER NOT NULL,
                    PRIMARY KEY (studyKey, model)
                );
                CREATE INDEX monitoringByModelTime ON monitoringStudies(model, analysedAt);
                CREATE TABLE monitoringReferences (
                    model TEXT PRIMARY KEY NOT NULL,
                    fromTime DOUBLE NOT NULL,
                    toTime DOUBLE NOT NULL,
                    basis TEXT NOT NULL
                );
                """)
        }
        database = try SQLiteFile.open(path, migrator: migrator)
    }

    static let inputColumns = ["inputMean", "inputSD", "inputP1", "inputP99", "inputSaturated"]

    public func result(sopInstanceUID: String, frame: Int, model: String) throws -> SliceInference? {
        try database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM sliceResults WHERE sopInstanceUID = ? AND frame = ? AND model = ?",
                                             arguments: [sopInstanceUID, frame, model]) else { return nil }
            let width: Int = row["heatmapWidth"], height: Int = row["heatmapHeight"]
            let heat = FloatBytes.floats(row["heatmap"]), embedding = FloatBytes.floats(row["embedding"])
            guard heat.count == width * height else { return nil }
            var input: InputStatistics?
            if let mean = row["inputMean"] as Double?, let sd = row["inputSD"] as Double?, let p1 = row["inputP1"] as Double?,
               let p99 = row["inputP99"] as Double?, let saturated = row["inputSaturated"] as Double? {
                input = InputStatistics(mean: mean, standardDeviation: sd, p1: p1, p99: p99, saturated: saturated)
            }
            return SliceInference(probability: Float(row["probability"] as Double), heatmap: Heatmap(width: width, height: height, values: heat),
                                  embedding: embedding, input: input)
        }
    }

    public func store(_ result: SliceInference, sopInstanceUID: String, frame: Int, model: String) throws {
        try database.write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO sliceResults (sopInstanceUID, frame, model, probability, heatmapWidth, heatmapHeight, heatmap, embedding,
                                                     inputMean, inputSD, inputP1, inputP99, inputSaturated)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [sopInstanceUID, frame, model, Double(result.probability), result.heatmap.width, result.heatmap.height,
                                 FloatBytes.data(result.heatmap.values), FloatBytes.data(result.embedding), result.input?.mean, result.input?.standardDeviation,
                                 result.input?.p1, result.input?.p99, result.input?.saturated])
        }
    }

    // MARK: Monitoring

    /// Keeps a study's monitoring record (the first analysis of a study by a model version stays).
    public func record(_ record: MonitoringRecord) throws {
        try database.write { db in try Self.insert(db, record) }
    }

    /// Many records in one transaction (imports and benchmarks).
    public func record(_ records: [MonitoringRecord]) throws {
        try database.write { db in for record in records { try Self.insert(db, record) } }
    }

    private static func insert(_ db: Database, _ r: MonitoringRecord) throws {
        let f = r.fingerprint
        try db.execute(sql: """
            INSERT OR IGNORE INTO monitoringStudies (studyKey, model, site, analysedAt, manufacturer, scannerModel, software, station, kernel, bodyPart,
                kvp, sliceThickness, pixelSpacing, exposure, inputMean, inputSD, inputP1, inputP99, inputSaturated,
                rawScore, probability, tier, outOfDomain, domainDistance, images)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: StatementArguments([r.studyKey, r.model, r.site, r.analysedAt.timeIntervalSince1970, f.manufacturer, f.model, f.software,
                                                f.station, f.kernel, f.bodyPart, f.kvp, f.sliceThickness, f.pixelSpacing, f.exposure,
                                                r.input?.mean, r.input?.standardDeviation, r.input?.p1, r.input?.p99, r.input?.saturated,
                                                r.rawScore, r.probability, r.tier.rawValue, r.outOfDomain, r.domainDistance, r.images] as [(any DatabaseValueConvertible)?]))
    }

    /// Every monitoring record (of one model, when given), oldest analysis first.
    public func monitoringRecords(model: String?) throws -> [MonitoringRecord] {
        try database.read { db in
            var records: [MonitoringRecord] = []
            let sql = "SELECT * FROM monitoringStudies" + (model == nil ? "" : " WHERE model = ?") + " ORDER BY analysedAt, studyKey"
            let cursor = try Row.fetchCursor(db, sql: sql, arguments: model.map { [$0] } ?? [])
            while let row = try cursor.next() {
                var input: InputStatistics?
                if let mean = row["inputMean"] as Double?, let sd = row["inputSD"] as Double?, let p1 = row["inputP1"] as Double?,
                   let p99 = row["inputP99"] as Double?, let saturated = row["inputSaturated"] as Double? {
                    input = InputStatistics(mean: mean, standardDeviation: sd, p1: p1, p99: p99, saturated: saturated)
                }
                let fingerprint = ScannerFingerprint(manufacturer: row["manufacturer"], model: row["scannerModel"], software: row["software"],
                                                     station: row["station"], kernel: row["kernel"], bodyPart: row["bodyPart"], kvp: row["kvp"],
                                                     sliceThickness: row["sliceThickness"], pixelSpacing: row["pixelSpacing"], exposure: row["exposure"])
                records.append(MonitoringRecord(studyKey: row["studyKey"], model: row["model"], site: row["site"],
                                                analysedAt: Date(timeIntervalSince1970: row["analysedAt"]), fingerprint: fingerprint, input: input,
                                                rawScore: row["rawScore"], probability: row["probability"],
                                                tier: ConfidenceTier(rawValue: row["tier"]) ?? .review, outOfDomain: row["outOfDomain"],
                                                domainDistance: row["domainDistance"], images: row["images"]))
            }
            return records
        }
    }

    /// Studies recorded per model version (for `doctor`), without reading the records.
    public func monitoringCounts() throws -> [(model: String, studies: Int)] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT model, COUNT(*) FROM monitoringStudies GROUP BY model ORDER BY model").map { ($0[0], $0[1]) }
        }
    }

    /// Each model version's frozen reference period.
    public func references() throws -> [MonitorReference] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT model, fromTime, toTime, basis FROM monitoringReferences ORDER BY model").map {
                MonitorReference(model: $0[0], from: Date(timeIntervalSince1970: $0[1]), to: Date(timeIntervalSince1970: $0[2]), basis: $0[3])
            }
        }
    }

    /// Sets (or replaces) a model version's reference period.
    public func setReference(_ reference: MonitorReference) throws {
        try database.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO monitoringReferences (model, fromTime, toTime, basis) VALUES (?, ?, ?, ?)",
                           arguments: [reference.model, reference.from.timeIntervalSince1970, reference.to.timeIntervalSince1970, reference.basis])
        }
    }

}
