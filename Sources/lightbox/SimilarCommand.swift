import ArgumentParser
import DicomReading
import Foundation
import Inference
import LightboxCore
import ReviewApp
import Store

/// `lightbox similar STUDY`: the five cases nearest to a study in the model's embedding space.
struct Similar: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The 5 cases most similar to a study (cosine similarity of the model's embeddings): bundled reference cases and studies decided here.")

    @Argument(help: "The Study Instance UID.")
    var study: String

    @Option(help: "The folder the study is in (default: config.toml's source, else the bundled samples).")
    var source: String?

    @Option(help: "A model folder (default: config.toml's models, else the bundled models/default).")
    var model: [String] = []

    @Option(help: "How many cases.")
    var count = 5

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let paths = AppPaths()
        try paths.ensureDataDirectory()
        var configuration = Configuration()
        do { configuration = try Configuration.load(path: paths.configDirectory + "/config.toml") } catch { CLIFailure("\(error)").exit() }
        guard let folder = source ?? configuration.source ?? CLI.defaultSource() else { CLIFailure("no source: pass --source DIR").exit() }
        let studySource = FolderStudySource(root: FolderIndexer.normalized(folder), index: try SQLiteWorklistIndex(path: paths.indexDatabase))
        guard let target = try studySource.loadStudies(progress: nil).studies.first(where: { $0.studyInstanceUID == study }) else {
            CLIFailure("\(study): no such study in \(folder)").exit()
        }
        let folders: [ModelFolder]
        do { folders = try ModelLocator.loadAll(model, configured: configuration.models) } catch let failure as CLIFailure {
            CLIFailure("similar cases need a model's embeddings: \(failure.description)").exit()
        }
        let analyser = try ModelLocator.analyser(folders, source: studySource, paths: paths, fusionTemperature: configuration.fusionTemperature)
        let cases = try CaseBase(analyser: analyser, source: studySource, paths: paths).similar(to: target, k: max(1, count))
        if json {
            struct Entry: Encodable { let studyInstanceUID: String; let similarity: Double; let label: String; let decision: String?; let date: String; let source: String; let summary: String }
            CLI.write(try CLI.json(cases.map { Entry(studyInstanceUID: $0.record.studyInstanceUID, similarity: $0.similarity, label: $0.record.label,
                                                     decision: $0.record.decision, date: $0.record.date, source: $0.record.source, summary: $0.record.summary) }))
            return
        }
        if cases.isEmpty {
            CLI.write("No other case in the case base for this model yet.\n")
            return
        }
        var lines = ["similarity  label     decision                   date        source     case"]
        for item in cases {
            let r = item.record
            lines.append(String(format: "%10.3f  ", item.similarity) + r.label.padding(toLength: 8, withPad: " ", startingAt: 0) + "  "
                         + (r.decision ?? "—").padding(toLength: 25, withPad: " ", startingAt: 0) + "  " + r.date.padding(toLength: 10, withPad: " ", startingAt: 0)
                         + "  " + r.source.padding(toLength: 9, withPad: " ", startingAt: 0) + "  " + SafeText.sanitize(r.summary))
        }
        CLI.write(lines.joined(separator: "\n") + "\n")
    }
}
