import Foundation
import LightboxCore
import Store
import Testing
import TestSupport

/// Exports and statistics on hand-made decisions, each expectation worked out by hand.
struct FeedbackExportTests {
    static let key = PseudonymKey(bytes: Data(repeating: 7, count: 32))

    static func decision(_ id: String, action: DecisionAction, reason: OverrideReason? = nil, comment: String? = nil, tier: ConfidenceTier = .high,
                         probability: Double? = 0.9, reader: String = "dr-a", at: String = "2026-11-20T10:00:00.000Z", seconds: Double = 30,
                         patient: String = "CANARY123", date: String = "20260115") -> Decision {
        Decision(id: id, studyInstanceUID: "2.25.\(id.count)", seriesInstanceUID: "2.25.9", patientID: patient, studyDate: date, finding: nil,
                 action: action, reason: reason, comment: comment, reader: reader, secondsSpent: seconds, model: "m", modelVersion: "1",
                 outputHash: String(repeating: "a", count: 64), probability: probability, tier: tier, decidedAt: Timestamp(text: at))
    }

    @Test func csvQuotesCommasQuotesAndNewlinesAndWithholdsCommentsWhenDeidentified() throws {
        let decisions = [Self.decision("d1", action: .override, reason: .falsePositive, comment: "a, \"quoted\"\nline")]
        let identified = try FeedbackExport.render(decisions, head: nil, format: .csv, key: Self.key, includeIdentifiers: true)
        let rows = identified.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(rows[0].hasPrefix("# lightbox decisions export") && rows[0].contains("WITH IDENTIFIERS"))
        // The comment field is quoted, its quotes doubled, its newline kept inside the quotes.
        #expect(identified.contains(",\"a, \"\"quoted\"\"\nline\","), "\(identified)")
        #expect(identified.contains(",CANARY123,"))
        let plain = try FeedbackExport.render(decisions, head: nil, format: .csv, key: Self.key, includeIdentifiers: false)
        #expect(!plain.contains("CANARY") && !plain.contains("quoted") && plain.contains("de-identified"))
        let fields = try #require(plain.split(separator: "\n").last).split(separator: ",", omittingEmptySubsequences: false)
        #expect(fields.count == 22)
        #expect(fields[1] == Substring(Self.key.pseudonym("patient", "CANARY123")) && fields[1].count == 24)
        #expect(fields[8] == "", "comment withheld")
        #expect(fields[17] == "lightbox" && fields[18] == "", "an embedded model's decision names no AI object")
    }

    @Test func aDecisionOnAnExternalResultNamesItsObjectPseudonymisedUnlessIdentifiersAreAsked() throws {
        var decision = Self.decision("d1", action: .accept)
        decision.external = ExternalAssessment(objectUID: "2.25.777", objectKind: "SEG", objectHash: String(repeating: "b", count: 64),
                                               trackingID: "Nodule 1", trackingUID: "2.25.888")
        let plain = try FeedbackExport.render([decision], head: nil, format: .csv, key: Self.key, includeIdentifiers: false)
        let fields = try #require(plain.split(separator: "\n").last).split(separator: ",", omittingEmptySubsequences: false)
        #expect(fields[17] == "external" && fields[19] == "SEG" && fields[20] == Substring(String(repeating: "b", count: 64)))
        #expect(fields[18] == Substring(Self.key.pseudonym("object", "2.25.777")) && fields[21] == Substring(Self.key.pseudonym("tracking", "2.25.888")))
        #expect(!plain.contains("2.25.777") && !plain.contains("2.25.888"))
        let identified = try FeedbackExport.render([decision], head: nil, format: .airai, key: Self.key, includeIdentifiers: true)
        #expect(identified.contains("\"aiObject\" : \"2.25.777\"") && identified.contains("\"source\" : \"external\""), "\(identified)")
    }

