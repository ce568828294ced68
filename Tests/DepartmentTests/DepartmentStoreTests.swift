import DepartmentStore
import Foundation
import LightboxCore
import Store
import Testing
import TestSupport

/// The department's stores against the same suite the workstation's SQLite stores pass, as a
/// reader (so the grants are what is tested); claims; department-wide figures; moving a
/// workstation's ledger in.
extension DepartmentLedgerTests {
    /// A database with the schema and readers `names` (password "pw").
    static func department(_ name: String, readers: [String], auditors: [String] = []) throws -> (Server, [String: String]) {
        let server = try Self.server(name)
        try Department.initialise(server.superuser, password: server.password)
        var roles: [String: String] = [:]
        for (reader, auditor) in readers.map({ ($0, false) }) + auditors.map({ ($0, true) }) {
            let role = "\(reader)_\(server.tag)"
            try Department.addReader(role, password: "pw", auditor: auditor, location: server.superuser, password: server.password)
            roles[reader] = role
        }
        return (server, roles)
    }

    @Test(.enabled(if: available || required, "needs PostgreSQL: run through `make test` (pg_virtualenv)"))
    func theStoresPassTheSQLiteSuiteOnPostgreSQL() throws {
        let (server, roles) = try Self.department("conformance", readers: ["alice"])
        let alice = try server.location(roles["alice"]!)
        try StoreConformance.ledger(try PostgresDecisionLedger(alice, password: "pw"), reader: roles["alice"]!)
        let store = try PostgresAnalysisStore(alice, password: "pw")
        try StoreConformance.caseStore(store)
        try StoreConformance.resultCache(store)
        try StoreConformance.monitoringStore(store)
        // The shared tables say whose workstation computed each row.
        for table in ["slice_results", "cases", "monitoring_studies"] {
            #expect(try Department.query(server.superuser, password: server.password, "SELECT DISTINCT computed_by::text FROM lightbox.\(table)")
                    == [roles["alice"]!], "\(table)")
        }
        // A reader cannot rewrite the record through these grants.
        #expect(throws: (any Error).self) { try Department.run(alice, password: "pw", "DELETE FROM lightbox.cases") }
    }

    @Test(.enabled(if: available || required, "needs PostgreSQL: run through `make test` (pg_virtualenv)"))
    func aClaimTellsOthersWhoIsReadingAndBlocksTheirDecisions() throws {
        let (server, roles) = try Self.department("claims", readers: ["alice", "bob"] + (0..<8).map { "c\($0)" }, auditors: ["audit"])
        let (a, b) = (roles["alice"]!, roles["bob"]!)
        let alice = try PostgresDecisionLedger(try server.location(a), password: "pw")
        let bob = try PostgresDecisionLedger(try server.location(b), password: "pw")
        let study = "2.25.700"
        let claimed = try alice.claim(study)
        #expect(claimed.reader == a && claimed.until > Date().addingTimeInterval(60))
        // Bob is told Alice holds it; his claim does not take it.
        #expect(try bob.claim(study).reader == a)
        #expect(try bob.liveClaims() == [StudyClaim(studyInstanceUID: study, reader: a, until: try alice.liveClaims()[0].until)])
        // A decision on a study someone else reads is refused, with their name; claims are not chained.
        #expect { try bob.record(Self.decision("b1", reader: b, study: study)) } throws: {
            "\($0)".contains("being read by \(a)") && "\($0)".contains("refused")
        }
        #expect(try alice.record(Self.decision("a1", reader: a, study: study)).sequence == 1)
        // Renewing keeps it Alice's; a release lets Bob in.
        #expect(try alice.claim(study).reader == a)
        try bob.release(study)
        #expect(try bob.claim(study).reader == a, "a release by another reader does nothing")
        try alice.release(study)
        #expect(try bob.claim(study).reader == b)
        #expect(try bob.record(Self.decision("b1", reader: b, study: study)).sequence == 2)
        // A claim left behind (a crashed workstation) expires.
        try Department.run(server.superuser, password: server.password, "UPDATE lightbox.claims SET expires_at = clock_timestamp() - interval '1 second'")
        #expect(try bob.liveClaims().isEmpty)
        #expect(try alice.claim(study).reader == a)
        // Eight readers claiming one study at the same moment: exactly one holds it.
        let contenders = try (0..<8).map { try PostgresDecisionLedger(try server.location(roles["c\($0)"]!), password: "pw") }
        let holders = Holders()
        DispatchQueue.concurrentPerform(iterations: contenders.count) { index in
            holders.add(try? contenders[index].claim("2.25.701").reader)
        }
        #expect(holders.names.count == 8 && Set(holders.names).count == 1, "\(holders.names)")
        // Department-wide figures: every reader's decisions, another reader's without name, patient or comment.
        let seenByBob = try bob.departmentDecisions()
        #expect(seenByBob.map(\.id) == ["a1", "b1"])
        #expect(seenByBob[0].reader == "another reader" && seenByBob[0].patientID.isEmpty && seenByBob[1].reader == b)
        let auditor = try PostgresDecisionLedger(try server.location(roles["audit"]!), password: "pw")
        #expect(try auditor.departmentDecisions().map(\.reader) == [a, b])
        #expect(try auditor.verify(expectedHead: nil).isIntact)
    }

    @Test(.enabled(if: available || required, "needs PostgreSQL: run through `make test` (pg_virtualenv)"))
    func aWorkstationLedgerMovesInWithItsReadersAndTimes() throws {
        let (server, roles) = try Self.department("import", readers: ["dana"], auditors: ["audit"])
        let dana = roles["dana"]!
        let folder = TemporaryFolder("department-import")
        let path = folder.file("ledger.sqlite")
        do {
            let workstation = try SQLiteDecisionLedger(path: path)
            var early = Self.decision("w1", reader: dana, study: "2.25.801")
            early.decidedAt = Timestamp(text: "2026-03-04T08:15:00.000Z")
            _ = try workstation.record(early)
            _ = try workstation.recordEvent("export", subject: "feedback.csv", details: "{\"reader\":\"\(dana)\",\"rows\":1}")
            _ = try workstation.record(Self.decision("w2", reader: "erin", study: "2.25.802"))
        }
        // The department already holds a decision of its own.
        let owner = try PostgresDecisionLedger(server.superuser, password: server.password)
        _ = try owner.record(Self.decision("o1", reader: server.superuser.user, study: "2.25.800"))
        // A reader cannot import.
        #expect { _ = try Department.importLedger(path, location: try server.location(dana), password: "pw") } throws: {
            "\($0)".contains("only the ledger's owner can import")
        }
        let report = try Department.importLedger(path, location: server.superuser, password: server.password)
        #expect(report.rows == 3 && report.appended == 3 && report.alreadyPresent == 0 && report.receipt.sequence == 5)
        // Each decision keeps its reader and time; the reader sees it as theirs.
        let asDana = try PostgresDecisionLedger(try server.location(dana), password: "pw")
        #expect(try asDana.decisions().map(\.id) == ["w1"])
        let times = try Department.query(server.superuser, password: server.password,
                                         "SELECT reader::text || ' ' || to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM lightbox.audit WHERE sequence = 2")
        #expect(times == ["\(dana) 2026-03-04 08:15"])
        let auditor = try PostgresDecisionLedger(try server.location(roles["audit"]!), password: "pw")
        #expect(try auditor.decisions().map { "\($0.id):\($0.reader)" } == ["o1:\(server.superuser.user)", "w1:\(dana)", "w2:erin"])
        let event = try #require(try auditor.events("import").first)
        #expect(event.sequence == 5 && event.payload.contains("\"appended\":3") && event.payload.contains("ledger.sqlite"))
        #expect(try auditor.verify(expectedHead: nil).isIntact)
        // The same file again: refused, nothing added.
        #expect { _ = try Department.importLedger(path, location: server.superuser, password: server.password) } throws: {
            "\($0)".contains("already imported (audit row 5")
        }
        // A workstation ledger whose chain does not verify: nothing imported.
        let broken = folder.file("broken.sqlite")
        try FileManager.default.copyItem(atPath: path, toPath: broken)
        try Fixtures.sqlite(broken, "DROP TRIGGER decisionsAppendOnlyUpdate; UPDATE decisions SET payload = replace(payload, 'accept', 'override') WHERE id = 'w2'")
        #expect { _ = try Department.importLedger(broken, location: server.superuser, password: server.password) } throws: {
            "\($0)".contains("does not verify, nothing imported")
        }
        #expect { _ = try Department.importLedger(folder.file("missing.sqlite"), location: server.superuser, password: server.password) } throws: {
            "\($0)".contains("missing.sqlite: no such file")
        }
        #expect(try auditor.head()?.sequence == 5)
    }
}

/// Names collected from threads.
final class Holders: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var names: [String] = []
    func add(_ name: String?) {
        lock.lock()
        if let name { names.append(name) }
        lock.unlock()
    }
}
