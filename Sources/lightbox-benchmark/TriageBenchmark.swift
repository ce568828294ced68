import DicomReading
import Foundation
import LightboxServices
import Inference
import LightboxCore
import Store

/// `lightbox-benchmark triage`: slices per second end to end (decode, preprocess, infer, store)
/// on a 100-slice 512×512 CT series, beside tools/triage_peer.py (pydicom + onnxruntime on the same
/// ONNX file and the same files) when a Python with those packages is given.
struct TriageBenchmark {
    let folder: String
    let modelPath: String?
    let python: String?
    let repeats: Int

    func run() throws {
        let series = folder + "/ct100"
        try Benchmark.writeSeries(to: series, count: 100, perSeries: 100)
        let model = try ModelLocator.load(modelPath)
        var lines = ["Lightbox triage benchmark — \(ProcessInfo.processInfo.activeProcessorCount) cores, 100-slice 512×512 CT, "
            + "model \(model.card.name) \(model.card.version) (\(model.card.input.width)×\(model.card.input.height) input)"]

        var rates: [Double] = []
        for round in 0..<repeats {
            // A fresh index and result cache each round, so every slice is decoded, inferred and stored.
            let index = try SQLiteWorklistIndex(path: "\(folder)/index-\(round).sqlite")
            let source = FolderStudySource(root: series, index: index)
            let (studies, _) = try source.loadStudies(progress: nil)
            let cache = try SQLiteResultCache(path: "\(folder)/results-\(round).sqlite")
            let triage = StudyTriage(source: source, detector: OnnxFindingDetector(folder: model), cache: cache, settings: model.triageSettings)
            let start = DispatchTime.now()
            var analysed = 0
            for study in studies { analysed += try triage.run(study).imagesAnalysed }
            let seconds = Benchmark.milliseconds(since: start) / 1000
            rates.append(Double(analysed) / seconds)
        }
        lines.append(String(format: "lightbox (DCMTK + OpenCV DNN + SQLite), %d rounds: median %.1f slices/s (best %.1f)",
                            repeats, Benchmark.percentile(rates, 0.5), rates.max() ?? 0))
        if let python {
            let peer = try runPeer(python: python, series: series, model: model.path)
            lines.append(String(format: "python peer (pydicom + onnxruntime + sqlite3), %d rounds: median %.1f slices/s (best %.1f)",
                                repeats, peer.median, peer.best))
            lines.append(String(format: "ratio lightbox / python peer (medians): %.2fx", Benchmark.percentile(rates, 0.5) / peer.median))
        } else {
            lines.append("python peer: not run (pass --python PATH to a Python with pydicom, numpy and onnxruntime; make bench does)")
        }
        print(lines.joined(separator: "\n"))
    }

    private func runPeer(python: String, series: String, model: String) throws -> (median: Double, best: Double) {
        guard let script = CLI.bundledCandidates("tools/triage_peer.py").first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw CLIFailure("tools/triage_peer.py not found beside the program")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, series, model, "--repeats", String(repeats), "--workdir", folder]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CLIFailure("python peer failed (exit \(process.terminationStatus)): \(output)") }
        var median = 0.0, best = 0.0
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: "=")
            guard parts.count == 2, let value = Double(parts[1]) else { continue }
            if parts[0] == "median_slices_per_second" { median = value }
            if parts[0] == "best_slices_per_second" { best = value }
        }
        guard median > 0 else { throw CLIFailure("python peer printed no figure: \(output)") }
        return (median, best)
    }
}
