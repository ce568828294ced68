public import LightboxCore
import Foundation
import Testing

/// The store ports' behaviour, one suite for every adapter: the workstation's SQLite stores run
/// it in StoreTests, the department's PostgreSQL stores in DepartmentTests (against a real server).
public enum StoreConformance {
    static func decision(_ id: String, reader: String, study: String, action: DecisionAction = .accept) -> Decision {
        Decision(id: id, studyInstanceUID: study, patientID: "P-\(study)", studyDate: "20260101", action: action, reader: reader, secondsSpent: 5,
                 model: "m", modelVersion: "1", outputHash: String(repeating: "b", count: 64), probability: 0.8, tier: .medium,
                 decidedAt: Timestamp(text: "2026-12-01T10:00:00.000Z"))
    }

    /// A ledger that is empty: receipts, retries, refusals, events, order and the chain.
    public static func ledger(_ store: any DecisionStore, reader: String) throws {
        #expect(try store.head() == nil && store.decisions().isEmpty)
        let first = try store.record(decision("c1", reader: reader, study: "2.25.11"))
        #expect(first.sequence == 1 && first.inserted && first.hash.count == 64)
        // A retry returns the first receipt and writes nothing; another content under the id is refused.
        #expect(try store.record(decision("c1", reader: reader, study: "2.25.11")) == LedgerReceipt(sequence: 1, hash: first.hash, inserted: false))
        #expect { try store.record(decision("c1", reader: reader, study: "2.25.11", action: .deferred)) } throws: {
            "\($0)".contains("already recorded with another content")
        }
        let event = try store.recordEvent("export", subject: "feedback.csv", details: "{\"rows\":1}")
        #expect(event.sequence == 2 && event.inserted)
        let second = try store.record(decision("c2", reader: reader, study: "2.25.12", action: .override))
        #expect(second.sequence == 3)
        #expect(try store.decisions().map(\.id) == ["c1", "c2"])
        #expect(try store.decisions().last?.action == .override)
        #expect(try store.events("export") == [AuditEvent(sequence: 2, event: "export", subject: "feedback.csv", payload: "{\"rows\":1}")])
        #expect(try store.events("monitor-acknowledge").isEmpty)
        #expect(try store.head() == LedgerReceipt(sequence: 3, hash: second.hash, inserted: false))
        #expect(try store.auditHash(at: 1) == first.hash && store.auditHash(at: 9) == nil)
        let verification = try store.verify(expectedHead: second.hash)
        #expect(verification.isIntact && verification.rows == 3 && verification.head == second.hash, "\(verification.problems)")
        // An export's head that is not in the chain: a truncated or replaced ledger.
        #expect(!(try store.verify(expectedHead: String(repeating: "e", count: 64)).isIntact))
    }

    /// A case base that is empty: round trips, replacement, kept per model.
    public static func caseStore(_ store: any CaseStore) throws {
        func record(_ uid: String, _ model: String, _ vector: [Float], _ label: CaseLabel, _ origin: CaseOrigin, decision: String? = nil) -> CaseRecord {
            CaseRecord(studyInstanceUID: uid, model: model, embedding: vector, label: label, decision: decision, date: "20260101",
                       source: origin, summary: "CT \(uid)")
        }
        try store.upsert(record("2.25.1", "m@1", [1, 0, 0], .abnormal, .reference))
        try store.upsert(record("2.25.2", "m@1", [0, 1, 0], .unknown, .reviewed))
        try store.upsert(record("2.25.3", "m@2", [1, 0, 0], .normal, .reference))
        // A decided study decided again replaces its case.
        try store.upsert(record("2.25.2", "m@1", [0.8, 0.2, 0], .normal, .reviewed, decision: "override (false positive) on the whole study"))
        let cases = try store.records(model: "m@1")
        #expect(cases.map(\.studyInstanceUID) == ["2.25.1", "2.25.2"])
        #expect(cases[1].label == .normal && cases[1].source == .reviewed && cases[1].decision?.contains("false positive") == true)
        #expect(cases[1].embedding == [0.8, 0.2, 0])
        #expect(cases[0].decision == nil && cases[0].summary == "CT 2.25.1" && cases[0].date == "20260101")
        #expect(try store.records(model: "m@2").map(\.label) == [.normal], "another model's embeddings are never compared")
        #expect(try store.records(model: "m@3").isEmpty)
        let nearest = SimilarCases.nearest(to: [1, 0, 0], among: cases, excluding: "2.25.9", k: 5)
        #expect(nearest.map(\.record.studyInstanceUID) == ["2.25.1", "2.25.2"])
        #expect(abs(nearest[1].similarity - Double(0.8 / (0.8 * 0.8 + 0.2 * 0.2).squareRoot())) < 1e-5)
    }

    /// A result cache that is empty: round trips with and without input statistics, keyed by
    /// image, frame and model version, a newer result replacing the older.
    public static func resultCache(_ cache: any ResultCache) throws {
        let result = SliceInference(probability: 0.25, heatmap: Heatmap(width: 2, height: 1, values: [0.5, 1]), embedding: [1, 2, 3])
        try cache.store(result, sopInstanceUID: "2.25.1", frame: 3, model: "m@1")
        #expect(try cache.result(sopInstanceUID: "2.25.1", frame: 3, model: "m@1") == result)
        #expect(try cache.result(sopInstanceUID: "2.25.1", frame: 3, model: "m@2") == nil)
        #expect(try cache.result(sopInstanceUID: "2.25.1", frame: 0, model: "m@1") == nil)
        let measured = SliceInference(probability: 0.75, heatmap: Heatmap(width: 1, height: 3, values: [0, 0.25, 0.125]), embedding: [-1, 0.5],
                                      input: InputStatistics(mean: 0.4, standardDeviation: 0.2, p1: 0.01, p99: 0.98, saturated: 0.003))
        try cache.store(measured, sopInstanceUID: "2.25.1", frame: 3, model: "m@1")
        #expect(try cache.result(sopInstanceUID: "2.25.1", frame: 3, model: "m@1") == measured)
    }

    /// A monitoring store that is empty: the first record of a study per model version stays,
    /// records come oldest first, counts per model, references set and replaced.
    public static func monitoringStore(_ store: any MonitoringStore) throws {
        func record(_ key: String, _ model: String, at seconds: Double, score: Double, station: String? = nil) -> MonitoringRecord {
            MonitoringRecord(studyKey: key, model: model, site: "north", analysedAt: Date(timeIntervalSince1970: seconds),
                             fingerprint: ScannerFingerprint(manufacturer: "ACME", model: "Scan 1", software: nil, station: station, kernel: "B30f",
                                                             bodyPart: "CHEST", kvp: 120, sliceThickness: 1.5, pixelSpacing: 0.7, exposure: nil),
                             input: key == "k2" ? nil : InputStatistics(mean: 0.3, standardDeviation: 0.1, p1: 0, p99: 0.9, saturated: 0),
                             rawScore: score, probability: score, tier: .medium, outOfDomain: key == "k3", domainDistance: key == "k1" ? 2.5 : nil,
                             images: 28)
        }
        let first = record("k1", "m@1", at: 1_800_000_000, score: 0.6, station: "station-abc")
        try store.record(first)
        try store.record(record("k1", "m@1", at: 1_800_000_500, score: 0.9))
        try store.record([record("k2", "m@1", at: 1_799_999_000, score: 0.2), record("k3", "m@2", at: 1_800_000_100, score: 0.4)])
        let all = try store.monitoringRecords()
        #expect(all.map(\.studyKey) == ["k2", "k1", "k3"], "oldest analysis first")
        #expect(all[1] == first, "a study's first record stays, whole")
        #expect(all[0].input == nil && all[2].outOfDomain && all[0].fingerprint.exposure == nil)
        #expect(try store.monitoringRecords(model: "m@2").map(\.studyKey) == ["k3"])
        #expect(try store.monitoringCounts().map { "\($0.model)=\($0.studies)" } == ["m@1=2", "m@2=1"])
        #expect(try store.references().isEmpty)
        let reference = MonitorReference(model: "m@1", from: Date(timeIntervalSince1970: 1_799_999_000), to: Date(timeIntervalSince1970: 1_800_000_000),
                                         basis: "first 2 studies")
        try store.setReference(reference)
        var moved = reference
        moved.basis = "2027-01-15…2027-01-16 (2 studies)"
        try store.setReference(moved)
        #expect(try store.references() == [moved])
    }
}
