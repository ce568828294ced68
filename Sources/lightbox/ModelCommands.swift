import ArgumentParser
import DicomReading
import Foundation
import Inference
import LightboxCore
import Store
import TerminalUI

/// Where model folders come from: --model DIR, else models/default beside the program or here.
enum ModelLocator {
    static func folder(_ explicit: String?) throws -> String {
        if let explicit { return explicit }
        guard let found = CLI.bundledCandidates("models/default").first(where: { FileManager.default.fileExists(atPath: $0 + "/model.json") }) else {
            throw CLIFailure("no model: this build ships no default model yet (models/default); pass --model DIR with a model folder (model.onnx + model.json)")
        }
        return found
    }

    static func load(_ explicit: String?) throws -> ModelFolder {
        let path = try folder(explicit)
        do { return try ModelFolder(path: path) } catch { throw CLIFailure(error.description) }
    }
}

/// `lightbox model …`
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "model", abstract: "Model folders.", subcommands: [ModelInfo.self])
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
        do { folder = try ModelLocator.load(model) } catch let failure as CLIFailure { failure.exit() }
        if json {
            CLI.write(try CLI.json(folder.card))
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
            "Research and triage tool; not a diagnosis.",
        ]
        CLI.write(lines.joined(separator: "\n") + "\n")
    }
}

/// `lightbox triage SOURCE`: run the model over a worklist and rank it.
struct Triage: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the model over a folder's studies, cache the results and print them most suspicious first.")

    @Argument(help: "A folder of DICOM files.")
    var source: String

    @Option(help: "A model folder (default: the bundled models/default).")
    var model: String?

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(help: "Print CSV.")
    var csv = false

    func validate() throws {
        if json && csv { throw ValidationError("choose one of --json and --csv") }
    }

    func run() throws {
        let folder: ModelFolder
        do { folder = try ModelLocator.load(model) } catch let failure as CLIFailure { failure.exit() }
        let paths = AppPaths()
        try paths.ensureDataDirectory()
        guard FileManager.default.fileExists(atPath: source) else { CLIFailure("\(source): no such file or folder").exit() }
        let studySource = FolderStudySource(root: FolderIndexer.normalized(source), index: try SQLiteWorklistIndex(path: paths.indexDatabase))
        let (studies, _) = try studySource.loadStudies(progress: nil)
        let triage = StudyTriage(source: studySource, detector: OnnxFindingDetector(folder: folder),
                                 cache: try SQLiteResultCache(path: paths.dataDirectory + "/results.sqlite"), settings: folder.triageSettings)
        let progress = ProgressReporter(label: "Triage")
        var results: [(Study, StudyResult)] = []
        for (index, study) in studies.enumerated() {
            do {
                results.append((study, try triage.run(study)))
            } catch {
                CLI.printError("\(study.studyInstanceUID): \(error)")
            }
            progress.update(index + 1, of: studies.count)
        }
        results.sort { $0.1.probability > $1.1.probability }
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
            var lines = ["Model \(folder.card.name) \(folder.card.version) — research and triage tool, not a diagnosis"]
            for (study, result) in results {
                let symbol = result.tier == .high ? "●" : (result.tier == .medium ? "◐" : "○")
                let probability = result.imagesAnalysed == 0 ? "    —" : String(format: "%5.1f%%", result.probability * 100)
                lines.append(String(format: "%@  %@ %@  %@  %@  %d finding(s)%@", probability, symbol, result.tier.label,
                                    SafeText.sanitize(study.header.modality), SafeText.sanitize(study.header.studyDescription),
                                    result.findings.count, result.reason.map { "  (\($0))" } ?? ""))
            }
            CLI.write(lines.joined(separator: "\n") + "\n")
        }
    }
}
