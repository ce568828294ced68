import ArgumentParser
import Foundation
import LightboxServices
import LightboxCore
import Store
import TerminalUI
import DepartmentStore

/// `lightbox decisions export`: the feedback for model monitoring.
struct Decisions: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "decisions", abstract: "Decisions recorded on this installation.",
                                                    subcommands: [DecisionsExport.self, DecisionsPush.self])
}

/// `lightbox decisions push SOURCE`: the verdicts sent to the PACS as TID 1500 SRs.
struct DecisionsPush: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Send each decision not yet on SOURCE to it as a DICOM SR (TID 1500) in its study, by STOW-RS or C-STORE; safe to repeat.")

    @Argument(help: "The PACS: a [sources.NAME] from config.toml, an http(s)://host:port/dicom-web URL, or dicom://AET@host:port.")
    var source: String

    @Option(help: "Only decisions made on or after this date (YYYY-MM-DD).")
    var since: String?

    @Option(help: "A model folder (repeatable; default: config.toml's models, else the bundled models/default): finds each decision's findings again.")
    var model: [String] = []

    @Flag(help: "Print the outcome as JSON.")
    var json = false

    func validate() throws {
        if let since, since.count != 10 || since.split(separator: "-").count != 3 { throw ValidationError("--since takes YYYY-MM-DD") }
    }

    func run() throws {
        let paths = AppPaths()
        try paths.ensureDataDirectory()
        let configuration = CLI.configuration(paths)
        let pusher: VerdictPusher
        do { pusher = try VerdictPusher.open(source, paths: paths, configuration: configuration, models: model) } catch let failure as CLIFailure {
            throw failure
        } catch { throw CLIFailure("\(error)") }
        let progress = json ? nil : ProgressReporter(label: "Pushing verdicts to \(pusher.destinationName)")
        let outcome: VerdictPusher.Outcome
        do {
            outcome = try pusher.push(since: since) { done, total in progress?.update(done, of: total) }
        } catch { throw CLIFailure("\(error)") }
        if json {
            CLI.write(try CLI.json(outcome) + "\n")
        } else {
            var lines = ["\(outcome.stored.count) verdict SR(s) stored on \(pusher.destinationName), \(outcome.alreadyStored) already there"
                         + String(format: " (%.2f s)", outcome.seconds)]
            lines += outcome.skipped.map { "  skipped \($0)" }
            lines += outcome.withoutFindings.map { "  without finding groups \($0)" }
            if let failure = outcome.failure {
                lines.append("NOT sent: \(outcome.pending) decision(s) still pending: \(failure)")
                lines.append("They stay pending: run `lightbox decisions push \(source)` again once the PACS answers.")
            }
            CLI.write(lines.joined(separator: "\n") + "\n")
        }
        if outcome.failure != nil { throw ExitCode(1) }
    }
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
        for (title, groups) in [("tier", report.byTier), ("model version", report.byModelVersion), ("source", report.bySource), ("reader", report.byReader)] {
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