    @Test func datesShiftByTheSameDaysForOnePatientAndPseudonymsAreStable() throws {
        let days = Self.key.dayShift(patientID: "CANARY123")
        #expect((1...365).contains(days))
        let a = try FeedbackExport.render([Self.decision("d1", action: .accept)], head: nil, format: .jsonl, key: Self.key, includeIdentifiers: false)
        let b = try FeedbackExport.render([Self.decision("d2", action: .deferred)], head: nil, format: .jsonl, key: Self.key, includeIdentifiers: false)
        func record(_ text: String) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(text.split(separator: "\n")[1].utf8)) as? [String: Any])
        }
        let (ra, rb) = (try record(a), try record(b))
        #expect(ra["patient"] as? String == rb["patient"] as? String, "one patient, one pseudonym in every export")
        // 2026-01-15 moved back `days` days, worked out with the calendar here.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let base = calendar.date(from: DateComponents(year: 2026, month: 1, day: 15))!
        let shifted = calendar.dateComponents([.year, .month, .day], from: calendar.date(byAdding: .day, value: -days, to: base)!)
        #expect(ra["studyDate"] as? String == String(format: "%04d%02d%02d", shifted.year!, shifted.month!, shifted.day!))
    }

    @Test func sinceKeepsDecisionsFromThatDayOn() {
        let decisions = [Self.decision("old", action: .accept, at: "2026-11-19T23:59:59.999Z"),
                         Self.decision("day", action: .accept, at: "2026-11-20T00:00:00.000Z"),
                         Self.decision("new", action: .accept, at: "2026-11-25T08:00:00.000Z")]
        #expect(FeedbackExport.decisions(decisions, since: "2026-11-20").map(\.id) == ["day", "new"])
        #expect(FeedbackExport.decisions(decisions, since: nil).count == 3)
    }

    @Test func airaMapsAcceptOverrideAndDefer() throws {
        let decisions = [Self.decision("a", action: .accept), Self.decision("o", action: .override, reason: .wrongLocation),
                         Self.decision("d", action: .deferred)]
        let text = try FeedbackExport.render(decisions, head: LedgerReceipt(sequence: 9, hash: "feed", inserted: true), format: .airai,
                                             key: Self.key, includeIdentifiers: false)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(document["ledgerHead"] as? String == "feed" && document["auditRow"] as? Int == 9 && document["deidentified"] as? Bool == true)
        let assessments = try #require(document["assessments"] as? [[String: Any]])
        #expect(assessments.map { $0["assessment"] as? String } == ["agree", "disagree", "deferred"])
        #expect(assessments[1]["disagreementReason"] as? String == "wrong_location")
        #expect(assessments.allSatisfy { ($0["assessedResult"] as? [String: Any])?["algorithmName"] as? String == "m" })
        #expect(!text.contains("CANARY"))
    }

    @Test func theAuditEventOfAnIdentifiedExportEscapesAQuoteInTheUserName() throws {
        let event = FeedbackExport.IdentifiedExportEvent(format: "csv", records: 3, since: nil, user: "o\"brien\\x")
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(event.json.utf8)) as? [String: Any])
        #expect(parsed["user"] as? String == "o\"brien\\x" && parsed["records"] as? Int == 3)
    }
}

struct DecisionStatisticsTests {
    @Test func ratesCalibrationAndTimesFromHandCountedDecisions() {
        typealias F = FeedbackExportTests
        let decisions = [
            F.decision("1", action: .accept, tier: .high, probability: 0.95, reader: "a", seconds: 10),
            F.decision("2", action: .accept, tier: .high, probability: 0.90, reader: "a", seconds: 20),
            F.decision("3", action: .override, reason: .falsePositive, tier: .high, probability: 0.92, reader: "b", seconds: 30),
            F.decision("4", action: .override, reason: .other, tier: .medium, probability: 0.75, reader: "b", seconds: 40),
            F.decision("5", action: .deferred, tier: .review, probability: 0.40, reader: "a", seconds: 50),
            F.decision("6", action: .accept, tier: .review, probability: 0.30, reader: "b", seconds: 60),
        ]
        let report = DecisionStatistics.report(decisions)
        #expect(report.decisions == 6)
        let high = report.byTier.first { $0.key == "high" }
        #expect(high?.accepted == 2 && high?.overridden == 1 && high?.deferred == 0)
        #expect(high?.overrideRate == 1.0 / 3 && high?.agreementRate == 2.0 / 3)
        let review = report.byTier.first { $0.key == "review" }
        #expect(review?.deferred == 1 && review?.overrideRate == 0, "a deferral is neither agreement nor override")
        let readerB = report.byReader.first { $0.key == "b" }
        #expect(readerB?.decisions == 3 && readerB?.overridden == 2)
        // Calibration per tier: accept at p ≥ 0.5 means abnormal, a false positive normal, "other" says nothing.
        let calibratedHigh = report.calibration.first { $0.tier == .high }
        #expect(calibratedHigh?.labelled == 3)
        #expect(abs((calibratedHigh?.meanPredicted ?? 0) - (0.95 + 0.90 + 0.92) / 3) < 1e-12)
        #expect(calibratedHigh?.observedAbnormal == 2.0 / 3)
        #expect(report.calibration.first { $0.tier == .medium }?.labelled == 0, "override for 'other' implies no label")
        let calibratedReview = report.calibration.first { $0.tier == .review }
        #expect(calibratedReview?.labelled == 1 && calibratedReview?.observedAbnormal == 0, "accepting p 0.30 confirms normal")
        // Seconds 10…60: median the 3rd of six by the nearest-rank rule used here, p90 the 6th.
        #expect(report.medianSecondsToDecision == 40 && report.p90SecondsToDecision == 60)
    }
}

