import ArgumentParser
import DicomReading
import Foundation
import LightboxServices
import LightboxCore
import Store
import TerminalUI

/// `lightbox-benchmark`: the figures of each part, with a peer measured in the same run.
@main
struct Benchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lightbox-benchmark",
        abstract: "Measure scanning and file-to-frame speed (tools/benchmark.sh adds the dcm2pnm + chafa peer).",
        discussion: "Writes synthetic 512×512 CT instances to a temporary folder (kept when --workdir is given), scans it cold and warm, then times file → 160×48 half-block frame in process.")

    /// Which figures to measure.
    enum Suite: String, ExpressibleByArgument, CaseIterable {
        case foundation, reviewer, triage, similar, decisions, worklist, picture, monitor, department, pacs, external
        /// One measurement of `worklist` in its own process (started by it).
        case worklistOpen = "worklist-open"
        /// The memory figure of `reviewer` in its own process (started by it).
        case reviewerMemory = "reviewer-memory"
    }

    @Argument(help: "foundation (scan, file to frame), reviewer (scrolling, bytes per step, memory), triage (slices per second beside a Python peer), similar (top-5 search beside faiss), decisions (ledger commits per second), picture (frame time by zoom and symbol mode, picture error by mode, bytes per frame for cells, Kitty and Sixel), worklist (open time, memory and key to frame at --studies sizes), monitor (lightbox monitor over --monitor-studies and --verdicts beside Evidently, and the control scenario's false-alarm rate), department (decisions per second into a PostgreSQL ledger with 1, 8 and 32 writers beside SQLite, verify of 100,000 rows; run under pg_virtualenv) or pacs (a worklist of --pacs-studies and a 300-slice CT from an Orthanc started on loopback, by QIDO-RS/WADO-RS and C-FIND/C-GET, beside curl, findscu, getscu and, with --python, dicomweb-client) or external (a 300-frame SEG and a 100-group SR read and placed, beside highdicom; needs --python with highdicom).")
    var suite: Suite = .foundation

    @Option(help: "Instances to write and scan.")
    var instances = 1000

    @Option(help: "worklist: worklist sizes, comma-separated.")
    var studies = "10000,100000"

    @Flag(help: .hidden)
    var busy = false

    @Option(help: "pacs: small studies in Orthanc beside the 300-slice CT.")
    var pacsStudies = 10_000

    @Option(help: "monitor: analysed studies recorded.")
    var monitorStudies = 100_000

    @Option(help: "monitor: verdicts in the ledger.")
    var verdicts = 10_000

    @Option(help: "Repetitions of each frame measurement.")
    var repeats = 30

    @Option(help: "Working folder (default: a new temporary folder, removed afterwards).")
    var workdir: String?

    @Option(help: "triage: the model folder (default: the bundled models/default).")
    var model: String?

    @Option(help: "triage: a Python with pydicom, numpy and onnxruntime, to run tools/triage_peer.py beside Lightbox.")
    var python: String?

    func validate() throws {
        if instances < 1 || repeats < 1 { throw ValidationError("--instances and --repeats must be at least 1") }
    }

    func run() throws {
        let folder = workdir ?? NSTemporaryDirectory() + "lightbox-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder + "/dicom", withIntermediateDirectories: true)
        defer { if workdir == nil { try? FileManager.default.removeItem(atPath: folder) } }
        switch suite {
        case .worklist:
            let counts = studies.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !counts.isEmpty, counts.allSatisfy({ $0 > 0 }) else { throw ValidationError("--studies takes sizes such as 10000,100000") }
            try WorklistBenchmark(folder: folder, counts: counts, modelPath: model).run()
        case .worklistOpen: try WorklistOpenMeasurement(folder: folder, count: instances, busy: busy, modelPath: model).run()
        case .reviewerMemory: try ReviewerBenchmark(folder: folder, repeats: repeats).runMemory()
        case .reviewer: try ReviewerBenchmark(folder: folder, repeats: repeats).run()
        case .picture: try PictureBenchmark(folder: folder).run()
        case .similar: try SimilarBenchmark(folder: folder, python: python).run()
        case .decisions: try DecisionBenchmark(folder: folder).run()
        case .department: try DepartmentBenchmark(folder: folder).run()
        case .pacs: try PacsBenchmark(folder: folder, studies: pacsStudies, python: python).run()
        case .external: try ExternalBenchmark(folder: folder, python: python).run()
        case .monitor: try MonitorBenchmark(folder: folder, studies: monitorStudies, verdicts: verdicts, python: python).run()
        case .triage: try TriageBenchmark(folder: folder, modelPath: model, python: python, repeats: min(repeats, 5)).run()
        case .foundation:
            // 1. Instances: 512×512 CT slices, 100 per series.
            let writeStart = Date()
            try Self.writeSeries(to: folder + "/dicom", count: instances, perSeries: 100)
            let writeSeconds = Date().timeIntervalSince(writeStart)
            try measureFoundation(folder: folder, writeSeconds: writeSeconds)
        }
    }

    /// Writes `count` synthetic 512×512 CT instances (`perSeries` per series, 500 per study).
    static func writeSeries(to folder: String, count: Int, perSeries: Int) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var random = SeededRandom(seed: 42)
        let slice = SampleGenerator.chestSlice(size: 512, spacing: 0.7, z: 40,
                                               lesions: [(x: 180, y: 240, z: 40, r: 6)], random: &random)
        let stored = slice.map { Int32(min(max(($0 + 1024).rounded(), 0), 4095)) }
        for index in 0..<count {
            var header = ImageHeader()
            header.sopClassUID = "1.2.840.10008.5.1.4.1.1.2"
            header.studyInstanceUID = "2.25.\(900_000 + index / 500)"
            header.seriesInstanceUID = "2.25.\(800_000 + index / perSeries)"
            header.sopInstanceUID = "2.25.\(700_000_000 + index)"
            header.modality = "CT"
            header.patientName = "BENCH^\(index / 500)"
            header.patientID = "B\(index / 500)"
            header.studyDate = "20260101"
            header.rows = 512; header.columns = 512
            header.bitsAllocated = 16; header.bitsStored = 12; header.highBit = 11
            header.photometricInterpretation = "MONOCHROME2"
            header.pixelSpacing = [0.7, 0.7]
            header.imageOrientationPatient = [1, 0, 0, 0, 1, 0]
            header.imagePositionPatient = [-179, -179, Double(index % perSeries) * 2.5]
            header.instanceNumber = index % perSeries + 1
            header.rescaleIntercept = -1024
            header.windowCenters = [-600]; header.windowWidths = [1500]
            // Every slice differs (the phantom shifted a little), as neighbouring slices do.
            let shift = (index % perSeries) % 48
            let shifted = (0..<stored.count).map { stored[($0 / 512) * 512 + (($0 % 512) + shift) % 512] }
            try SyntheticInstance(header: header, storedValues: shifted)
                .write(to: String(format: "%@/%05d.dcm", folder, index), syntax: .explicitLittleEndian)
        }
    }

    func measureFoundation(folder: String, writeSeconds: Double) throws {
        // 2. Scan cold, then again with nothing changed.
        let index = try SQLiteWorklistIndex(path: folder + "/index.sqlite")
        let indexer = FolderIndexer(reader: DcmtkInstanceReader(), index: index)
        let coldStart = Date()
        let cold = try indexer.scan(root: folder + "/dicom")
        let coldSeconds = Date().timeIntervalSince(coldStart)
        let warmStart = Date()
        let warm = try indexer.scan(root: folder + "/dicom")
        let warmSeconds = Date().timeIntervalSince(warmStart)

        // 3. File → 160×48 half-block frame, in process.
        let file = folder + "/dicom/00000.dcm"
        var inProcess: [Double] = [], decodeTimes: [Double] = [], renderTimes: [Double] = [], rasterTimes: [Double] = []
        var frameBytes = 0
        for _ in 0..<repeats {
            let start = DispatchTime.now()
            let image = try DicomFile.open(file).decode()
            let text = FrameRendering.halfBlocks(image, window: WindowPreset.initialWindow(for: image), columns: 160, rows: 48)
            inProcess.append(Self.milliseconds(since: start))
            frameBytes = text.utf8.count
            // The same steps one by one: where the time goes.
            let stepStart = DispatchTime.now()
            let decoded = try DicomFile.open(file).decode()
            decodeTimes.append(Self.milliseconds(since: stepStart))
            let renderStart = DispatchTime.now()
            let window = WindowPreset.initialWindow(for: decoded)
            let size = GridFit.fitCells(width: decoded.width, height: decoded.height, pixelAspect: decoded.header.pixelAspectRatio, columns: 160, rows: 48)
            let picture = SliceRenderer.render(decoded, window: window, targetWidth: size.width, targetHeight: size.height)
            renderTimes.append(Self.milliseconds(since: renderStart))
            let rasterStart = DispatchTime.now()
            _ = HalfBlockRaster.ansi24(picture)
            rasterTimes.append(Self.milliseconds(since: rasterStart))
        }

        let lines = [
            "Lightbox benchmark — \(ProcessInfo.processInfo.activeProcessorCount) cores",
            String(format: "write %d instances (512×512 CT, explicit LE): %.2f s", instances, writeSeconds),
            String(format: "scan %d instances, cold index:  %.3f s (%.0f instances/s; %d studies, %d series)",
                   cold.summary.filesSeen, coldSeconds, Double(cold.summary.filesSeen) / coldSeconds, cold.summary.studies, cold.summary.series),
            String(format: "rescan, nothing changed:        %.3f s (%d files read)", warmSeconds, warm.summary.filesRead),
            "file → 160×48 half-block frame, 512×512 CT, \(repeats) runs (median / p95):",
            String(format: "  lightbox, in process:         %7.2f ms / %7.2f ms  (%d bytes of output)",
                   Self.percentile(inProcess, 0.5), Self.percentile(inProcess, 0.95), frameBytes),
            String(format: "    of which open + decode %.2f ms, window + reduce %.2f ms, half blocks %.2f ms (medians)",
                   Self.percentile(decodeTimes, 0.5), Self.percentile(renderTimes, 0.5), Self.percentile(rasterTimes, 0.5)),
        ]
        CLI.write(lines.joined(separator: "\n") + "\n")
    }

    static func milliseconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
    }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
    }
}
