import DepartmentStore
import Foundation
import LightboxCore
import ReviewApp
import Store
import Testing
import TestSupport

/// Faults against the real server: the server killed in the middle of eight writers, writers
/// killed with SIGKILL, the network cut while deciding in the reviewer, something on the port
/// that is not PostgreSQL. Whatever a writer reported saved is there afterwards, and the chain verifies.
extension DepartmentLedgerTests {
    /// `pg_ctlcluster` on the test server's cluster (found by its port).
    static func cluster(_ arguments: [String]) throws {
        let port = environment["PGPORT"] ?? "5432"
        let list = Process()
        list.executableURL = URL(fileURLWithPath: "/usr/bin/pg_lsclusters")
        list.arguments = ["-h"]
        let out = Pipe()
        list.standardOutput = out
        try list.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        list.waitUntilExit()
        guard let line = text.split(separator: "\n").map({ $0.split(separator: " ", omittingEmptySubsequences: true) }).first(where: { $0.count > 2 && $0[2] == port }) else {
            throw FixtureError("no cluster on port \(port) in pg_lsclusters: \(text)")
        }
        // Spawn, not Process: the server `start` leaves behind would inherit the descriptor
        // Foundation watches for the child's exit, and the wait would never end.
        try Spawn.run(["/usr/bin/pg_ctlcluster", String(line[0]), String(line[1])] + arguments)
    }

    /// Waits until the server answers again.
    static func awaitServer(_ server: Server) throws {
        for _ in 0..<100 {
            if (try? PostgresDecisionLedger(server.superuser, password: server.password, timeoutSeconds: 2)) != nil { return }
            Thread.sleep(forTimeInterval: 0.2)
        }
        throw FixtureError("the server did not come back")
    }

    /// Eight writer processes that go on until stopped, their stdout read as it comes.
    final class Writers: @unchecked Sendable {
        let processes: [Process]
        private let lock = NSLock()
        private var output: [Data]
        private let done = DispatchGroup()

        init(_ server: Server, roles: [String], timeout: Int) throws {
            output = Array(repeating: Data(), count: roles.count)
            var processes: [Process] = [], pipes: [Pipe] = []
            for role in roles {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: DepartmentLedgerTests.writerBinary)
                process.arguments = ["--ledger", try server.location(role).description, "--count", "1000000", "--prefix", role, "--reader", role]
                var environment = DepartmentLedgerTests.environment
                environment["PGPASSWORD"] = "pw"
                environment["LIGHTBOX_DATABASE_TIMEOUT"] = String(timeout)
                process.environment = environment
                let pipe = Pipe()
                process.standardOutput = pipe
                process.standardError = FileHandle.nullDevice
                try process.run()
                processes.append(process)
                pipes.append(pipe)
            }
            self.processes = processes
            for (index, pipe) in pipes.enumerated() {
                done.enter()
                DispatchQueue.global().async { [self] in
                    let data = pipe.fileHandleForReading.readDataToEndOfFile()
                    lock.lock()
                    output[index] = data
                    lock.unlock()
                    done.leave()
                }
            }
        }

