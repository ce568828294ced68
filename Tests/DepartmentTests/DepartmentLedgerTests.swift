import DepartmentStore
import Foundation
import LightboxCore
import Store
import Testing
import TestSupport

/// The department ledger against a real PostgreSQL 15 (make test runs the suite inside
/// `pg_virtualenv -o fsync=on`, which sets PGHOST, PGPORT, PGUSER and PGPASSWORD for a
/// superuser). Each test works in a database and with roles of its own; they run one at a time.
@Suite(.serialized)
struct DepartmentLedgerTests {
    static let environment = ProcessInfo.processInfo.environment
    static let available = environment["PGHOST"] != nil && environment["PGPASSWORD"] != nil
    /// `make test` sets this: without a server the tests fail rather than skip.
    static let required = environment["LIGHTBOX_REQUIRE_POSTGRES"] == "1"

    struct Server {
        let superuser: PostgresLocation
        let password: String
        let database: String
        let tag: String

        func location(_ user: String) throws -> PostgresLocation {
            try PostgresLocation("postgresql://\(user)@\(superuser.host):\(superuser.port)/\(database)", defaultUser: user)
        }
    }

    /// A fresh database (and a tag for role names) on the test server.
    static func server(_ name: String) throws -> Server {
        let host = environment["PGHOST"] ?? "localhost", port = environment["PGPORT"] ?? "5432", user = environment["PGUSER"] ?? "postgres"
        let password = environment["PGPASSWORD"] ?? ""
        let tag = "\(name)_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        let admin = try PostgresLocation("postgresql://\(user)@\(host):\(port)/postgres", defaultUser: user)
        try Department.run(admin, password: password, "CREATE DATABASE lbx_\(tag)")
        let location = try PostgresLocation("postgresql://\(user)@\(host):\(port)/lbx_\(tag)", defaultUser: user)
        return Server(superuser: location, password: password, database: "lbx_\(tag)", tag: tag)
    }

    static func decision(_ id: String, reader: String, study: String = "2.25.1") -> Decision {
        Decision(id: id, studyInstanceUID: study, patientID: "P1", studyDate: "20260101", action: .accept, reader: reader, secondsSpent: 5,
                 model: "m", modelVersion: "1", outputHash: String(repeating: "b", count: 64), probability: 0.8, tier: .medium,
                 decidedAt: Timestamp(text: "2026-12-01T10:00:00.000Z"))
    }

