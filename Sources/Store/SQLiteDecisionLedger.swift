import Crypto
public import LightboxCore
import Foundation
import GRDB

/// The decision ledger in SQLite (a retried decision returns its first receipt; the same id with
/// another content is refused): WAL, synchronous=FULL, each write in a `BEGIN IMMEDIATE`
/// transaction with a busy timeout; decisions and their audit rows written together; triggers that
/// refuse UPDATE and DELETE; audit rows chained with SHA-256 (hash = SHA-256(previous hash, "\n",
/// payload)), the first row chained to 64 zeros.
public final class SQLiteDecisionLedger: DecisionStore, Sendable {
    public static let genesis = AuditChain.genesis
    private let database: DatabaseQueue
    public let path: String

    /// `busyTimeout`: how long a write waits for another writer before it fails (seconds).
    public init(path: String, busyTimeout: Double = 10) throws {
        self.path = path
        var migrator = DatabaseMigrator()
        migrator.registerMigration("ledger-v1") { db in
            try db.execute(sql: """
                CREATE TABLE decisions (
                    id TEXT PRIMARY KEY NOT NULL,
                    auditSequence INTEGER NOT NULL UNIQUE,
                    studyInstanceUID TEXT NOT NULL,
                    payload TEXT NOT NULL
                );
                CREATE INDEX decisionsByStudy ON decisions(studyInstanceUID);
                CREATE TABLE audit (
                    sequence INTEGER PRIMARY KEY NOT NULL,
                    event TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    previousHash TEXT NOT NULL,
                    hash TEXT NOT NULL UNIQUE
                );
                CREATE TRIGGER decisionsAppendOnlyUpdate BEFORE UPDATE ON decisions BEGIN SELECT RAISE(ABORT, 'the decision ledger is append-only'); END;
                CREATE TRIGGER decisionsAppendOnlyDelete BEFORE DELETE ON decisions BEGIN SELECT RAISE(ABORT, 'the decision ledger is append-only'); END;
                CREATE TRIGGER auditAppendOnlyUpdate BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                CREATE TRIGGER auditAppendOnlyDelete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                """)
        }
        database = try SQLiteFile.open(path, migrator: migrator, synchronousFull: true, busyTimeout: busyTimeout)
    }

    /// SHA-256 of `text` in lower-case hex.
    public static func sha256(_ text: String) -> String { AuditChain.sha256(text) }

    public func record(_ decision: Decision) throws -> LedgerReceipt {
        try database.writeWithoutTransaction { db in
            var receipt: LedgerReceipt?
            try db.inTransaction(.immediate) {
                let payload = decision.canonicalJSON
                if let row = try Row.fetchOne(db, sql: """
                    SELECT audit.sequence, audit.hash, decisions.payload FROM decisions JOIN audit ON audit.sequence = decisions.auditSequence
                    WHERE decisions.id = ?
                    """, arguments: [decision.id]) {
                    // A retry is the same decision; the same id with another content is refused.
                    guard (row[2] as String) == payload else {
                        throw StoreError(path: path, reason: "decision \(decision.id) was already recorded with another content")
                    }
                    receipt = LedgerReceipt(sequence: row[0], hash: row[1], inserted: false)
                    return .commit
                }
                let appended = try append(db, event: "decision", subject: decision.id, payload: payload)
                try db.execute(sql: "INSERT INTO decisions (id, auditSequence, studyInstanceUID, payload) VALUES (?, ?, ?, ?)",
                               arguments: [decision.id, appended.sequence, decision.studyInstanceUID, payload])
                receipt = appended
                return .commit
            }
            return receipt!
        }
    }

    public func recordEvent(_ event: String, subject: String, details: String) throws -> LedgerReceipt {
        try database.writeWithoutTransaction { db in
            var receipt: LedgerReceipt?
            try db.inTransaction(.immediate) {
                receipt = try append(db, event: event, subject: subject, payload: details)
                return .commit
            }
            return receipt!
        }
    }