struct PseudonymKeyTests {
    @Test func createdOnceExclusivelyAndReadBackTheSame() throws {
        let folder = TemporaryFolder("key")
        let path = folder.file("pseudonym.key")
        let first = try PseudonymKey.loadOrCreate(path: path)
        let again = try PseudonymKey.loadOrCreate(path: path)
        #expect(first.pseudonym("patient", "X") == again.pseudonym("patient", "X"))
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect((attributes[.size] as? Int) == 32)
    }

    @Test func manyCreatorsAtOnceAgreeOnOneKey() throws {
        let folder = TemporaryFolder("key-race")
        let path = folder.file("pseudonym.key")
        final class Results: @unchecked Sendable { let lock = NSLock(); var values: [String] = [] }
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            if let key = try? PseudonymKey.loadOrCreate(path: path) {
                results.lock.lock(); results.values.append(key.pseudonym("patient", "X")); results.lock.unlock()
            }
        }
        #expect(results.values.count == 16 && Set(results.values).count == 1)
    }

    @Test func aKeyOfTheWrongLengthIsRefusedAndNeverOverwritten() throws {
        let folder = TemporaryFolder("key-bad")
        let path = folder.file("pseudonym.key")
        try Data(repeating: 1, count: 31).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try PseudonymKey.loadOrCreate(path: path)
        } throws: { error in
            "\(error)".contains(path) && "\(error)".contains("31 bytes") && "\(error)".contains("refusing to replace")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(repeating: 1, count: 31), "the file is left as it was")
    }
}

/// The workstation's SQLite stores against the ports' one suite (`StoreConformance`; the
/// department's PostgreSQL stores run the same in DepartmentTests).
struct SQLiteStoreConformanceTests {
    @Test func ledger() throws {
        let folder = TemporaryFolder("conformance-ledger")
        try StoreConformance.ledger(try SQLiteDecisionLedger(path: folder.file("ledger.sqlite")), reader: "alice")
    }

    @Test func caseBase() throws {
        let folder = TemporaryFolder("conformance-cases")
        try StoreConformance.caseStore(try SQLiteCaseStore(path: folder.file("cases.sqlite")))
        #expect(CaseLabel(implied: true) == .abnormal && CaseLabel(implied: false) == .normal && CaseLabel(implied: nil) == .unknown)
    }

    @Test func resultCache() throws {
        let folder = TemporaryFolder("conformance-results")
        try StoreConformance.resultCache(try SQLiteResultCache(path: folder.file("results.sqlite")))
    }

    @Test func monitoring() throws {
        let folder = TemporaryFolder("conformance-monitoring")
        try StoreConformance.monitoringStore(try SQLiteResultCache(path: folder.file("results.sqlite")))
    }
}

/// Signed checkpoints: a valid one verifies; an altered field, another signer, a rewritten row
/// or a removed row are each named.
struct AuditCheckpointTests {
    @Test func checkpointsCatchAlterationsForgeriesRewritesAndTruncation() throws {
        let folder = TemporaryFolder("checkpoints")
        let key = try CheckpointKey.loadOrCreate(path: folder.file("checkpoint.key"))
        #expect(try CheckpointKey.loadOrCreate(path: folder.file("checkpoint.key")).publicKey == key.publicKey, "created once, then read")
        let mode = (try FileManager.default.attributesOfItem(atPath: folder.file("checkpoint.key"))[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
        let head = LedgerReceipt(sequence: 7, hash: String(repeating: "c", count: 64), inserted: false)
        let checkpoint = try AuditCheckpoint.sign(head, ledger: "decisions.sqlite", key: key)
        #expect(checkpoint.signatureIsValid)
        try checkpoint.append(to: folder.file("checkpoints.jsonl"))
        try checkpoint.append(to: folder.file("checkpoints.jsonl"))
        #expect(try AuditCheckpoint.read(folder.file("checkpoints.jsonl")) == [checkpoint, checkpoint])
        let chain: [Int: String] = [7: head.hash]
        #expect(AuditCheckpoint.problems([checkpoint], expectedKey: key.publicKey) { chain[$0] }.isEmpty)
        var altered = checkpoint
        altered.sequence = 6
        #expect(AuditCheckpoint.problems([altered], expectedKey: nil) { chain[$0] }.first?.contains("signature does not match") == true)
        let other = try CheckpointKey.loadOrCreate(path: folder.file("other.key"))
        let foreign = try AuditCheckpoint.sign(head, ledger: "decisions.sqlite", key: other)
        #expect(AuditCheckpoint.problems([foreign], expectedKey: key.publicKey) { chain[$0] }.first?.contains("signed by another key") == true)
        #expect(AuditCheckpoint.problems([checkpoint], expectedKey: nil) { _ in String(repeating: "d", count: 64) }.first?.contains("rewritten") == true)
        #expect(AuditCheckpoint.problems([checkpoint], expectedKey: nil) { _ in nil }.first?.contains("rows removed") == true)
    }
}