    @Test(.enabled(if: available || required, "needs PostgreSQL: run through `make test` (pg_virtualenv)"))
    func oneWayInNobodyWritesAsAnotherAndNothingIsRewritten() throws {
        let server = try Self.server("rules")
        #expect(try Department.initialise(server.superuser, password: server.password) == [1, 2])
        #expect(try Department.initialise(server.superuser, password: server.password) == [], "init is idempotent")
        let alice = "alice_\(server.tag)", bob = "bob_\(server.tag)", audit = "audit_\(server.tag)"
        for (name, auditor) in [(alice, false), (bob, false), (audit, true)] {
            try Department.addReader(name, password: "pw-\(name)", auditor: auditor, location: server.superuser, password: server.password)
        }
        let asAlice = try PostgresDecisionLedger(try server.location(alice), password: "pw-\(alice)")
        let asBob = try PostgresDecisionLedger(try server.location(bob), password: "pw-\(bob)")
        let first = try asAlice.record(Self.decision("d1", reader: alice))
        #expect(first.sequence == 1 && first.inserted)
        // A retry returns the first receipt; the same id with another content is refused.
        #expect(try asAlice.record(Self.decision("d1", reader: alice)) == LedgerReceipt(sequence: 1, hash: first.hash, inserted: false))
        var changed = Self.decision("d1", reader: alice)
        changed.action = .override
        #expect { try asAlice.record(changed) } throws: { "\($0)".contains("already recorded with another content") }
        // Nobody records a decision as someone else.
        #expect { try asBob.record(Self.decision("d2", reader: alice)) } throws: { "\($0)".contains("cannot be recorded by \"\(bob)\"") }
        #expect(try asBob.record(Self.decision("d3", reader: bob)).sequence == 2)
        // Readers see their own rows; the auditor sees all and the chain verifies.
        #expect(try asAlice.decisions().map(\.id) == ["d1"])
        #expect(try asBob.decisions().map(\.id) == ["d3"])
        let auditor = try PostgresDecisionLedger(try server.location(audit), password: "pw-\(audit)")
        #expect(try auditor.decisions().map(\.id) == ["d1", "d3"])
        let verification = try auditor.verify(expectedHead: nil)
        #expect(verification.isIntact && verification.rows == 2, "\(verification.problems)")
        // The server's link is the workstation's rule.
        #expect(first.hash == AuditChain.link(previous: AuditChain.genesis, sequence: 1, event: "decision", subject: "d1",
                                              payload: Self.decision("d1", reader: alice).canonicalJSON))
        // No direct writes for readers; no rewrites for the owner either.
        for sql in ["INSERT INTO lightbox.audit (sequence, event, subject, payload, previous_hash, hash) VALUES (9, 'x', 'x', 'x', 'x', 'x')",
                    "UPDATE lightbox.decisions SET payload = 'x'", "DELETE FROM lightbox.audit", "TRUNCATE lightbox.audit",
                    "UPDATE lightbox.chain_head SET sequence = 0"] {
            #expect(throws: (any Error).self, "a reader ran: \(sql)") { try Department.run(try server.location(alice), password: "pw-\(alice)", sql) }
        }
        for sql in ["UPDATE lightbox.decisions SET payload = 'x'", "DELETE FROM lightbox.audit WHERE sequence = 1", "TRUNCATE lightbox.audit CASCADE"] {
            #expect { try Department.run(server.superuser, password: server.password, sql) } throws: { "\($0)".contains("append-only") }
        }
        #expect(try auditor.verify(expectedHead: nil).isIntact)
    }

    @Test(.enabled(if: available || required, "needs PostgreSQL: run through `make test` (pg_virtualenv)"))
    func badServersAndCredentialsSayWhy() throws {
        let server = try Self.server("faults")
        // No schema yet.
        #expect { _ = try PostgresDecisionLedger(server.superuser, password: server.password) } throws: { "\($0)".contains("run `lightbox department init`") }
        try Department.initialise(server.superuser, password: server.password)
        // A schema of another version.
        try Department.run(server.superuser, password: server.password, "INSERT INTO lightbox.schema_version (version) VALUES (7)")
        #expect { _ = try PostgresDecisionLedger(server.superuser, password: server.password) } throws: { "\($0)".contains("schema is version 7") }
        // A wrong password, and a role that does not exist: the server's reason, never the password.
        #expect { _ = try PostgresDecisionLedger(try server.location("nobody_\(server.tag)"), password: "secret-xyz") } throws: { error in
            "\(error)".contains("nobody_\(server.tag)") && !"\(error)".contains("secret-xyz")
        }
        #expect { _ = try PostgresDecisionLedger(server.superuser, password: "wrong-password") } throws: { error in
            "\(error)".contains("password authentication failed") && !"\(error)".contains("wrong-password")
        }
        // Something that is not PostgreSQL on the port (a closed port here): the server named.
        let closed = try PostgresLocation("postgresql://u@127.0.0.1:9/db", defaultUser: "u")
        #expect { _ = try PostgresDecisionLedger(closed, password: nil) } throws: { "\($0)".contains("postgresql://u@127.0.0.1:9/db") }
    }

    /// A superuser who bypasses the triggers (session_replication_role = replica) and rewrites a
    /// decision, re-hashing every row after it: the chain verifies again, the signed checkpoint does not.
    @Test(.enabled(if: available || required, "needs PostgreSQL: run through `make test` (pg_virtualenv)"))
    func aRewriteBySomeoneWhoBypassesTheTriggersIsFoundByTheCheckpoint() throws {
        let server = try Self.server("rewrite")
        try Department.initialise(server.superuser, password: server.password)
        let owner = try PostgresDecisionLedger(server.superuser, password: server.password)
        let user = server.superuser.user
        for index in 1...3 { _ = try owner.record(Self.decision("r\(index)", reader: user)) }
        let folder = TemporaryFolder("checkpoint-key")
        let key = try CheckpointKey.loadOrCreate(path: folder.file("checkpoint.key"))
        let checkpoint = try AuditCheckpoint.sign(try #require(try owner.head()), ledger: server.superuser.description, key: key)
        #expect(try AuditCheckpoint.problems([checkpoint], expectedKey: key.publicKey) { try owner.auditHash(at: $0) }.isEmpty)

        // The rewrite: decision r2 becomes an override, rows 2 and 3 re-hashed, the head moved.
        var forged = Self.decision("r2", reader: user)
        forged.action = .override
        let rows = try owner.verifyRows()
        var previous = rows[0].hash
        var statements = ["SET session_replication_role = replica"]
        for row in rows.dropFirst() {
            let payload = row.subject == "r2" ? forged.canonicalJSON : row.payload
            let hash = AuditChain.link(previous: previous, sequence: row.sequence, event: row.event, subject: row.subject, payload: payload)
            let literal = payload.replacingOccurrences(of: "'", with: "''")
            statements.append("UPDATE lightbox.audit SET payload = '\(literal)', previous_hash = '\(previous)', hash = '\(hash)' WHERE sequence = \(row.sequence)")
            statements.append("UPDATE lightbox.decisions SET payload = '\(literal)' WHERE id = '\(row.subject)'")
            previous = hash
        }
        statements.append("UPDATE lightbox.chain_head SET hash = '\(previous)'")
        try Department.run(server.superuser, password: server.password, statements.joined(separator: ";\n"))
        #expect(try owner.verify(expectedHead: nil).isIntact, "the rewrite is consistent: the chain alone cannot see it")
        #expect(try owner.decisions().first { $0.id == "r2" }?.action == .override)
        let problems = try AuditCheckpoint.problems([checkpoint], expectedKey: key.publicKey) { try owner.auditHash(at: $0) }
        #expect(problems.count == 1 && problems[0].contains("was rewritten"), "\(problems)")
    }

    /// 8 processes × 250 decisions at once: 2,000 rows, sequences 1…2,000, one chain. A control run
    /// through a copy of the function without the row lock must fork or fail loudly.
    @Test(.enabled(if: available || required, "needs PostgreSQL: run through `make test` (pg_virtualenv)"))
    func eightWritersMakeOneChain() throws {
        let server = try Self.server("writers")
        try Department.initialise(server.superuser, password: server.password)
        let writers = (0..<8).map { "w\($0)_\(server.tag)" }
        for name in writers {
            try Department.addReader(name, password: "pw", auditor: false, location: server.superuser, password: server.password)
        }
        func run(function: String) throws -> [(status: Int32, stderr: String)] {
            let processes = try writers.map { name -> (Process, Pipe) in
                let process = Process()
                process.executableURL = URL(fileURLWithPath: Self.writerBinary)
                process.arguments = ["--ledger", try server.location(name).description, "--count", "250", "--prefix", "\(function)-\(name)",
                                     "--reader", name, "--function", function]
                var environment = Self.environment
                environment["PGPASSWORD"] = "pw"
                process.environment = environment
                let err = Pipe()
                process.standardOutput = FileHandle.nullDevice
                process.standardError = err
                try process.run()
                return (process, err)
            }
            return processes.map { process, err in
                let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                process.waitUntilExit()
                return (process.terminationStatus, text)
            }
        }
        let results = try run(function: "append")
        #expect(results.allSatisfy { $0.status == 0 }, "\(results.map(\.stderr))")
        let ledger = try PostgresDecisionLedger(server.superuser, password: server.password)
        let verification = try ledger.verify(expectedHead: nil)
        #expect(verification.rows == 2_000 && verification.isIntact, "\(verification.problems.prefix(3))")
        #expect(try ledger.decisions().count == 2_000)
        #expect(try ledger.head()?.sequence == 2_000)

        // The control: the same function without FOR UPDATE.
        try Department.run(server.superuser, password: server.password, DepartmentTestSQL.unlockedCopy)
        try Department.run(server.superuser, password: server.password,
                           "GRANT EXECUTE ON FUNCTION lightbox.append_unlocked(text, text, text, text, text) TO \(DepartmentSchema.readerRole)")
        let control = try run(function: "append_unlocked")
        let failedLoudly = control.contains { $0.status != 0 && ($0.stderr.contains("duplicate key") || $0.stderr.contains("unique")) }
        let forked = !(try ledger.verify(expectedHead: nil).isIntact)
        #expect(failedLoudly || forked, "without the row lock, concurrent writers must collide: \(control.map(\.stderr).prefix(2))")
    }

    static let writerBinary = Fixtures.builtProgram("lightbox-ledger-writer")
}

enum DepartmentTestSQL {
    /// `lightbox.append` and `chain_append` as they would be without the head row lock, under
    /// other names (the control run only; the real functions stay as they are).
    static var unlockedCopy: String {
        let start = DepartmentSchema.appendFunctionSQL
        precondition(start.components(separatedBy: " FOR UPDATE;").count == 2, "one head row lock to take out")
        return start.replacingOccurrences(of: "lightbox.append(", with: "lightbox.append_unlocked(")
            .replacingOccurrences(of: "lightbox.chain_append(", with: "lightbox.chain_append_unlocked(")
            .replacingOccurrences(of: " FOR UPDATE;", with: ";")
    }
}
