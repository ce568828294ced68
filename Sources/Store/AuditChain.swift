import Crypto
public import LightboxCore
public import Foundation

/// The audit chain's rule, for every ledger (SQLite on a workstation, PostgreSQL for a
/// department): row n's hash is SHA-256(previous hash, "\n", n, "\n", event, "\n", subject, "\n",
/// payload) in lower-case hex, the first row chained to 64 zeros; and every decision row equals
/// the payload its audit row hashed.
public enum AuditChain {
    public static let genesis = String(repeating: "0", count: 64)

    public struct Row: Sendable, Equatable {
        public var sequence: Int
        public var event: String
        public var subject: String
        public var payload: String
        public var previousHash: String
        public var hash: String

        public init(sequence: Int, event: String, subject: String, payload: String, previousHash: String, hash: String) {
            self.sequence = sequence
            self.event = event
            self.subject = subject
            self.payload = payload
            self.previousHash = previousHash
            self.hash = hash
        }
    }

    public struct DecisionRow: Sendable, Equatable {
        public var id: String
        public var auditSequence: Int
        public var payload: String

        public init(id: String, auditSequence: Int, payload: String) {
            self.id = id
            self.auditSequence = auditSequence
            self.payload = payload
        }
    }

    /// SHA-256 of `text` in lower-case hex.
    public static func sha256(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).hexadecimal
    }

    /// SHA-256 of `data` in lower-case hex (a file's digest).
    public static func sha256Hex(_ data: Data) -> String {
        SHA256.hash(data: data).hexadecimal
    }

    /// The hash of row `sequence` after `previous`.
    public static func link(previous: String, sequence: Int, event: String, subject: String, payload: String) -> String {
        sha256(previous + "\n" + "\(sequence)\n\(event)\n\(subject)\n\(payload)")
    }

    /// Recomputes the chain over `audit` (in the order the rows were written) and checks each
    /// decision against its audit row; with `expectedHead` (from an export), also reports a truncated tail.
    public static func verify(audit: [Row], decisions: [DecisionRow], expectedHead: String?) -> LedgerVerification {
        var problems: [String] = []
        var firstBad: Int?
        func bad(_ sequence: Int, _ text: String) {
            if firstBad == nil || sequence < firstBad! { firstBad = sequence }
            problems.append(text)
        }
        var previous = genesis
        var expected = 1
        var hashes = Set<String>()
        var decisionPayloads: [String: (Int, String)] = [:]
        for row in audit {
            let sequence = row.sequence
            if sequence != expected {
                bad(min(sequence, expected), sequence > expected
                    ? "audit rows \(expected)–\(sequence - 1) are missing (deleted) before row \(sequence)"
                    : "audit row \(sequence) is out of order (after row \(expected - 1))")
            }
            if row.previousHash != previous {
                bad(sequence, "audit row \(sequence) does not link to the row before it (reordered, inserted or a row before it deleted)")
            }
            if link(previous: row.previousHash, sequence: sequence, event: row.event, subject: row.subject, payload: row.payload) != row.hash {
                bad(sequence, "audit row \(sequence) was edited: its hash does not match its contents")
            }
            if row.event == "decision" { decisionPayloads[row.subject] = (sequence, row.payload) }
            hashes.insert(row.hash)
            previous = row.hash
            expected = sequence + 1
        }
        var seen = Set<String>()
        for row in decisions {
            seen.insert(row.id)
            guard let audited = decisionPayloads[row.id] else {
                bad(row.auditSequence, "decision \(row.id) has no audit row")
                continue
            }
            if audited.1 != row.payload || audited.0 != row.auditSequence {
                bad(audited.0, "decision \(row.id) (audit row \(audited.0)) was edited after it was recorded")
            }
        }
        for (id, audited) in decisionPayloads where !seen.contains(id) {
            bad(audited.0, "decision \(id) (audit row \(audited.0)) was deleted from the decisions table")
        }
        if let expectedHead, !hashes.contains(expectedHead) {
            bad(expected, "the export's head \(expectedHead.prefix(16))… is not in the ledger: rows after \(expected - 1) were removed (truncated tail)")
        }
        return LedgerVerification(rows: audit.count, head: audit.isEmpty ? nil : previous, firstBadSequence: firstBad, problems: problems)
    }
}
