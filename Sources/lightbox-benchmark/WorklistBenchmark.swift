import DicomReading
import Foundation
import LightboxServices
import Inference
import LightboxCore
import ReviewApp
import Store
import TerminalUI

/// The worklist at department scale: folders of N single-image studies (written once, kept in
/// the working folder), indexed; then, in a fresh process each, the open time (index to first
/// frame), resident memory, and key-to-frame times while idle and while the model analyses the
/// worklist in the background.
struct WorklistBenchmark {
    let folder: String
    let counts: [Int]
    let modelPath: String?

    func run() throws {
        var lines = ["Lightbox worklist benchmark — \(ProcessInfo.processInfo.activeProcessorCount) cores, single-image 64×64 studies, 160×48 cells"]
        for count in counts {
            let dicom = "\(folder)/worklist-\(count)"
            let written = dicom + "/.complete"
            if !FileManager.default.fileExists(atPath: written) {
                let start = Date()
                try Self.writeStudies(count, to: dicom)
                _ = FileManager.default.createFile(atPath: written, contents: Data())
                lines.append(String(format: "%d studies: written in %.1f s", count, Date().timeIntervalSince(start)))
            }
            let index = try SQLiteWorklistIndex(path: "\(folder)/index-\(count).sqlite")
            let start = Date()
            let worklist = try FolderStudySource(root: dicom, index: index).loadWorklist(progress: nil)
            lines.append(String(format: "%d studies: indexed in %.1f s (%d studies, %d files could not be read)", count,
                                Date().timeIntervalSince(start), worklist.studies.count, worklist.problems.count))
            CLI.write(lines.joined(separator: "\n") + "\n")
            lines = []
            // Measured in a fresh process, so memory is the reviewer's alone.
            for busy in [false, true] {
                let child = Process()
                child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
                child.arguments = ["worklist-open", "--workdir", folder, "--instances", String(count)]
                    + (busy ? ["--busy"] : []) + (modelPath.map { ["--model", $0] } ?? [])
                try child.run()
                child.waitUntilExit()
                guard child.terminationStatus == 0 else { throw CLIFailure("the measuring process failed (\(child.terminationStatus))") }
            }
        }
    }

    /// `count` studies of one 64×64 image each, in folders of 1,000 files.
    static func writeStudies(_ count: Int, to folder: String) throws {
        var random = SeededRandom(seed: 7)
        let modalities = ["CT", "MR", "CR", "CT", "DX"]
        for index in 0..<count {
            if index % 1000 == 0 {
                try FileManager.default.createDirectory(atPath: "\(folder)/\(index / 1000)", withIntermediateDirectories: true)
            }
            var header = ImageHeader()
            header.sopClassUID = "1.2.840.10008.5.1.4.1.1.7"
            header.studyInstanceUID = "2.25.\(500_000_000 + index)"
            header.seriesInstanceUID = "2.25.\(600_000_000 + index)"
            header.sopInstanceUID = "2.25.\(700_000_000 + index)"
            header.modality = modalities[index % modalities.count]
            header.patientName = "BENCH^\(index % 997)"
            header.patientID = "B\(index)"
            header.accessionNumber = "A\(index)"
            header.studyDate = String(format: "2026%02d%02d", 1 + index % 12, 1 + index % 28)
            header.studyDescription = "\(header.modality) STUDY \(index % 50)"
            header.seriesDescription = "SERIES \(index % 7)"
            header.rows = 64; header.columns = 64
            header.bitsAllocated = 16; header.bitsStored = 12; header.highBit = 11
            header.photometricInterpretation = "MONOCHROME2"
            header.pixelSpacing = [2, 2]
            header.instanceNumber = 1
            let stored = (0..<4096).map { pixel -> Int32 in
                let x = Double(pixel % 64) - 32, y = Double(pixel / 64) - 32
                return Int32(max(0, 1500 - (x * x + y * y) * 1.2) + random.uniform() * 60)
            }
            try SyntheticInstance(header: header, storedValues: stored)
                .write(to: String(format: "%@/%d/%06d.dcm", folder, index / 1000, index), syntax: .explicitLittleEndian)
        }
    }
}

/// One measurement in its own process: open the indexed worklist in the reviewer (on a virtual
/// terminal), then press `j` 300 times, idle or with the models analysing the worklist.
struct WorklistOpenMeasurement {
    let folder: String
    let count: Int
    let busy: Bool
    let modelPath: String?

    func run() throws {
        let dicom = "\(folder)/worklist-\(count)"
        let before = ReviewerBenchmark.residentMegabytes()
        let start = DispatchTime.now()
        let index = try SQLiteWorklistIndex(path: "\(folder)/index-\(count).sqlite")
        let source = FolderStudySource(root: FolderIndexer.normalized(dicom), index: index)
        var analyser: FusedTriage?
        if busy {
            let model = try ModelLocator.load(modelPath)
            let cache = try SQLiteResultCache(path: "\(folder)/results-\(count)-\(getpid()).sqlite")
            analyser = FusedTriage(triages: [StudyTriage(source: source, detector: OnnxFindingDetector(folder: model), cache: cache,
                                                         settings: model.triageSettings)], cache: cache)
        }
        defer { try? FileManager.default.removeItem(atPath: "\(folder)/results-\(count)-\(getpid()).sqlite") }
        let terminal = VirtualTerminal(width: 160, height: 48)
        let app = ReviewApplication(backend: terminal, source: source, heatmaps: nil, analyser: analyser, theme: .dark)
        app.apply(.worklistLoaded(try source.loadWorklist(progress: nil)))
        terminal.present(app.frame())
        let openMilliseconds = Benchmark.milliseconds(since: start)
        let opened = ReviewerBenchmark.residentMegabytes()
        var times: [Double] = []
        var analysed = app.state.results.count
        for step in 0..<300 {
            let pressed = DispatchTime.now()
            app.apply(.key(.down, at: Double(step)))
            terminal.present(app.frame())
            times.append(Benchmark.milliseconds(since: pressed))
            // A reader's pace: the analysis keeps running between presses.
            if busy { Thread.sleep(forTimeInterval: 0.01) }
        }
        analysed = app.state.results.count - analysed
        _ = app.shutdown(seconds: 30)
        let label = busy ? "while the model analyses (\(analysed) results arrived during the presses)" : "idle"
        var lines = [String(format: "%d studies, %@: key → frame median %.2f ms, p95 %.2f ms, max %.2f ms", count, label,
                            Benchmark.percentile(times, 0.5), Benchmark.percentile(times, 0.95), times.max() ?? 0)]
        if !busy {
            lines.append(String(format: "%d studies: open (index → first frame) %.2f s; resident memory %d MB before, %d MB open, peak %d MB",
                                count, openMilliseconds / 1000, before, opened, ReviewerBenchmark.peakMegabytes()))
        }
        CLI.write(lines.joined(separator: "\n") + "\n")
    }
}
