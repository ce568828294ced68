import Foundation
public import LightboxCore
import PostgresNIO
import Store

/// The department's shared analysis tables on its server: per-image model results (so a study
/// analysed at one workstation is not inferred again at another), the case base, and monitoring's
/// per-study records and reference periods. The same ports as the workstation's SQLite stores
/// (`ResultCache`, `CaseStore`, `MonitoringStore`), with their semantics: a result or case is
/// replaced by a newer one, a study's first monitoring record per model version stays. Every
/// row says which reader's workstation computed it (`computed_by`): readers can write these
/// tables, so a result is trusted as far as the department trusts its workstations.
public final class PostgresAnalysisStore: ResultCache, CaseStore, MonitoringStore, @unchecked Sendable {
    let session: PostgresSession
    public var location: PostgresLocation { session.location }

    /// Connects and checks the schema version (`department init` creates the tables).
    public init(_ location: PostgresLocation, password: String?) throws {
        session = try PostgresSession(location, password: password)
        try PostgresDecisionLedger.checkVersion(session)
    }

    // MARK: ResultCache

    public func result(sopInstanceUID: String, frame: Int, model: String) throws -> SliceInference? {
        guard let row = try session.rows("""
            SELECT probability, heatmap_width, heatmap_height, heatmap, embedding, input_mean, input_sd, input_p1, input_p99, input_saturated
            FROM lightbox.slice_results WHERE sop_instance_uid = \(sopInstanceUID) AND frame = \(frame) AND model = \(model)
            """).first else { return nil }
        let (probability, width, height, heat, embedding, mean, sd, p1, p99, saturated) =
            try row.decode((Double, Int, Int, Data, Data, Double?, Double?, Double?, Double?, Double?).self)
        let values = FloatBytes.floats(heat)
        guard values.count == width * height else { return nil }
        var input: InputStatistics?
        if let mean, let sd, let p1, let p99, let saturated {
            input = InputStatistics(mean: mean, standardDeviation: sd, p1: p1, p99: p99, saturated: saturated)
        }
        return SliceInference(probability: Float(probability), heatmap: Heatmap(width: width, height: height, values: values),
                              embedding: FloatBytes.floats(embedding), input: input)
    }

    public func store(_ result: SliceInference, sopInstanceUID: String, frame: Int, model: String) throws {
        let input = result.input
        try session.rows("""
            INSERT INTO lightbox.slice_results (sop_instance_uid, frame, model, probability, heatmap_width, heatmap_height, heatmap, embedding,
                                                input_mean, input_sd, input_p1, input_p99, input_saturated)
            VALUES (\(sopInstanceUID), \(frame), \(model), \(Double(result.probability)), \(result.heatmap.width), \(result.heatmap.height),
                    \(FloatBytes.data(result.heatmap.values)), \(FloatBytes.data(result.embedding)), \(input?.mean), \(input?.standardDeviation),
                    \(input?.p1), \(input?.p99), \(input?.saturated))
            ON CONFLICT (sop_instance_uid, frame, model) DO UPDATE SET probability = excluded.probability, heatmap_width = excluded.heatmap_width,
                heatmap_height = excluded.heatmap_height, heatmap = excluded.heatmap, embedding = excluded.embedding, input_mean = excluded.input_mean,
                input_sd = excluded.input_sd, input_p1 = excluded.input_p1, input_p99 = excluded.input_p99, input_saturated = excluded.input_saturated,
                computed_by = session_user
            """)
    }

    // MARK: CaseStore

    public func upsert(_ record: CaseRecord) throws {
        try session.rows("""
            INSERT INTO lightbox.cases (study_uid, model, embedding, label, decision, date, source, summary)
            VALUES (\(record.studyInstanceUID), \(record.model), \(FloatBytes.data(record.embedding)), \(record.label.rawValue), \(record.decision),
                    \(record.date), \(record.source.rawValue), \(record.summary))
            ON CONFLICT (study_uid, model) DO UPDATE SET embedding = excluded.embedding, label = excluded.label, decision = excluded.decision,
                date = excluded.date, source = excluded.source, summary = excluded.summary, computed_by = session_user
            """)
    }

    public func records(model: String) throws -> [CaseRecord] {
        try session.rows("""
            SELECT study_uid, model, embedding, label, decision, date, source, summary FROM lightbox.cases WHERE model = \(model) ORDER BY study_uid
            """).map {
            let (study, model, embedding, label, decision, date, source, summary) = try $0.decode((String, String, Data, String, String?, String, String, String).self)
            return CaseRecord(studyInstanceUID: study, model: model, embedding: FloatBytes.floats(embedding), label: CaseLabel(rawValue: label) ?? .unknown,
                              decision: decision, date: date, source: CaseOrigin(rawValue: source) ?? .reviewed, summary: summary)
        }
    }

