import Foundation
import Testing
import TestSupport

/// The decision ledger under real processes: SIGKILL at random moments, two writers at once,
/// and tampering through the sqlite3 command line.
@Suite(.serialized)
struct LedgerProcessTests {
    /// A writer process (the test helper `lightbox-ledger-writer`) whose "saved ID" lines are collected.
    final class Writer: @unchecked Sendable {
        let process = Process()
        private let pipe = Pipe()
        private let errors = Pipe()
        private let done = DispatchSemaphore(value: 0)
        private(set) var output = ""
        private(set) var errorOutput = ""

        init(ledger: String, count: Int, prefix: String, start: Int = 0, unsafe: Bool = false) throws {
            process.executableURL = URL(fileURLWithPath: (CommandLineTests.binary as NSString).deletingLastPathComponent + "/lightbox-ledger-writer")
            process.arguments = ["--ledger", ledger, "--count", String(count), "--prefix", prefix, "--start", String(start)]
                + (unsafe ? ["--unsafe-report-first"] : [])
            process.standardOutput = pipe
            process.standardError = errors
            try process.run()
            DispatchQueue.global().async { [self] in
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                let errorData = errors.fileHandleForReading.readDataToEndOfFile()
                output = String(decoding: data, as: UTF8.self)
                errorOutput = String(decoding: errorData, as: UTF8.self)
                done.signal()
            }
        }

        func finish() -> Set<String> {
            process.waitUntilExit()
            done.wait()
            return Set(output.split(separator: "\n").filter { $0.hasPrefix("saved ") }.map { String($0.dropFirst(6)) })
        }
    }

    func sqlite(_ database: String, _ sql: String) throws -> (status: Int32, output: String) { try Fixtures.sqliteRun(database, sql) }

    func verify(_ ledger: String, head: String? = nil, home: TemporaryFolder) throws -> CommandLineTests.Run {
        try CommandLineTests().run(["audit", "verify", "--ledger", ledger] + (head.map { ["--head", $0] } ?? []), home: home)
    }

    /// Kills writers at random moments until `total` decisions are reported saved; returns what
    /// was reported and how many kills happened.
    func killLoop(ledger: String, total: Int, unsafe: Bool, maximumKills: Int) throws -> (reported: Set<String>, kills: Int) {
        var reported = Set<String>()
        var kills = 0
        var random = SystemRandomNumberGenerator()
        while reported.count < total {
            let next = (reported.compactMap { Int($0.split(separator: "-").last ?? "") }.max() ?? -1) + 1
            let writer = try Writer(ledger: ledger, count: total, prefix: "k", start: next, unsafe: unsafe)
            if kills < maximumKills {
                usleep(UInt32.random(in: 10_000...120_000, using: &random))
                kill(writer.process.processIdentifier, SIGKILL)
                kills += 1
            }
            reported.formUnion(writer.finish())
        }
        return (reported, kills)
    }

    @Test func killedWritersLoseNoDecisionTheyReportedSaved() throws {
        let home = TemporaryFolder("ledger-kill")
        let ledger = home.path + "/decisions.sqlite"
        let (reported, kills) = try killLoop(ledger: ledger, total: 1000, unsafe: false, maximumKills: 25)
        #expect(kills >= 10, "the writer was killed \(kills) times")
        let stored = Set(try sqlite(ledger, "SELECT id FROM decisions").output.split(separator: "\n").map(String.init))
        let lost = reported.subtracting(stored)
        #expect(lost.isEmpty, "reported saved but missing: \(lost.sorted().prefix(5))")
        #expect(stored.count == 1000, "every decision exactly once (a retried id writes nothing)")
        #expect(try sqlite(ledger, "PRAGMA integrity_check").output == "ok")
        let check = try verify(ledger, home: home)
        #expect(check.status == 0 && check.stdout.contains("OK: 1000 audit rows"), "\(check.stdout)")
    }

    @Test func controlRunReportingBeforeTheCommitIsCaught() throws {
        // The same check on a writer that says "saved" before committing: the kills must
        // expose decisions reported but never stored, or the test above could not fail.
        let home = TemporaryFolder("ledger-control")
        let ledger = home.path + "/decisions.sqlite"
        let (reported, _) = try killLoop(ledger: ledger, total: 300, unsafe: true, maximumKills: 20)
        let stored = Set(try sqlite(ledger, "SELECT id FROM decisions").output.split(separator: "\n").map(String.init))
        #expect(!reported.subtracting(stored).isEmpty, "the control writer lost nothing: the kill test could not tell")
    }

