import ArgumentParser
import DicomReading
import Foundation
import LightboxServices
import Inference
import LightboxCore
import ReviewApp
import Store
import TerminalUI

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "model", abstract: "Model folders.", subcommands: [ModelInfo.self, ModelRecalibrate.self])
}

/// `lightbox model info`: the model card.
struct ModelInfo: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Print a model's card and its ONNX signature.")

    @Option(help: "A model folder (model.onnx + model.json); default: the bundled models/default.")
    var model: String?

    @Flag(help: "Print as JSON.")
    var json = false

    func run() throws {
        let folder: ModelFolder
        folder = try ModelLocator.load(model)
        // The card as written (metrics, data sources and failure modes included).
        let raw = (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder.path + "/model.json")))) as? [String: Any]
        if json {
            if let raw, let data = try? JSONSerialization.data(withJSONObject: raw, options: [.prettyPrinted, .sortedKeys]) {
                CLI.write(String(decoding: data, as: UTF8.self) + "\n")
            } else {
                CLI.write(try CLI.json(folder.card))
            }
            return
        }
        let card = folder.card
        let lines = [
            "Model          \(card.name) \(card.version)",
            "Folder         \(folder.path)",
            "Intended use   \(card.intendedUse)",
            "Modalities     \(card.modalities.joined(separator: ", "))",
            "Input          \(card.input.name): \(card.input.channels)×\(card.input.height)×\(card.input.width)",
            "ONNX inputs    " + folder.network.inputs.map { "\($0.name) \($0.shape)" }.joined(separator: ", "),
            "ONNX outputs   " + folder.network.outputs.map { "\($0.name) \($0.shape)" }.joined(separator: ", "),
            "Calibration    \(card.calibration.map { "\($0.method)" } ?? "none")",
            "Tiers          High ≥ \(card.tiers?.high ?? 0.9), Medium ≥ \(card.tiers?.medium ?? 0.7), else Review",
        ] + Self.measured(raw) + ["Research and triage tool; not a diagnosis."]
        CLI.write(lines.joined(separator: "\n") + "\n")
    }

    /// The card's held-out figures and failure modes, when it records them.
    static func measured(_ raw: [String: Any]?) -> [String] {
        guard let metrics = raw?["metrics"] as? [String: Any], let held = (metrics["heldOut"] as? [String: Any])?["all"] as? [String: Any] else { return [] }
        func triple(_ key: String) -> String {
            guard let values = held[key] as? [Double], values.count == 3 else { return "—" }
            return String(format: "%.3f (95%% CI %.3f–%.3f)", values[0], values[1], values[2])
        }
        var lines = ["Held-out       image AUROC \(triple("imageAUROC")), pixel AUROC \(triple("pixelAUROC")), ECE \(triple("ECE"))",
                     "               (held-out anatomy, held-out anomaly types; details in CARD.md beside the model)"]
        for mode in (raw?["knownFailureModes"] as? [String]) ?? [] { lines.append("Failure mode   " + mode) }
        return lines
    }
}

/// `lightbox model recalibrate`: a calibration refitted on the readers' verdicts, in a new folder.
struct ModelRecalibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recalibrate",
        abstract: "Refit a model's calibration on the labels the readers' verdicts imply; writes a new model folder version beside the old one.")

    @Option(help: "The model folder (default: the bundled models/default).")
    var model: String?

    @Option(help: "Only verdicts on or after this day (YYYY-MM-DD).")
    var since: String?

    @Option(help: "temperature (one parameter, the default) or platt (slope and offset).")
    var method = "temperature"

    @Option(help: "The fewest labelled studies to fit on and measure with.")
    var minimum = 200

    func validate() throws {
        if Recalibration.Method(rawValue: method) == nil { throw ValidationError("--method takes temperature or platt") }
        if let since { _ = try Monitor.day(since, option: "--since") }
    }

    func run() throws {
        let paths = AppPaths()
        try paths.ensureDataDirectory()
        let folder = try ModelLocator.load(model)
        let service = try MonitorService.open(paths, configuration: CLI.configuration(paths))
        let outcome = try ModelRecalibrator.run(folder, store: service.store, ledger: service.ledger, method: Recalibration.Method(rawValue: method)!,
                                                since: try since.map { try Monitor.day($0, option: "--since") }, minimum: minimum)
        let r = outcome.result
        CLI.write(String(format: """
            New model version %@@%@ in %@
              fitted on %d labelled studies (ledger decisions %d–%d); measured on the %d later ones:
              ECE before %.3f (95%% CI %.3f–%.3f), after %.3f (95%% CI %.3f–%.3f)
            It is used only when config.toml names it: models = ["%@"]  (recorded in the audit log)

            """, folder.card.name, outcome.version, outcome.folder, r.fitted, r.firstSequence, r.lastSequence, r.heldOut,
            r.eceBefore.value, r.eceBefore.low, r.eceBefore.high, r.eceAfter.value, r.eceAfter.low, r.eceAfter.high, outcome.folder))
    }
}

