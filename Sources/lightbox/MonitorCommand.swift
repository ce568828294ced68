import ArgumentParser
import Foundation
import ImageOutput
import LightboxCore
import LightboxServices
import Store

/// `lightbox monitor`: drift of inputs and outputs and the readers' verdicts, per model version.
struct Monitor: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Drift of what the models see and say, and of the readers' verdicts, against each model version's reference.",
        subcommands: [MonitorReportCommand.self, MonitorReferenceCommand.self, MonitorAcknowledge.self],
        defaultSubcommand: MonitorReportCommand.self)

    /// A day (YYYY-MM-DD) as the start of that UTC day.
    static func day(_ text: String, option: String) throws -> Date {
        guard text.count == 10, let date = Timestamp(text: text + "T00:00:00.000Z").date else { throw ValidationError("\(option) takes YYYY-MM-DD") }
        return date
    }
}

struct MonitorReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "report", abstract: "The alerts of the latest window, with weekly charts (the default).")

    @Option(help: "Chart and test windows from this day on (YYYY-MM-DD).")
    var since: String?

    @Option(help: ArgumentHelp("Report as of this day's end instead of now (YYYY-MM-DD).", visibility: .hidden))
    var at: String?

    @Flag(help: "Print JSON.")
    var json = false

    @Option(help: "Also write the charts as small multiples to this PNG file.")
    var png: String?

    func validate() throws {
        if let since { _ = try Monitor.day(since, option: "--since") }
        if let at { _ = try Monitor.day(at, option: "--at") }
    }

    func run() throws {
        let paths = AppPaths()
        try paths.ensureDataDirectory()
        let service = try MonitorService.open(paths, configuration: CLI.configuration(paths))
        let now = try at.map { try Monitor.day($0, option: "--at").addingTimeInterval(86_400 - 0.001) } ?? Date()
        let report = try service.report(now: now, since: try since.map { try Monitor.day($0, option: "--since") })
        if let png {
            do { try PNGWriter.write(MonitorChart.render(report), to: png) } catch { throw CLIFailure("\(png): \(error)") }
        }
        if json {
            CLI.write(try CLI.json(report))
        } else {
            CLI.write(MonitorText.lines(report, unicode: CLI.unicodeOutput).joined(separator: "\n") + "\n")
        }
    }
}

struct MonitorReferenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reference",
        abstract: "Freeze a model version's reference period: its first N studies, or the studies analysed between two days.")

    @Option(help: "The model version, as name@version (see `lightbox monitor`).")
    var model: String

    @Option(help: "The first N studies this model version analysed.")
    var first: Int?

    @Option(help: "From this day (YYYY-MM-DD, with --to).")
    var from: String?

    @Option(help: "To the end of this day (YYYY-MM-DD, with --from).")
    var to: String?

    func validate() throws {
        if (from == nil) != (to == nil) { throw ValidationError("--from and --to go together") }
        if first != nil && from != nil { throw ValidationError("choose --first or --from/--to") }
    }

    func run() throws {
        let paths = AppPaths()
        try paths.ensureDataDirectory()
        let service = try MonitorService.open(paths, configuration: CLI.configuration(paths))
        let reference = try service.setReference(model: model, first: first, from: try from.map { try Monitor.day($0, option: "--from") },
                                                 to: try to.map { try Monitor.day($0, option: "--to").addingTimeInterval(86_400 - 0.001) })
        CLI.write("Reference for \(reference.model): \(reference.basis) (recorded in the audit log)\n")
    }
}

struct MonitorAcknowledge: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ack", abstract: "Acknowledge an alert with a comment (an audit event in the ledger).")

    @Argument(help: "The alert's id (the first column of `lightbox monitor`).")
    var alert: String

    @Option(help: "What was checked or done.")
    var comment: String

    @Option(help: ArgumentHelp("Acknowledge as of this day (YYYY-MM-DD).", visibility: .hidden))
    var at: String?

    func run() throws {
        let paths = AppPaths()
        try paths.ensureDataDirectory()
        let configuration = CLI.configuration(paths)
        let service = try MonitorService.open(paths, configuration: configuration)
        let now = try at.map { try Monitor.day($0, option: "--at").addingTimeInterval(86_400 - 0.001) } ?? Date()
        let report = try service.report(now: now)
        guard let found = report.alerts.first(where: { $0.id == alert }) else {
            throw CLIFailure("no alert \(alert) in the latest window (alerts now: \(report.alerts.map(\.id).joined(separator: ", ").nonEmpty ?? "none"))")
        }
        let receipt = try service.acknowledge(found, comment: comment, reader: LedgerLocator.reader(configuration))
        CLI.write("Acknowledged \(found.id) (\(found.kind.rawValue), \(found.stratum)); audit row \(receipt.sequence)\n")
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
