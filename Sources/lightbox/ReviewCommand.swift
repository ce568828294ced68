import ArgumentParser
import DicomReading
import Foundation
import LightboxServices
import Inference
import LightboxCore
import NcursesTerminal
import ReviewApp
import Store
import TerminalUI

/// `lightbox [SOURCE]`: the interactive reviewer.
struct ReviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "Open the worklist of a source in the terminal reviewer (default: the bundled samples).")

    @Argument(help: "A folder of DICOM files, a DICOMweb URL, dicom://CALLED_AET@host:port, or a [sources.NAME] of config.toml (default: `source` in config.toml, else the bundled samples/).")
    var source: String?

    @Option(help: "Theme: a name from themes/ (dark, light, high-contrast, colour-blind-safe) or a .toml file.")
    var theme: String?

    @Flag(name: .customLong("show-identifiers"), help: "Start with patient identifiers shown (masked by default; t toggles).")
    var showIdentifiers = false

    @Option(help: "A model folder (repeat to fuse several; default: config.toml's models, else the bundled models/default).")
    var model: [String] = []

    @Option(help: "Pixel graphics for the image: auto (ask the terminal), kitty, sixel, or cells (never).")
    var graphics: String?

    @Option(help: "Cell symbols for the picture: half (2 pixels a cell, the default), quad (2×2) or sextant (2×3; needs a font with Unicode 13 sextants).")
    var symbols: String?

    func run() throws {
        let paths = AppPaths()
        try paths.ensureDataDirectory()
        var notices: [String] = []
        // The reviewer shows what was wrong in config.toml in its status bar (stderr is the screen).
        let configuration = CLI.configuration(paths, printProblems: false)
        notices += configuration.problems
        guard let folder = source ?? configuration.source ?? CLI.defaultSource() else {
            throw CLIFailure("no source given and no samples/ folder found; pass a folder: lightbox DIR")
        }
        if let symbols, ImageCellMode.symbolNames[symbols] == nil {
            throw ValidationError("--symbols must be half, quad or sextant, not '\(symbols)'")
        }
        let chosenSymbols = ImageCellMode.symbolNames[symbols ?? configuration.symbols ?? "half"] ?? .halfBlock
        if let graphics, GraphicsChoice(rawValue: graphics) == nil {
            throw ValidationError("--graphics must be auto, kitty, sixel or cells, not '\(graphics)'")
        }
        let graphicsChoice = GraphicsChoice(rawValue: graphics ?? configuration.graphics ?? "auto") ?? .auto
        var keyMap = KeyMap.defaults
        notices += keyMap.rebind(configuration.keys)
        let chosenTheme: Theme
        do { chosenTheme = try ThemeLocator.load(theme ?? configuration.theme ?? "dark", paths: paths) } catch {
            if theme != nil { throw ValidationError("\(error)") }
            notices.append("\(error) — using the built-in dark theme")
            chosenTheme = .dark
        }
        let firstRunMarker = paths.dataDirectory + "/.first-run-notice-shown"
        if !FileManager.default.fileExists(atPath: firstRunMarker) {
            notices.insert("Research & triage tool: block-character images are far below diagnostic resolution. ? shows the keys.", at: 0)
            _ = FileManager.default.createFile(atPath: firstRunMarker, contents: Data())
        }

        let index = try SQLiteWorklistIndex(path: paths.indexDatabase)
        let studySource: any StudySource
        do { studySource = try SourceResolver.studySource(folder, paths: paths, configuration: configuration, index: index) } catch let error as PacsError {
            throw CLIFailure("\(error)")
        }
        // The models: a missing or broken model never stops the reviewer; the panel says "No model" and why.
        var analyser: FusedTriage?
        var modelProblem = "no model configured"
        do {
            let folders = try ModelLocator.loadAll(model, configured: configuration.models)
            analyser = try ModelLocator.analyser(folders, source: studySource, paths: paths, configuration: configuration)
        } catch {
            modelProblem = "\(error)"
            // Ahead of the first-run notice: the status bar shows one message.
            notices.insert("No model: \(error)", at: 0)
        }
        // The decision ledger: if it cannot open, the reviewer still works and says decisions cannot be saved.
        var ledger: (any DecisionStore)?
        var ledgerProblem: String?
        do { ledger = try LedgerLocator.open(paths, configuration: configuration).store } catch {
            ledgerProblem = "\(error)"
            notices.insert("Decisions cannot be saved: \(ledgerProblem!)", at: 0)
        }
        // Verdict SRs: read back from a PACS's studies, and sent to [pacs] push_verdicts.
        let (verdicts, verdictProblem) = PacsVerdictExchange.make(reading: studySource, analyser: analyser, ledger: ledger, paths: paths,
                                                                  configuration: configuration)
        if let verdictProblem { notices.insert(verdictProblem, at: 0) }
        let terminal: NcursesTerminal
        do { terminal = try NcursesTerminal(graphics: graphicsChoice) } catch {
            CLI.printError("\(error)")
            throw ExitCode(2)
        }
        let app = ReviewApplication(
            backend: terminal, source: studySource, heatmaps: studySource is FolderStudySource ? PlantedFindingsHeatmapSource(folder: folder) : nil, analyser: analyser,
            modelProblem: modelProblem, decisions: ledger, ledgerProblem: ledgerProblem,
            similar: analyser.flatMap { try? CaseBase(analyser: $0, source: studySource, paths: paths, configuration: configuration) },
            monitor: ledger.flatMap { ledger in
                (try? AnalysisStores.results(paths, configuration: configuration)).map {
                    MonitorService(store: $0, ledger: ledger, settings: MonitorService.settings(configuration))
                }
            },
            claims: ledger as? any StudyClaims,
            verdicts: verdicts,
            // Other systems' SEG, map and report objects beside each study's images (a folder's, a PACS cache's).
            externals: ExternalResultReader(),
            // A PACS's worklist is not all fetched to be analysed: a study is analysed when it is
            // opened, and the next two are fetched (and analysed) ahead unless [pacs] prefetch is off.
            analyseWorklist: studySource is FolderStudySource ? configuration.analyseWorklist : false,
            prefetchStudies: studySource is FolderStudySource || !configuration.pacsPrefetch ? 0 : 2,
            reader: LedgerLocator.reader(configuration), theme: chosenTheme, symbols: chosenSymbols,
            keyMap: keyMap, showIdentifiers: showIdentifiers || configuration.showIdentifiers,
            notice: notices.first, stopRequested: { terminal.stopSignal })
        let stoppedBy = app.run()
        terminal.stop()
        if app.workStillRunning && stoppedBy == nil {
            // A scan is still running: leave without tearing down libraries under it. The index
            // is SQLite in WAL mode; an interrupted scan resumes at the next start.
            _exit(0)
        }
        if let stoppedBy {
            // Die of the signal as the shell expects, now that the terminal is restored.
            signal(stoppedBy, SIG_DFL)
            raise(stoppedBy)
        }
    }
}
