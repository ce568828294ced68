import ArgumentParser
import DicomReading
import Foundation
import LightboxServices
import Inference
import LightboxCore
import NcursesTerminal
import ReviewApp
import TerminalUI
import Store
import DepartmentStore

/// `lightbox doctor`: what this installation can do and what is wrong, each problem with a
/// one-line fix. Exit 1 when anything needs fixing.
struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the terminal, libraries, models, data files (integrity, audit chain) and sources; say how to fix what is wrong.")

    @Flag(help: "Print as JSON.")
    var json = false

    @Option(help: "A model folder to check (repeatable; default: config.toml's models, else the bundled models/default).")
    var model: [String] = []

    /// One line of the report.
    struct Check: Encodable {
        let area: String
        let ok: Bool
        let detail: String
        let fix: String?
    }

    func run() throws {
        let paths = AppPaths()
        let configuration = CLI.configuration(paths, printProblems: false)
        var checks: [Check] = []
        checks += terminal()
        checks.append(Check(area: "libraries", ok: true,
                            detail: "\(DicomFile.libraryVersions), OpenCV \(OnnxNetwork.libraryVersion), "
                                + "\(NcursesTerminal.probe().ncursesVersion), SQLite \(DatabaseHealth.libraryVersion)", fix: nil))
        if configuration.problems.isEmpty {
            let exists = FileManager.default.fileExists(atPath: paths.configFile)
            checks.append(Check(area: "config", ok: true, detail: exists ? "\(paths.configFile): ok" : "\(paths.configFile): none (defaults)", fix: nil))
        } else {
            for problem in configuration.problems {
                checks.append(Check(area: "config", ok: false, detail: problem, fix: "edit that key in \(paths.configFile) (README: Configuration)"))
            }
        }
        checks += models(configuration)
        checks += dataFiles(paths)
        checks += sources(configuration, paths: paths)
        if json {
            CLI.write(try CLI.json(checks))
        } else {
            let unicode = CLI.unicodeOutput
            for check in checks {
                let mark = check.ok ? (unicode ? "✓" : "ok") : (unicode ? "✗" : "!!")
                CLI.write("\(mark) \(check.area.padding(toLength: 10, withPad: " ", startingAt: 0)) \(SafeText.sanitize(check.detail))\n")
                if let fix = check.fix, !check.ok { CLI.write("  \(String(repeating: " ", count: 10)) fix: \(fix)\n") }
            }
        }
        if checks.contains(where: { !$0.ok }) { throw ExitCode(1) }
    }

    func terminal() -> [Check] {
        let probe = NcursesTerminal.probe()
        var checks: [Check] = []
        if !probe.interactive {
            // Not a fault of the installation: doctor itself may run in a pipe or a script.
            checks.append(Check(area: "terminal", ok: true,
                                detail: "not an interactive terminal here (stdin or stdout is a pipe or file): the reviewer needs one; `render` works anywhere",
                                fix: nil))
        }
        if probe.term.isEmpty || probe.term == "dumb" || !probe.entryFound {
            checks.append(Check(area: "terminal", ok: false,
                                detail: probe.term.isEmpty ? "TERM is not set" : "TERM=\(probe.term): no usable terminfo entry",
                                fix: "set TERM=xterm-256color (tmux-256color inside tmux); `apt-get install ncurses-term` brings the *-direct entries"))
        } else {
            let colour = probe.noColor ? "colour off (NO_COLOR)" : "\(probe.colours) colours → \(probe.colourDepth)"
            let tmux = probe.insideTmux ? ", inside tmux" : ""
            let advice = probe.colourDepth == "direct" || probe.noColor ? nil
                : "for 24-bit colour set COLORTERM=truecolor (with ncurses-term installed) or a *-direct TERM"
            checks.append(Check(area: "terminal", ok: true, detail: "TERM=\(probe.term) (entry \(probe.entry)), \(colour)\(tmux)"
                                + (advice.map { "; \($0)" } ?? ""), fix: nil))
        }
        let configuration = CLI.configuration(AppPaths(), printProblems: false)
        let symbols = configuration.symbols ?? "half"
        checks.append(Check(area: "picture", ok: true,
                            detail: probe.utf8 ? "cell symbols: \(symbols)\(configuration.symbols == nil ? " (default; quad or sextant with --symbols or `symbols =` in config.toml)" : " (config.toml)")"
                                : "cell symbols: coloured spaces (the locale is not UTF-8)", fix: nil))
        let choice = GraphicsChoice(rawValue: configuration.graphics ?? "auto") ?? .auto
        let detection = probe.interactive ? GraphicsDetection.detect(choice: choice, environment: ProcessInfo.processInfo.environment)
            : GraphicsDetection(protocolInUse: nil, cellPixels: nil, colourRegisters: 0, reason: "cells: not an interactive terminal here")
        checks.append(Check(area: "picture", ok: true, detail: "pixel graphics: \(detection.reason)", fix: nil))
        checks.append(Check(area: "terminal", ok: probe.utf8, detail: probe.utf8 ? "UTF-8 locale" : "the locale is not UTF-8: ASCII borders and symbols",
                            fix: "use a UTF-8 locale, for example LANG=C.UTF-8"))
        let big = probe.columns >= ReviewApp.Review.minimumSize.width && probe.rows >= ReviewApp.Review.minimumSize.height
        checks.append(Check(area: "terminal", ok: big || !probe.interactive, detail: "\(probe.columns)×\(probe.rows) cells",
                            fix: "the reviewer needs at least \(ReviewApp.Review.minimumSize.width)×\(ReviewApp.Review.minimumSize.height): enlarge the window"))
        return checks
    }

    func models(_ configuration: Configuration) -> [Check] {
        let chosen = !model.isEmpty ? model : configuration.models
        let candidates: [String?] = chosen.isEmpty ? [nil] : chosen
        return candidates.map { path in
            do {
                let folder = try ModelLocator.load(path)
                let card = folder.card
                return Check(area: "model", ok: true,
                             detail: "\(card.name)@\(card.version) loads from \(folder.path) (input \(card.input.width)×\(card.input.height), "
                                + "modalities \(card.modalities.joined(separator: ", ")))", fix: nil)
            } catch {
                return Check(area: "model", ok: false, detail: "\(error)",
                             fix: "pass --model DIR with a model folder (model.onnx + model.json), or fix `models` in config.toml")
            }
        }
    }

    func dataFiles(_ paths: AppPaths) -> [Check] {
        var checks: [Check] = []
        let configured = CLI.configuration(paths, printProblems: false)
        let department = configured.ledger != nil
        if department {
            // The ledger, results, cases and monitoring live on the department's server.
            do {
                let (store, name) = try LedgerLocator.open(paths, configuration: configured)
                let claims = (try? (store as? any StudyClaims)?.liveClaims().count).flatMap { $0 }
                checks.append(Check(area: "ledger", ok: true,
                                    detail: "department server \(name): schema version \(DepartmentSchema.version), reader \(LedgerLocator.reader(configured))"
                                        + (claims.map { ", \($0) stud\($0 == 1 ? "y" : "ies") being read now" } ?? ""), fix: nil))
            } catch {
                checks.append(Check(area: "ledger", ok: false, detail: "\(error)",
                                    fix: "see Troubleshooting in the README (the owner runs `lightbox department init` and `add-reader`)"))
            }
        }
        let files = [("index", paths.indexDatabase)] + (department ? [] : [("results", paths.resultsDatabase), ("cases", paths.casesDatabase),
                                                                          ("ledger", paths.ledgerDatabase)])
        for (name, path) in files {
            guard let health = DatabaseHealth.integrity(of: path) else {
                checks.append(Check(area: "data", ok: true, detail: "\(name): \(path) not created yet", fix: nil))
                continue
            }
            let fix = name == "ledger" ? "keep the file as it is for investigation; restore decisions.sqlite from a backup"
                : "delete \(path): Lightbox builds it again (the \(name == "index" ? "folders are read again" : "results are computed again"))"
            checks.append(Check(area: "data", ok: health.ok, detail: "\(name): \(path): \(health.detail)", fix: fix))
        }
        if !department, FileManager.default.fileExists(atPath: paths.ledgerDatabase) {
            do {
                let report = try SQLiteDecisionLedger(path: paths.ledgerDatabase).verify(expectedHead: nil)
                checks.append(Check(area: "audit", ok: report.isIntact,
                                    detail: report.isIntact ? "chain intact: \(report.rows) rows, head \(report.head.map { String($0.prefix(16)) + "…" } ?? "none")"
                                        : "chain broken at row \(report.firstBadSequence.map(String.init) ?? "?"): \(report.problems.first ?? "")",
                                    fix: "`lightbox audit verify` lists every problem; keep the file for investigation"))
            } catch {
                checks.append(Check(area: "audit", ok: false, detail: "\(paths.ledgerDatabase): \(error)", fix: "`lightbox audit verify` says more"))
            }
        }
        if department || FileManager.default.fileExists(atPath: paths.resultsDatabase),
           let store = try? AnalysisStores.results(paths, configuration: configured),
           let counts = try? store.monitoringCounts(), let references = try? store.references() {
            let configuration = configured
            let models = counts.map { count in
                "\(count.model): \(count.studies) studies, " + (references.first { $0.model == count.model }.map { "reference \($0.basis)" } ?? "no reference yet")
            }
            checks.append(Check(area: "monitor", ok: true,
                                detail: counts.isEmpty ? "no analysed study recorded yet (site \(configuration.site))"
                                    : "site \(configuration.site); " + models.joined(separator: "; ") + " — `lightbox monitor` for alerts", fix: nil))
        }
        return checks
    }

    func sources(_ configuration: Configuration, paths: AppPaths) -> [Check] {
        var checks = configuration.sources.keys.sorted().map { pacs(configuration.sources[$0]!, configuration: configuration) }
        if let destination = configuration.pushVerdictsTo { checks.append(verdictPush(destination, configuration: configuration, paths: paths)) }
        if let source = configuration.source, configuration.sources[source] != nil || source.contains("://") {
            // `source` names a PACS: checked above (or here, when it is an address).
            if configuration.sources[source] == nil {
                var named = NamedSource(name: source)
                named.url = source
                checks.append(pacs(named, configuration: configuration))
            }
            return checks
        }
        return checks + folderSource(configuration, paths: paths)
    }

    /// A PACS source: its credential found, an echo, and a one-row query, each failure with why.
    func pacs(_ named: NamedSource, configuration: Configuration) -> Check {
        let area = "pacs"
        let resolved: SourceResolver.Pacs
        do { resolved = try SourceResolver.pacs(named, configuration: configuration) } catch {
            return Check(area: area, ok: false, detail: "\(error)", fix: "fix [sources.\(named.name)] in config.toml (README: Sources)")
        }
        let started = Date()
        do {
            try resolved.connection.echo()
            var rows = 0
            try resolved.connection.findStudies(StudyQuery(limit: 1, pageSize: 1)) { page in
                rows += page.count
                return false
            }
            return Check(area: area, ok: true, detail: String(format: "%@: answers echo and a query (%d row, %.0f ms)", resolved.connection.displayName,
                                                           rows, Date().timeIntervalSince(started) * 1000), fix: nil)
        } catch let error as PacsError {
            let fix: String
            switch error.kind {
            case .unreachable: fix = "is the PACS running, and are the host and port right?"
            case .timeout: fix = "the PACS is slow or a firewall drops the packets; check the address, or raise timeout in [sources.\(named.name)]"
            case .refused: fix = "check the AE titles (this one must be registered on the PACS) or the credentials"
            case .notFound: fix = "check the URL: it should be the DICOMweb root (…/dicom-web)"
            default: fix = "see the PACS's log"
            }
            return Check(area: area, ok: false, detail: "\(error)", fix: fix)
        } catch {
            return Check(area: area, ok: false, detail: "\(named.name): \(error)", fix: "see the PACS's log")
        }
    }

    /// `[pacs] push_verdicts`: it names a PACS, and how many decisions wait to be sent there.
    func verdictPush(_ destination: String, configuration: Configuration, paths: AppPaths) -> Check {
        let area = "verdicts"
        do {
            let pusher = try VerdictPusher.open(destination, paths: paths, configuration: configuration)
            let waiting = try pusher.pending().pending.count
            return Check(area: area, ok: waiting == 0,
                         detail: "[pacs] push_verdicts = \"\(destination)\": " + (waiting == 0 ? "every decision is on it" : "\(waiting) decision(s) not sent yet"),
                         fix: waiting == 0 ? nil : "lightbox decisions push \(destination) (decisions on studies that PACS does not hold are listed as skipped)")
        } catch {
            return Check(area: area, ok: false, detail: "[pacs] push_verdicts = \"\(destination)\": \(error)",
                         fix: "name a [sources.NAME] that is a PACS (or a PACS address) in [pacs] push_verdicts")
        }
    }

    func folderSource(_ configuration: Configuration, paths: AppPaths) -> [Check] {
        guard let folder = configuration.source ?? CLI.defaultSource() else {
            return [Check(area: "source", ok: false, detail: "no source configured and no bundled samples/ found",
                          fix: "pass a folder (lightbox DIR) or set `source` in config.toml")]
        }
        let root = FolderIndexer.normalized(folder)
        guard FileManager.default.fileExists(atPath: root) else {
            return [Check(area: "source", ok: false, detail: "\(root): no such folder", fix: "fix `source` in config.toml")]
        }
        let indexed = (try? SQLiteWorklistIndex(path: paths.indexDatabase).summaries(under: root).count) ?? 0
        return [Check(area: "source", ok: true, detail: "\(root): \(indexed) studies in the index"
                      + (indexed == 0 ? " (not scanned yet: `lightbox scan \(root)` or open it)" : ""), fix: nil)]
    }
}
