import ArgumentParser
import Foundation
import LightboxServices
import LightboxCore
import Store
import DepartmentStore

/// `lightbox decisions export`: the feedback for model monitoring.
struct Decisions: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "decisions", abstract: "Decisions recorded on this installation.",
                                                    subcommands: [DecisionsExport.self])
}


struct DecisionsExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export decisions, de-identified by default (keyed pseudonyms, dates shifted per patient, comments withheld), with the ledger's chain head.")

    @Option(help: "csv, jsonl, or airai (a JSON document shaped after IHE AI Result Assessment).")
    var format = "csv"

    @Option(help: "Only decisions made on or after this date (YYYY-MM-DD).")
    var since: String?

    @Flag(name: .customLong("include-identifiers"), help: "Export patient IDs, UIDs, real dates and comments. Recorded in the audit log.")
    var includeIdentifiers = false

    @Option(help: "Write to this file instead of standard output.")
    var output: String?

    func validate() throws {
        if FeedbackExport.Format(rawValue: format) == nil { throw ValidationError("--format takes csv, jsonl or airai") }
        if let since, since.count != 10 || since.split(separator: "-").count != 3 { throw ValidationError("--since takes YYYY-MM-DD") }
    }

    func run() throws {
        let paths = AppPaths()
        try paths.ensureDataDirectory()
        let ledger = try LedgerLocator.open(paths, configuration: CLI.configuration(paths)).store
        if let department = ledger as? PostgresDecisionLedger {
            // One export for the department, of every reader's decisions: not one per reader.
            do { try department.requireWholeChain("the department's export") } catch { throw CLIFailure("\(error)") }
        }
        let key = try PseudonymKey.loadOrCreate(path: paths.dataDirectory + "/pseudonym.key")
        let decisions = FeedbackExport.decisions(try ledger.decisions(), since: since)
        if includeIdentifiers {
            // Before anything leaves: the export with identifiers is itself an audit event.
            let event = FeedbackExport.IdentifiedExportEvent(format: format, records: decisions.count, since: since,
                                                            user: ProcessInfo.processInfo.environment["USER"] ?? "unknown")
            _ = try ledger.recordEvent("export-with-identifiers", subject: format, details: event.json)
        }
        let text = try FeedbackExport.render(decisions, head: try ledger.head(), format: FeedbackExport.Format(rawValue: format) ?? .csv, key: key, includeIdentifiers: includeIdentifiers)
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw CLIFailure("\(output): cannot write the export")
            }
            CLI.printError("\(decisions.count) decision(s) written to \(output)\(includeIdentifiers ? " WITH identifiers (audited)" : " (de-identified)")")
        } else {
            CLI.write(text)
        }
    }
}

/// `lightbox stats`: override and agreement rates, calibration per tier, time to decision.
struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Override and agreement rates per tier, model version and reader; calibration per tier against the readers' decisions; time to decision.")

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let paths = AppPaths()
        try paths.ensureDataDirectory()
        let ledger = try LedgerLocator.open(paths, configuration: CLI.configuration(paths)).store
        let report = DecisionStatistics.report(try LedgerLocator.allDecisions(ledger))
        if json {
            CLI.write(try CLI.json(report))
            return
        }
        func rate(_ value: Double?) -> String { value.map { String(format: "%5.1f%%", $0 * 100) } ?? "    —" }
        var lines = ["\(report.decisions) decision(s)"]
        for (title, groups) in [("tier", report.byTier), ("model version", report.byModelVersion), ("reader", report.byReader)] {
            lines.append("")
            lines.append("By \(title)".padding(toLength: 30, withPad: " ", startingAt: 0) + "decisions  accepted  overridden  deferred  override  agreement")
            for g in groups {
                let name = SafeText.sanitize(g.key).padding(toLength: 28, withPad: " ", startingAt: 0)
                lines.append("  " + name + String(format: " %6d %9d %11d %9d      ", g.decisions, g.accepted, g.overridden, g.deferred)
                             + rate(g.overrideRate) + "     " + rate(g.agreementRate))
            }
        }
        lines.append("")
        lines.append("Calibration per tier (label implied by the reader's decision):")
        lines.append("  tier      labelled  mean predicted  observed abnormal")
        for row in report.calibration {
            let tier: String = row.tier.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
            let counts: String = String(format: " %8d", row.labelled)
            lines.append("  \(tier)\(counts)          \(rate(row.meanPredicted))             \(rate(row.observedAbnormal))")
        }
        lines.append("")
        lines.append("Seconds to decision: median \(report.medianSecondsToDecision.map { String(format: "%.0f", $0) } ?? "—"), "
                     + "90th percentile \(report.p90SecondsToDecision.map { String(format: "%.0f", $0) } ?? "—")")
        CLI.write(lines.joined(separator: "\n") + "\n")
    }
}