    // MARK: MonitoringStore

    public func record(_ record: MonitoringRecord) throws {
        let f = record.fingerprint, input = record.input
        try session.rows("""
            INSERT INTO lightbox.monitoring_studies (study_key, model, site, analysed_at, manufacturer, scanner_model, software, station, kernel, body_part,
                kvp, slice_thickness, pixel_spacing, exposure, input_mean, input_sd, input_p1, input_p99, input_saturated,
                raw_score, probability, tier, out_of_domain, domain_distance, images)
            VALUES (\(record.studyKey), \(record.model), \(record.site), \(record.analysedAt.timeIntervalSince1970), \(f.manufacturer), \(f.model),
                    \(f.software), \(f.station), \(f.kernel), \(f.bodyPart), \(f.kvp), \(f.sliceThickness), \(f.pixelSpacing), \(f.exposure),
                    \(input?.mean), \(input?.standardDeviation), \(input?.p1), \(input?.p99), \(input?.saturated),
                    \(record.rawScore), \(record.probability), \(record.tier.rawValue), \(record.outOfDomain), \(record.domainDistance), \(record.images))
            ON CONFLICT (study_key, model) DO NOTHING
            """)
    }

    public func record(_ records: [MonitoringRecord]) throws {
        try session.execute("BEGIN")
        do {
            for record in records { try self.record(record) }
            try session.execute("COMMIT")
        } catch {
            try? session.execute("ROLLBACK")
            throw error
        }
    }

    public func monitoringRecords(model: String?) throws -> [MonitoringRecord] {
        try session.rows("""
            SELECT study_key, model, site, analysed_at, manufacturer, scanner_model, software, station, kernel, body_part,
                   kvp, slice_thickness, pixel_spacing, exposure, input_mean, input_sd, input_p1, input_p99, input_saturated,
                   raw_score, probability, tier, out_of_domain, domain_distance, images
            FROM lightbox.monitoring_studies WHERE \(model)::text IS NULL OR model = \(model) ORDER BY analysed_at, study_key
            """).map { row in
            let columns = row.makeRandomAccess()
            func text(_ i: Int) throws -> String? { try columns[i].decode(String?.self) }
            func number(_ i: Int) throws -> Double? { try columns[i].decode(Double?.self) }
            var input: InputStatistics?
            if let mean = try number(14), let sd = try number(15), let p1 = try number(16), let p99 = try number(17), let saturated = try number(18) {
                input = InputStatistics(mean: mean, standardDeviation: sd, p1: p1, p99: p99, saturated: saturated)
            }
            let fingerprint = ScannerFingerprint(manufacturer: try text(4), model: try text(5), software: try text(6), station: try text(7),
                                                 kernel: try text(8), bodyPart: try text(9), kvp: try number(10), sliceThickness: try number(11),
                                                 pixelSpacing: try number(12), exposure: try number(13))
            return MonitoringRecord(studyKey: try columns[0].decode(String.self), model: try columns[1].decode(String.self),
                                    site: try columns[2].decode(String.self), analysedAt: Date(timeIntervalSince1970: try columns[3].decode(Double.self)),
                                    fingerprint: fingerprint, input: input, rawScore: try columns[19].decode(Double.self),
                                    probability: try columns[20].decode(Double.self),
                                    tier: ConfidenceTier(rawValue: try columns[21].decode(String.self)) ?? .review,
                                    outOfDomain: try columns[22].decode(Bool.self), domainDistance: try number(23), images: try columns[24].decode(Int.self))
        }
    }

    public func monitoringCounts() throws -> [(model: String, studies: Int)] {
        try session.rows("SELECT model, count(*) FROM lightbox.monitoring_studies GROUP BY model ORDER BY model").map {
            let (model, count) = try $0.decode((String, Int).self)
            return (model, count)
        }
    }

    public func references() throws -> [MonitorReference] {
        try session.rows("SELECT model, from_time, to_time, basis FROM lightbox.monitoring_references ORDER BY model").map {
            let (model, from, to, basis) = try $0.decode((String, Double, Double, String).self)
            return MonitorReference(model: model, from: Date(timeIntervalSince1970: from), to: Date(timeIntervalSince1970: to), basis: basis)
        }
    }

    public func setReference(_ reference: MonitorReference) throws {
        try session.rows("""
            INSERT INTO lightbox.monitoring_references (model, from_time, to_time, basis)
            VALUES (\(reference.model), \(reference.from.timeIntervalSince1970), \(reference.to.timeIntervalSince1970), \(reference.basis))
            ON CONFLICT (model) DO UPDATE SET from_time = excluded.from_time, to_time = excluded.to_time, basis = excluded.basis
            """)
    }
}