    @Test func twoWritersAtOnceMakeOneLinearChain() throws {
        let home = TemporaryFolder("ledger-two")
        let ledger = home.path + "/decisions.sqlite"
        let first = try Writer(ledger: ledger, count: 500, prefix: "a")
        let second = try Writer(ledger: ledger, count: 500, prefix: "b")
        let a = first.finish(), b = second.finish()
        #expect(first.process.terminationStatus == 0 && second.process.terminationStatus == 0,
                "a writer failed: \(first.errorOutput) \(second.errorOutput)")
        #expect(!(first.errorOutput + second.errorOutput).lowercased().contains("busy"))
        #expect(!(first.errorOutput + second.errorOutput).lowercased().contains("locked"))
        #expect(a.count == 500 && b.count == 500)
        #expect(try sqlite(ledger, "SELECT count(*) FROM decisions").output == "1000")
        #expect(try sqlite(ledger, "SELECT count(*), min(sequence), max(sequence) FROM audit").output == "1000|1|1000")
        let check = try verify(ledger, home: home)
        #expect(check.status == 0, "\(check.stdout)")
    }

    /// A ledger of 20 decisions (audit rows 1–20), copied for each kind of tampering.
    func tamperedCopy(_ name: String, home: TemporaryFolder, _ sql: String) throws -> String {
        let original = home.path + "/original.sqlite"
        if !FileManager.default.fileExists(atPath: original) {
            #expect(try Writer(ledger: original, count: 20, prefix: "t").finish().count == 20)
            _ = try sqlite(original, "PRAGMA wal_checkpoint(TRUNCATE)")
        }
        let copy = home.path + "/\(name).sqlite"
        try FileManager.default.copyItem(atPath: original, toPath: copy)
        let result = try sqlite(copy, sql)
        #expect(result.status == 0, "\(name): \(result.output)")
        return copy
    }

    @Test func tamperingThroughTheSqliteCommandLineIsFound() throws {
        let home = TemporaryFolder("ledger-tamper")
        let untouched = try tamperedCopy("untouched", home: home, "SELECT 1")
        let head = try sqlite(untouched, "SELECT hash FROM audit ORDER BY sequence DESC LIMIT 1").output
        #expect(try verify(untouched, head: head, home: home).status == 0)

        // The triggers refuse edits and deletes outright.
        let refused = try sqlite(untouched, "UPDATE decisions SET payload = 'x' WHERE id = 't-3'")
        #expect(refused.status != 0 && refused.output.contains("append-only"))
        #expect(try sqlite(untouched, "DELETE FROM audit WHERE sequence = 3").output.contains("append-only"))

        let cases: [(String, String, Int)] = [
            ("edit-decision", """
                DROP TRIGGER decisionsAppendOnlyUpdate;
                UPDATE decisions SET payload = replace(payload, '"action":"override"', '"action":"accept"') WHERE id = 't-7';
                """, 8),
            ("edit-audit", """
                DROP TRIGGER auditAppendOnlyUpdate;
                UPDATE audit SET payload = replace(payload, '"reader":"t"', '"reader":"x"') WHERE sequence = 5;
                """, 5),
            ("delete-middle", """
                DROP TRIGGER auditAppendOnlyDelete; DROP TRIGGER decisionsAppendOnlyDelete;
                DELETE FROM decisions WHERE auditSequence = 10; DELETE FROM audit WHERE sequence = 10;
                """, 10),
            ("swap-rows", """
                DROP TRIGGER auditAppendOnlyUpdate; DROP TRIGGER decisionsAppendOnlyUpdate;
                UPDATE audit SET sequence = -4 WHERE sequence = 4; UPDATE audit SET sequence = 4 WHERE sequence = 5;
                UPDATE audit SET sequence = 5 WHERE sequence = -4;
                UPDATE decisions SET auditSequence = -4 WHERE auditSequence = 4; UPDATE decisions SET auditSequence = 4 WHERE auditSequence = 5;
                UPDATE decisions SET auditSequence = 5 WHERE auditSequence = -4;
                """, 4),
        ]
        for (name, sql, firstBad) in cases {
            let copy = try tamperedCopy(name, home: home, sql)
            let check = try verify(copy, home: home)
            #expect(check.status == 1, "\(name) not found: \(check.stdout)")
            #expect(check.stdout.contains("first bad row \(firstBad)"), "\(name): \(check.stdout)")
        }
        // Dropping the last rows leaves a chain that verifies on its own; the export's head catches it.
        let truncated = try tamperedCopy("truncated", home: home, """
            DROP TRIGGER auditAppendOnlyDelete; DROP TRIGGER decisionsAppendOnlyDelete;
            DELETE FROM decisions WHERE auditSequence > 17; DELETE FROM audit WHERE sequence > 17;
            """)
        #expect(try verify(truncated, home: home).status == 0)
        let withHead = try verify(truncated, head: head, home: home)
        #expect(withHead.status == 1 && withHead.stdout.contains("truncated tail"), "\(withHead.stdout)")
        #expect(withHead.stdout.contains("first bad row 18"))
    }

    /// A signed checkpoint catches what the chain alone cannot: the tail cut off by someone who
    /// dropped the triggers (the rows left still link).
    @Test func aSignedCheckpointCatchesACutTail() throws {
        let home = TemporaryFolder("checkpoint-cli")
        let data = home.path + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let ledger = data + "/decisions.sqlite"
        #expect(try Writer(ledger: ledger, count: 20, prefix: "c").finish().count == 20)
        let cli = CommandLineTests()
        let signed = try cli.run(["audit", "checkpoint"], home: home)
        #expect(signed.status == 0 && signed.stdout.contains("Signed row 20"), "\(signed.stderr)")
        let printed = try cli.run(["audit", "checkpoint", "--print"], home: home)
        #expect(printed.stdout.contains("\"signature\""))
        let intact = try cli.run(["audit", "verify"], home: home)
        #expect(intact.status == 0 && intact.stdout.contains("1 signed checkpoint(s) match"), "\(intact.stdout) \(intact.stderr)")
        // Triggers dropped, the last six rows deleted: the chain that is left still links.
        let cut = try sqlite(ledger, "DROP TRIGGER auditAppendOnlyDelete; DROP TRIGGER decisionsAppendOnlyDelete; "
                             + "DELETE FROM decisions WHERE auditSequence > 14; DELETE FROM audit WHERE sequence > 14;")
        #expect(cut.status == 0, "\(cut.output)")
        let unanchored = try cli.run(["audit", "verify", "--checkpoints", home.path + "/none.jsonl"], home: home)
        #expect(unanchored.status == 1 && unanchored.stderr.contains("cannot read the checkpoints"), "a named checkpoints file must exist")
        let found = try cli.run(["audit", "verify"], home: home)
        #expect(found.status == 1 && found.stdout.contains("TAMPERED") && found.stdout.contains("the chain has no row 20 any more"),
                "\(found.stdout) \(found.stderr)")
    }
}
