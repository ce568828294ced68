import ArgumentParser
import DicomReading
import Foundation
import LightboxServices
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

    @Option(help: "The folder or PACS (DICOMweb URL, dicom://AET@host:port, or a [sources.NAME]) the study is in (default: the index of any folder scanned before, else config.toml's source, else the bundled samples).")
    var source: String?

    @Option(help: "A model folder (default: config.toml's models, else the bundled models/default).")
    var model: [String] = []

    @Option(help: "How many cases.")
    var count = 5

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let named = try ScriptedStudy.load(uid: study, folder: source, models: model, purpose: "similar cases need a model's embeddings")
        let cases = try CaseBase(analyser: named.analyser, source: named.source, paths: named.paths, configuration: named.configuration).similar(to: named.study, k: max(1, count))
        if json {
            struct Entry: Encodable { let studyInstanceUID: String; let similarity: Double; let label: String; let decision: String?; let date: String; let source: String; let summary: String }
            CLI.write(try CLI.json(cases.map { Entry(studyInstanceUID: $0.record.studyInstanceUID, similarity: $0.similarity, label: $0.record.label.rawValue,
                                                     decision: $0.record.decision, date: $0.record.date, source: $0.record.source.rawValue, summary: $0.record.summary) }))
            return
        }
        if cases.isEmpty {
            CLI.write("No other case in the case base for this model yet.\n")
            return
        }
        var lines = ["similarity  label     decision                   date        source     case"]
        for item in cases {
            let r = item.record
            func column(_ text: String, _ width: Int) -> String { text.padding(toLength: width, withPad: " ", startingAt: 0) }
            let columns: [String] = [String(format: "%10.3f", item.similarity), column(r.label.rawValue, 8), column(r.decision ?? "—", 25),
                                     column(r.date, 10), column(r.source.rawValue, 9), SafeText.sanitize(r.summary)]
            lines.append(columns.joined(separator: "  "))
        }
        CLI.write(lines.joined(separator: "\n") + "\n")
    }
}
