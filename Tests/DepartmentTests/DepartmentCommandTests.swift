import DepartmentStore
import Foundation
import Testing
import TestSupport

/// The department ledger as an administrator and a reader use it: `department init` and
/// `add-reader` as the owner, then `decide`, `stats` and `audit verify` with `ledger =` in
/// config.toml and the password in a file readable only by its owner.
extension DepartmentLedgerTests {
    static let lightboxBinary = Fixtures.builtProgram("lightbox")

    func run(_ arguments: [String], home: TemporaryFolder, password: String?) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.lightboxBinary)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["LIGHTBOX_HOME"] = home.path
        environment["HOME"] = home.path
        environment["PGPASSWORD"] = password
        if password == nil { environment.removeValue(forKey: "PGPASSWORD") }
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    @Test(.enabled(if: available || required, "needs PostgreSQL: run through `make test` (pg_virtualenv)"))
    func ownerSetsUpAReaderDecidesAndAnAuditorVerifies() throws {
        let server = try Self.server("cli")
        let owner = TemporaryFolder("department-owner")
        let url = server.superuser.description
        let initialised = try run(["department", "init", "--ledger", url], home: owner, password: server.password)
        #expect(initialised.status == 0 && initialised.out.contains("applied schema version(s) 1, 2"), "\(initialised.err)")
        #expect(try run(["department", "init", "--ledger", url], home: owner, password: server.password).out.contains("up to date"))
        let reader = "reader_\(server.tag)", auditor = "auditor_\(server.tag)"
        let secret = owner.file("reader.pw")
        try "s3cret-\(server.tag)\n".write(toFile: secret, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: secret)
        let loose = try run(["department", "add-reader", reader, "--password-file", secret, "--ledger", url], home: owner, password: server.password)
        #expect(loose.status == 1 && loose.err.contains("readable by others"), "a password file others can read is refused")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: secret)
        for (name, flag) in [(reader, [String]()), (auditor, ["--auditor"])] {
            let added = try run(["department", "add-reader", name, "--password-file", secret, "--ledger", url] + flag, home: owner, password: server.password)
            #expect(added.status == 0, "\(added.err)")
        }
        // The owner's own event first, so the reader's view is not the whole chain.
        try Department.run(server.superuser, password: server.password, "SELECT * FROM lightbox.append('setup', 'department', '{}', NULL, NULL)")
        // The reader: ledger and password file in config.toml, no PGPASSWORD.
        let home = TemporaryFolder("department-reader")
        let readerURL = try server.location(reader).description
        try "ledger = \"\(readerURL)\"\npassword_file = \"\(secret)\"\n".write(toFile: home.file("config.toml"), atomically: true, encoding: .utf8)
        let decided = try run(["decide", "2.25.40896484734383168002216604741367057351", "--source", Fixtures.samples, "--accept"], home: home, password: nil)
        #expect(decided.status == 0 && decided.out.contains("audit row 2"), "\(decided.out) \(decided.err)")
        #expect(!decided.out.contains("s3cret") && !decided.err.contains("s3cret"))
        let stats = try run(["stats"], home: home, password: nil)
        #expect(stats.status == 0 && stats.out.contains("1 decision(s)"), "\(stats.err)")
        let readerVerify = try run(["audit", "verify"], home: home, password: nil)
        #expect(readerVerify.status == 1 && readerVerify.err.contains("needs an auditor"), "\(readerVerify.out) \(readerVerify.err)")
        // The auditor verifies the whole chain.
        let auditHome = TemporaryFolder("department-auditor")
        try "ledger = \"\(try server.location(auditor).description)\"\npassword_file = \"\(secret)\"\n"
            .write(toFile: auditHome.file("config.toml"), atomically: true, encoding: .utf8)
        let verified = try run(["audit", "verify"], home: auditHome, password: nil)
        #expect(verified.status == 0 && verified.out.contains("OK: 2 audit rows"), "\(verified.out) \(verified.err)")
        // The department's export is the auditor's: a reader is told so; the auditor's holds every reader.
        let readerExport = try run(["decisions", "export", "--format", "jsonl"], home: home, password: nil)
        #expect(readerExport.status == 1 && readerExport.err.contains("the department's export needs an auditor"), "\(readerExport.err)")
        let export = try run(["decisions", "export", "--format", "jsonl"], home: auditHome, password: nil)
        #expect(export.status == 0 && export.out.contains("\"records\":1") && export.out.split(separator: "\n").count == 2, "\(export.out) \(export.err)")
        // An auditor records events, never decisions.
        let auditorDecides = try run(["decide", "2.25.40896484734383168002216604741367057351", "--source", Fixtures.samples, "--defer"],
                                     home: auditHome, password: nil)
        #expect(auditorDecides.status == 1 && auditorDecides.err.contains("is an auditor"), "\(auditorDecides.err)")
        // A workstation's ledger moved in by the owner, through the command.
        let workstation = TemporaryFolder("department-workstation")
        try "reader = \"\(reader)\"\n".write(toFile: workstation.file("config.toml"), atomically: true, encoding: .utf8)
        let local = try run(["decide", "2.25.40896484734383168002216604741367057351", "--source", Fixtures.samples, "--override", "false_positive"],
                            home: workstation, password: nil)
        #expect(local.status == 0, "\(local.err)")
        let imported = try run(["department", "import", workstation.file("data/decisions.sqlite"), "--ledger", url], home: owner, password: server.password)
        #expect(imported.status == 0 && imported.out.contains("1 appended") && imported.out.contains("audit row 4"), "\(imported.out) \(imported.err)")
        let again = try run(["department", "import", workstation.file("data/decisions.sqlite"), "--ledger", url], home: owner, password: server.password)
        #expect(again.status == 1 && again.err.contains("already imported"), "\(again.err)")
        #expect(try run(["stats"], home: home, password: nil).out.contains("2 decision(s)"), "the reader's own, imported, counted")
        #expect(try run(["audit", "verify"], home: auditHome, password: nil).out.contains("OK: 4 audit rows"))
        // A wrong password: the server's reason, "NOT saved" never claimed as saved.
        try "ledger = \"\(readerURL)\"\n".write(toFile: home.file("config.toml"), atomically: true, encoding: .utf8)
        let wrong = try run(["decide", "2.25.40896484734383168002216604741367057351", "--source", Fixtures.samples, "--defer"], home: home, password: "wrong")
        #expect(wrong.status == 1 && wrong.err.contains("password authentication failed"), "\(wrong.err)")
    }
}