/// `lightbox triage SOURCE`: run the model over a worklist and rank it.
struct Triage: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the model over a folder's studies, cache the results and print them most suspicious first.")

    @Argument(help: "A folder of DICOM files, a DICOMweb URL, dicom://CALLED_AET@host:port, or a [sources.NAME] of config.toml (studies are retrieved into the cache).")
    var source: String

    @Option(help: "A model folder (repeat to fuse several; default: config.toml's models, else the bundled models/default).")
    var model: [String] = []

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(help: "Print CSV.")
    var csv = false

    func validate() throws {
        if json && csv { throw ValidationError("choose one of --json and --csv") }
    }

    func run() throws {
        let paths = AppPaths()
        try paths.ensureDataDirectory()
        let configuration = CLI.configuration(paths)
        let folders: [ModelFolder]
        folders = try ModelLocator.loadAll(model, configured: configuration.models)
        let studySource: any StudySource
        do {
            studySource = try SourceResolver.studySource(source, paths: paths, configuration: configuration,
                                                         index: try SQLiteWorklistIndex(path: paths.indexDatabase))
        } catch let error as PacsError { throw CLIFailure("\(error)") }
        let (studies, _) = try studySource.loadStudies(progress: nil)
        let triage = try ModelLocator.analyser(folders, source: studySource, paths: paths, configuration: configuration)
        let progress = ProgressReporter(label: "Triage")
        var results: [(Study, StudyResult)] = []
        for (index, study) in studies.enumerated() {
            do {
                results.append((study, try triage.analyse(study)))
            } catch {
                CLI.printError("\(study.studyInstanceUID): \(error)")
            }
            progress.update(index + 1, of: studies.count)
        }
        // Most suspicious first, as the reviewer's worklist orders them.
        results = PriorityOrder.sorted(results) { $0.1 }
        if json {
            CLI.write(try CLI.json(results.map(\.1)))
        } else if csv {
            var lines = ["studyInstanceUID,probability,tier,findings,model,modelVersion,reason"]
            for (_, result) in results {
                lines.append([result.studyInstanceUID, String(format: "%.4f", result.probability), result.tier.rawValue,
                              String(result.findings.count), result.model, result.modelVersion,
                              "\"" + (result.reason ?? "").replacingOccurrences(of: "\"", with: "\"\"") + "\""].joined(separator: ","))
            }
            CLI.write(lines.joined(separator: "\n") + "\n")
        } else {
            var lines = ["Model \(triage.models.joined(separator: " + ")) — research and triage tool, not a diagnosis"]
            for (study, result) in results {
                let symbol = result.tier.symbol(unicode: CLI.unicodeOutput)
                let probability = result.imagesAnalysed == 0 ? "    —" : String(format: "%5.1f%%", result.probability * 100)
                lines.append(String(format: "%@  %@ %@  %@  %@  %d finding(s)%@", probability, symbol, result.tier.label,
                                    SafeText.sanitize(study.header.modality), SafeText.sanitize(study.header.studyDescription),
                                    result.findings.count, result.reason.map { "  (\($0))" } ?? ""))
            }
            CLI.write(lines.joined(separator: "\n") + "\n")
        }
    }
}