        /// Waits for every writer to end; the ids each reported saved.
        func saved() -> Set<String> {
            for process in processes { process.waitUntilExit() }
            done.wait()
            lock.lock()
            defer { lock.unlock() }
            return Set(output.flatMap { String(decoding: $0, as: UTF8.self).split(separator: "\n") }.compactMap { line in
                line.hasPrefix("saved ") ? String(line.dropFirst(6)) : nil
            })
        }
    }

    /// Reads the ledger as the owner: the saved ids are all there, the chain verifies with
    /// sequences 1…n, and it still takes a write.
    func expectEverySavedDecisionKept(_ server: Server, saved: Set<String>) throws {
        let owner = try PostgresDecisionLedger(server.superuser, password: server.password)
        let stored = Set(try owner.decisions().map(\.id))
        #expect(!saved.isEmpty, "the writers wrote before the fault")
        #expect(saved.isSubset(of: stored), "reported saved but missing: \(saved.subtracting(stored).sorted().prefix(5))")
        let verification = try owner.verify(expectedHead: nil)
        #expect(verification.isIntact && verification.rows == stored.count, "\(verification.problems.prefix(3))")
        #expect(try owner.head()?.sequence == stored.count)
        #expect(try owner.record(Self.decision("after-\(server.tag)", reader: server.superuser.user)).sequence == stored.count + 1)
    }

    @Test(.enabled(if: available || required, "needs PostgreSQL: run through `make test` (pg_virtualenv)"))
    func theServerKilledInTheMiddleOfEightWritersLosesNothingReportedSaved() throws {
        let (server, roles) = try Self.department("crash", readers: (0..<8).map { "k\($0)" })
        let writers = try Writers(server, roles: roles.values.sorted(), timeout: 5)
        Thread.sleep(forTimeInterval: 1.5)
        try Self.cluster(["stop", "-m", "immediate"])
        let saved = writers.saved()
        #expect(writers.processes.allSatisfy { $0.terminationStatus == 1 }, "each writer stops with an error naming the server")
        try Self.cluster(["start"])
        try Self.awaitServer(server)
        try expectEverySavedDecisionKept(server, saved: saved)
    }

    @Test(.enabled(if: available || required, "needs PostgreSQL: run through `make test` (pg_virtualenv)"))
    func writersKilledAtRandomMomentsLoseNothingReportedSaved() throws {
        let (server, roles) = try Self.department("sigkill", readers: (0..<8).map { "s\($0)" })
        let writers = try Writers(server, roles: roles.values.sorted(), timeout: 5)
        var random = SeededRandom(seed: UInt64(getpid()))
        let moments = writers.processes.map { ($0, 0.3 + Double(random.next() % 1700) / 1000) }.sorted { $0.1 < $1.1 }
        let start = Date()
        for (process, moment) in moments {
            let wait = moment - Date().timeIntervalSince(start)
            if wait > 0 { Thread.sleep(forTimeInterval: wait) }
            kill(process.processIdentifier, SIGKILL)
        }
        let saved = writers.saved()
        #expect(writers.processes.allSatisfy { $0.terminationReason == .uncaughtSignal })
        try expectEverySavedDecisionKept(server, saved: saved)
    }

    @Test(.enabled(if: available || required, "needs PostgreSQL: run through `make test` (pg_virtualenv)"))
    func aCutNetworkSaysNotSavedAndTheRetrySavesTheSameDecisionOnce() throws {
        let (server, roles) = try Self.department("netcut", readers: ["nora"])
        let proxy = try LoopbackProxy(forwardingTo: server.superuser.port)
        defer { proxy.stop() }
        let role = roles["nora"]!
        let through = try PostgresLocation("postgresql://\(role)@127.0.0.1:\(proxy.port)/\(server.database)", defaultUser: role)
        let (app, _) = try reviewer(try server.location(role), reader: role, ledgerThrough: through, timeoutSeconds: 2)
        app.apply(.key(.enter))
        #expect(app.state.heldClaim != nil)
        proxy.cut = true
        app.apply(.key(.character("a")))
        #expect(app.state.message?.hasPrefix("NOT saved") == true && app.state.message?.contains("no answer within 2 s") == true, "\(app.state.message ?? "")")
        #expect(app.frame().textRows.joined().contains("NOT saved"))
        let pending = try #require(app.state.save.pending)
        // Still cut: the retry fails the same way, with the same decision kept.
        app.apply(.key(.character("r")))
        #expect(app.state.message?.hasPrefix("NOT saved") == true && app.state.save.pending?.id == pending.id)
        proxy.cut = false
        app.apply(.key(.character("r")))
        #expect(app.state.message?.hasPrefix("Saved: accept") == true, "\(app.state.message ?? "")")
        let owner = try PostgresDecisionLedger(server.superuser, password: server.password)
        #expect(try owner.decisions().map(\.id) == [pending.id], "one decision, the one that was pending")
        #expect(try owner.verify(expectedHead: nil).isIntact)
    }

    @Test(.enabled(if: available || required, "needs PostgreSQL: run through `make test` (pg_virtualenv)"))
    func somethingThatIsNotPostgreSQLOrNeverAnswersIsNamedNotWaitedFor() throws {
        let http = try LoopbackProxy(forwardingTo: 0, answer: Array("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".utf8))
        defer { http.stop() }
        let notPostgres = try PostgresLocation("postgresql://u@127.0.0.1:\(http.port)/db", defaultUser: "u")
        #expect { _ = try PostgresDecisionLedger(notPostgres, password: "x", timeoutSeconds: 3) } throws: { "\($0)".contains(notPostgres.description) }
        let server = try Self.server("silent")
        let silent = try LoopbackProxy(forwardingTo: server.superuser.port)
        defer { silent.stop() }
        silent.cut = true
        let location = try PostgresLocation("postgresql://\(server.superuser.user)@127.0.0.1:\(silent.port)/\(server.database)", defaultUser: "u")
        let began = Date()
        #expect { _ = try PostgresDecisionLedger(location, password: server.password, timeoutSeconds: 2) } throws: {
            "\($0)".contains("no answer within 2 s") && "\($0)".contains(location.description)
        }
        #expect(Date().timeIntervalSince(began) < 10)
    }
}
