import ArgumentParser
import DepartmentStore
import Foundation
import LightboxCore
import LightboxServices

/// `lightbox department …`: the shared ledger on the department's PostgreSQL server.
struct DepartmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "department", abstract: "The department's shared ledger in PostgreSQL (config.toml: ledger = \"postgresql://…\").",
        subcommands: [DepartmentInit.self, DepartmentAddReader.self, DepartmentImport.self])

    /// `--ledger URL`, else config.toml's `ledger`.
    static func location(_ url: String?) throws -> (PostgresLocation, String?) {
        let paths = AppPaths()
        var configuration = CLI.configuration(paths)
        if let url { configuration.ledger = url }
        guard let location = try LedgerLocator.department(configuration) else {
            throw CLIFailure("no department ledger: set ledger = \"postgresql://user@host:port/database\" in config.toml or pass --ledger")
        }
        return (location, try LedgerLocator.password(location, configuration: configuration))
    }
}

struct DepartmentInit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create or migrate the ledger's schema, the reader and auditor roles and the append function (as the database owner; safe to repeat).")

    @Option(help: "postgresql://owner@host:port/database (default: config.toml's ledger).")
    var ledger: String?

    func run() throws {
        let (location, password) = try DepartmentCommand.location(ledger)
        let applied: [Int]
        do { applied = try Department.initialise(location, password: password) } catch { throw CLIFailure("\(error)") }
        CLI.write(applied.isEmpty ? "\(location): the ledger is up to date (schema version \(DepartmentSchema.version))\n"
                  : "\(location): applied schema version(s) \(applied.map(String.init).joined(separator: ", "))\n")
    }
}

struct DepartmentAddReader: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add-reader", abstract: "Create a reader's login role (or make an existing role a reader), as the database owner.")

    @Argument(help: "The reader's role name (what the ledger records as the reader).")
    var name: String

    @Flag(help: "An auditor: reads every reader's rows (for verify, stats, monitor and the export), records events (acknowledgements, exports) but no decisions.")
    var auditor = false

    @Option(help: "A file (readable by you only) holding the new role's password; never on the command line.")
    var passwordFile: String?

    @Option(help: "postgresql://owner@host:port/database (default: config.toml's ledger).")
    var ledger: String?

    func run() throws {
        let (location, password) = try DepartmentCommand.location(ledger)
        var readerPassword: String?
        if let passwordFile {
            do { readerPassword = try PostgresLocation.secret(in: passwordFile) } catch { throw CLIFailure("\(error)") }
        }
        do { try Department.addReader(name, password: readerPassword, auditor: auditor, location: location, password: password) } catch {
            throw CLIFailure("\(error)")
        }
        CLI.write("\(name) is \(auditor ? "an auditor" : "a reader") on \(location)\(readerPassword == nil ? " (no password set)" : "")\n")
    }
}

struct DepartmentImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Move a workstation's ledger (decisions.sqlite) into the department's, as the database owner: its chain is verified first, "
            + "each decision keeps its reader and time, and the import is an audit event.")

    @Argument(help: "The workstation's ledger file (decisions.sqlite in its data folder).")
    var file: String

    @Option(help: "postgresql://owner@host:port/database (default: config.toml's ledger).")
    var ledger: String?

    func run() throws {
        let (location, password) = try DepartmentCommand.location(ledger)
        let report: Department.ImportReport
        do { report = try Department.importLedger(file, location: location, password: password) } catch { throw CLIFailure("\(error)") }
        CLI.write("\(file): \(report.rows) audit row(s) verified and moved into \(location): \(report.appended) appended, "
                  + "\(report.alreadyPresent) already there; the import is audit row \(report.receipt.sequence)\n")
    }
}