    private func append(_ db: Database, event: String, subject: String, payload: String) throws -> LedgerReceipt {
        let last = try Row.fetchOne(db, sql: "SELECT sequence, hash FROM audit ORDER BY sequence DESC LIMIT 1")
        let sequence = (last.map { $0[0] as Int } ?? 0) + 1
        let previous: String = last.map { $0[1] } ?? Self.genesis
        // The event, its subject and the payload are all covered by the hash.
        let hash = AuditChain.link(previous: previous, sequence: sequence, event: event, subject: subject, payload: payload)
        try db.execute(sql: "INSERT INTO audit (sequence, event, subject, payload, previousHash, hash) VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [sequence, event, subject, payload, previous, hash])
        return LedgerReceipt(sequence: sequence, hash: hash, inserted: true)
    }

    public func decisions() throws -> [Decision] {
        try database.read { db in
            try String.fetchAll(db, sql: "SELECT payload FROM decisions ORDER BY auditSequence").map {
                try JSONDecoder().decode(Decision.self, from: Data($0.utf8))
            }
        }
    }

    public func events(_ event: String) throws -> [AuditEvent] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT sequence, event, subject, payload FROM audit WHERE event = ? ORDER BY sequence", arguments: [event]).map {
                AuditEvent(sequence: $0[0], event: $0[1], subject: $0[2], payload: $0[3])
            }
        }
    }

    public func auditHash(at sequence: Int) throws -> String? {
        try database.read { db in try String.fetchOne(db, sql: "SELECT hash FROM audit WHERE sequence = ?", arguments: [sequence]) }
    }

    public func head() throws -> LedgerReceipt? {
        try database.read { db in
            try Row.fetchOne(db, sql: "SELECT sequence, hash FROM audit ORDER BY sequence DESC LIMIT 1")
                .map { LedgerReceipt(sequence: $0[0], hash: $0[1], inserted: false) }
        }
    }

    public func verify(expectedHead: String?) throws -> LedgerVerification {
        try database.read { db in
            // In rowid order: the order rows were written in (a swap shows up as a broken link).
            let audit = try Row.fetchAll(db, sql: "SELECT sequence, event, subject, payload, previousHash, hash FROM audit ORDER BY rowid").map {
                AuditChain.Row(sequence: $0[0], event: $0[1], subject: $0[2], payload: $0[3], previousHash: $0[4], hash: $0[5])
            }
            let decisions = try Row.fetchAll(db, sql: "SELECT id, auditSequence, payload FROM decisions ORDER BY auditSequence").map {
                AuditChain.DecisionRow(id: $0[0], auditSequence: $0[1], payload: $0[2])
            }
            return AuditChain.verify(audit: audit, decisions: decisions, expectedHead: expectedHead)
        }
    }
}

extension SQLiteDecisionLedger {
    /// A workstation ledger's chain, read without changing the file (for a move into the
    /// department's ledger): its audit rows in the order written and its decisions.
    public static func readChain(path: String) throws -> (audit: [AuditChain.Row], decisions: [AuditChain.DecisionRow]) {
        guard FileManager.default.fileExists(atPath: path) else { throw StoreError(path: path, reason: "no such file") }
        var configuration = Configuration()
        configuration.readonly = true
        let database: DatabaseQueue
        do { database = try DatabaseQueue(path: path, configuration: configuration) } catch {
            throw StoreError(path: path, reason: "not an SQLite database (\(error))")
        }
        do {
            return try database.read { db in
                guard try db.tableExists("audit"), try db.tableExists("decisions") else {
                    throw StoreError(path: path, reason: "not a Lightbox decision ledger (no audit and decisions tables)")
                }
                let audit = try Row.fetchAll(db, sql: "SELECT sequence, event, subject, payload, previousHash, hash FROM audit ORDER BY rowid").map {
                    AuditChain.Row(sequence: $0[0], event: $0[1], subject: $0[2], payload: $0[3], previousHash: $0[4], hash: $0[5])
                }
                let decisions = try Row.fetchAll(db, sql: "SELECT id, auditSequence, payload FROM decisions ORDER BY auditSequence").map {
                    AuditChain.DecisionRow(id: $0[0], auditSequence: $0[1], payload: $0[2])
                }
                return (audit, decisions)
            }
        } catch let error as StoreError { throw error } catch {
            throw StoreError(path: path, reason: "\(error)")
        }
    }
}

