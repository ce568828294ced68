import DepartmentStore
import Foundation
import LightboxCore
import LightboxServices
import Store

/// `lightbox-benchmark department`: decisions committed per second into the department ledger
/// with 1, 8 and 32 writers at once (each its own connection and role; the server's fsync as it
/// is set — `make bench` starts one with fsync on), beside the workstation's SQLite ledger with one
/// writer; and `audit verify` over 100,000 rows. Needs PGHOST, PGPORT, PGUSER and PGPASSWORD of a
/// superuser (pg_virtualenv sets them).
struct DepartmentBenchmark {
    let folder: String

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let host = environment["PGHOST"], let password = environment["PGPASSWORD"] else {
            throw CLIFailure("department: needs a PostgreSQL superuser in PGHOST, PGPORT, PGUSER, PGPASSWORD (make bench runs it under pg_virtualenv)")
        }
        let port = environment["PGPORT"] ?? "5432", user = environment["PGUSER"] ?? "postgres"
        let database = "lbx_bench_\(getpid())"
        try Department.run(try PostgresLocation("postgresql://\(user)@\(host):\(port)/postgres", defaultUser: user), password: password,
                           "CREATE DATABASE \(database)")
        let owner = try PostgresLocation("postgresql://\(user)@\(host):\(port)/\(database)", defaultUser: user)
        try Department.initialise(owner, password: password)
        let fsync = (try? Department.setting(owner, password: password, "fsync")) ?? "?"
        var lines = ["Lightbox department ledger benchmark — \(ProcessInfo.processInfo.activeProcessorCount) cores, PostgreSQL on \(host):\(port), fsync \(fsync)"]
        // The workstation's ledger, one writer, for comparison.
        // A fresh file each run: the ids repeat, and a decision id recorded again with another time is refused.
        let sqlitePath = folder + "/bench-department-sqlite.sqlite"
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: sqlitePath + suffix) }
        let sqlite = try SQLiteDecisionLedger(path: sqlitePath)
        let sqliteStart = Date()
        for index in 0..<500 { _ = try sqlite.record(Self.decision("s-\(index)", reader: "bench")) }
        let sqliteRate = 500 / Date().timeIntervalSince(sqliteStart)
        lines.append(String(format: "SQLite, 1 writer: %.0f decisions/s", sqliteRate))
        var readerCount = 0
        for writers in [1, 8, 32] {
            let names = (0..<writers).map { "bench_w\($0)_\(getpid())" }
            for name in names.dropFirst(min(readerCount, names.count)) {
                try Department.addReader(name, password: "bench", auditor: false, location: owner, password: password)
            }
            readerCount = max(readerCount, writers)
            let ledgers = try names.map { try PostgresDecisionLedger(try PostgresLocation("postgresql://\($0)@\(host):\(port)/\(database)", defaultUser: $0), password: "bench") }
            let perWriter = writers == 1 ? 500 : max(60, 1_200 / writers)
            let failures = Failures()
            let start = Date()
            DispatchQueue.concurrentPerform(iterations: writers) { w in
                for index in 0..<perWriter {
                    do { _ = try ledgers[w].record(Self.decision("\(writers)-\(w)-\(index)", reader: names[w])) } catch { failures.add("\(error)") }
                }
            }
            let seconds = Date().timeIntervalSince(start)
            lines.append(String(format: "PostgreSQL, %2d writer(s): %.0f decisions/s (%d decisions in %.2f s, %d errors)%@", writers,
                                Double(writers * perWriter) / seconds, writers * perWriter, seconds, failures.count,
                                writers == 1 ? String(format: " — %.2f× SQLite's one writer", Double(perWriter) / seconds / sqliteRate) : ""))
        }
        // Verify 100,000 rows (appended by the owner through the same function, 1,000 a transaction:
        // one transaction updating the head row 100,000 times would slow every lock on it).
        let ledger = try PostgresDecisionLedger(owner, password: password)
        let have = try ledger.head()?.sequence ?? 0
        let fill = Date()
        var left = max(0, 100_000 - have)
        while left > 0 {
            let batch = min(1_000, left)
            try Department.run(owner, password: password, """
                SELECT count(*) FROM generate_series(1, \(batch)) AS n,
                    LATERAL lightbox.append('bench', 'row-' || n, '{"n":' || n || '}', NULL, NULL)
                """)
            left -= batch
        }
        let filled = Date().timeIntervalSince(fill)
        let verifyStart = Date()
        let report = try ledger.verify(expectedHead: nil)
        lines.append(String(format: "audit verify of %d rows: %.2f s (%@; %.0f rows appended server-side in %.1f s)", report.rows,
                            Date().timeIntervalSince(verifyStart), report.isIntact ? "intact" : "NOT intact", Double(max(0, 100_000 - have)), filled))
        print(lines.joined(separator: "\n"))
    }

    static func decision(_ id: String, reader: String) -> Decision {
        Decision(id: id, studyInstanceUID: "2.25.\(id.hashValue & 0xffff)", patientID: "P", studyDate: "20260101", action: .accept, reader: reader,
                 secondsSpent: 10, model: "bench", modelVersion: "1", outputHash: String(repeating: "0", count: 64), probability: 0.7, tier: .medium)
    }

    final class Failures: @unchecked Sendable {
        private let lock = NSLock()
        private var errors: [String] = []
        func add(_ text: String) { lock.lock(); errors.append(text); lock.unlock() }
        var count: Int { lock.lock(); defer { lock.unlock() }; return errors.count }
    }
}
