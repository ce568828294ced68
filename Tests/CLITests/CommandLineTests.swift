import DicomReading
import Foundation
import Testing
import TestSupport

/// The built `lightbox` binary, run as a user would: exit codes, stderr naming the file, output.
struct CommandLineTests {
    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static let binary: String = {
        // The test bundle sits in the build folder beside the executable.
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [folder, folder.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("lightbox").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return Fixtures.repositoryRoot + "/.build/debug/lightbox"
    }()

    func run(_ arguments: [String], home: TemporaryFolder) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["LIGHTBOX_HOME"] = home.path
        environment["COLUMNS"] = "80"
        environment["LINES"] = "24"
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                   stderr: String(decoding: stderr, as: UTF8.self))
    }

    @Test func infoOnAGoodFileMasksIdentifiers() throws {
        let home = TemporaryFolder("home")
        let result = try run(["info", Fixtures.samples + "/chest-ct/IM0001.dcm"], home: home)
        #expect(result.status == 0)
        #expect(result.stdout.contains("decode ok"))
        #expect(!result.stdout.contains("PHANTOM"))
        let json = try run(["info", "--json", Fixtures.samples + "/brain-mr/MR0001.dcm"], home: home)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["pixels"] as? String == "ok")
        #expect(object?["transferSyntaxUID"] as? String == "1.2.840.10008.1.2.4.80")
    }

    @Test func infoOnABadFileNamesItAndExitsOne() throws {
        let home = TemporaryFolder("home")
        let bad = home.file("broken.dcm")
        try "not dicom at all, just text".write(toFile: bad, atomically: true, encoding: .utf8)
        let result = try run(["info", bad], home: home)
        #expect(result.status == 1)
        #expect(result.stderr.contains(bad))
        #expect(result.stderr.contains("not a DICOM file"))
    }

    @Test func infoOnAnImageWithoutPixelDataExitsOneAndAReportExitsZero() throws {
        let home = TemporaryFolder("home"), objects = TemporaryFolder("objects")
        let ct = try DicomObjectWriter()
        try ct.set(0x0008, 0x0016, "1.2.840.10008.5.1.4.1.1.2")  // CT Image Storage
        try ct.set(0x0008, 0x0018, "2.25.1234")
        try ct.set(0x0008, 0x0060, "CT")
        try ct.save(to: objects.file("ct-without-pixels.dcm"), syntax: .explicitLittleEndian)
        let image = try run(["info", objects.file("ct-without-pixels.dcm")], home: home)
        #expect(image.status == 1)
        #expect(image.stderr.contains(objects.file("ct-without-pixels.dcm") + ": no pixel data"), "\(image.stderr)")
        let report = try DicomObjectWriter()
        try report.set(0x0008, 0x0016, "1.2.840.10008.5.1.4.1.1.88.22")  // Enhanced SR
        try report.set(0x0008, 0x0018, "2.25.1235")
        try report.save(to: objects.file("report.dcm"), syntax: .explicitLittleEndian)
        let sr = try run(["info", objects.file("report.dcm")], home: home)
        #expect(sr.status == 0 && sr.stderr.isEmpty, "\(sr.stderr)")
        #expect(sr.stdout.contains("no pixel data"))
        // The scanner counts the broken image as a failure, the report as a quiet skip.
        let scan = try run(["scan", "--json", objects.path], home: home)
        let summary = try JSONSerialization.jsonObject(with: Data(scan.stdout.utf8)) as? [String: Any]
        #expect((summary?["errorsByReason"] as? [String: Int])?["no pixel data"] == 1, "\(scan.stdout)")
        #expect(summary?["skipped"] as? Int == 1, "\(scan.stdout)")
    }

    @Test func negativeWindowsParseWithASpaceOrAnEqualsSign() throws {
        let home = TemporaryFolder("home")
        let file = Fixtures.samples + "/chest-ct/IM0010.dcm"
        let spaced = try run(["render", file, "--window", "-600,1500", "--png", home.file("a.png")], home: home)
        let joined = try run(["render", file, "--window=-600,1500", "--png", home.file("b.png")], home: home)
        let preset = try run(["render", file, "--window", "lung", "--png", home.file("c.png")], home: home)
        #expect(spaced.status == 0 && joined.status == 0 && preset.status == 0, "\(spaced.stderr) \(joined.stderr)")
        let a = try Data(contentsOf: URL(fileURLWithPath: home.file("a.png")))
        #expect(a == (try Data(contentsOf: URL(fileURLWithPath: home.file("b.png")))))
        #expect(a == (try Data(contentsOf: URL(fileURLWithPath: home.file("c.png")))), "lung is -600,1500")
    }

    @Test func monochrome1StoredWindowGivenExplicitlyDrawsTheSamePicture() throws {
        let home = TemporaryFolder("home")
        // The bundled radiograph is MONOCHROME1 with a stored window of 2048 / 4096.
        let file = Fixtures.samples + "/chest-xray/DX0001.dcm"
        let automatic = try run(["render", file, "--png", home.file("auto.png")], home: home)
        let explicit = try run(["render", file, "--window=2048,4096", "--png", home.file("explicit.png")], home: home)
        let other = try run(["render", file, "--window=2000,3000", "--png", home.file("other.png")], home: home)
        #expect(automatic.status == 0 && explicit.status == 0 && other.status == 0)
        let picture = try Data(contentsOf: URL(fileURLWithPath: home.file("auto.png")))
        #expect(picture == (try Data(contentsOf: URL(fileURLWithPath: home.file("explicit.png")))))
        #expect(picture != (try Data(contentsOf: URL(fileURLWithPath: home.file("other.png")))), "control: another window differs")
    }

    @Test func decideFindsAStudyThatTriageRankedWithoutBeingToldTheFolder() throws {
        let home = TemporaryFolder("home"), folder = TemporaryFolder("elsewhere")
        try FileManager.default.copyItem(atPath: Fixtures.samples + "/brain-mr", toPath: folder.path + "/brain-mr")
        let tiny = Fixtures.repositoryRoot + "/Tests/InferenceTests/Fixtures/tiny-model"
        let triage = try run(["triage", folder.path, "--model", tiny, "--json"], home: home)
        #expect(triage.status == 0, "\(triage.stderr)")
        let results = try JSONSerialization.jsonObject(with: Data(triage.stdout.utf8)) as? [[String: Any]]
        let uid = try #require(results?.first?["studyInstanceUID"] as? String)
        // No --source: the index of the folder triage just read finds it.
        let decided = try run(["decide", uid, "--override", "false-positive", "--comment", "fine", "--model", tiny], home: home)
        #expect(decided.status == 0, "\(decided.stderr)")
        #expect(decided.stdout.contains("Saved decision") && decided.stdout.contains("(false positive)"))
        let similar = try run(["similar", uid, "--model", tiny], home: home)
        #expect(similar.status == 0, "\(similar.stderr)")
        // A study nobody scanned says what to run.
        let missing = try run(["decide", "2.25.404", "--accept", "--model", tiny], home: home)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("2.25.404") && missing.stderr.contains("lightbox scan DIR"), "\(missing.stderr)")
        #expect(try run(["decide", uid, "--override", "not-a-reason", "--model", tiny], home: home).status == 2)
    }

    @Test func aBrokenConfigKeyIsReportedAndTheCommandStillRuns() throws {
        let home = TemporaryFolder("home")
        try "reader = 7\nshow_identifers = true\n".write(toFile: home.path + "/config.toml", atomically: true, encoding: .utf8)
        let tiny = Fixtures.repositoryRoot + "/Tests/InferenceTests/Fixtures/tiny-model"
        let result = try run(["triage", Fixtures.samples + "/chest-xray", "--model", tiny], home: home)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains(home.path + "/config.toml: reader must be text"), "\(result.stderr)")
        #expect(result.stderr.contains("unknown setting 'show_identifers'"))
    }

    @Test func doctorReportsEachPartAndAFixForWhatIsBroken() throws {
        let home = TemporaryFolder("home")
        let healthy = try run(["doctor", "--json"], home: home)
        #expect(healthy.status == 0, "\(healthy.stdout)\(healthy.stderr)")
        let checks = try JSONSerialization.jsonObject(with: Data(healthy.stdout.utf8)) as? [[String: Any]] ?? []
        let areas = Set(checks.compactMap { $0["area"] as? String })
        #expect(areas.isSuperset(of: ["terminal", "libraries", "config", "model", "data", "source"]), "\(areas)")
        let libraries = checks.first { $0["area"] as? String == "libraries" }?["detail"] as? String ?? ""
        #expect(libraries.contains("DCMTK 3.6") && libraries.contains("OpenJPEG") && libraries.contains("OpenCV 4") && libraries.contains("SQLite 3"))
        #expect(checks.contains { ($0["detail"] as? String)?.contains("lightbox-anomaly-unet@") == true && $0["ok"] as? Bool == true })
        // Break two things: a config key and the result cache.
        try FileManager.default.createDirectory(atPath: home.path + "/data", withIntermediateDirectories: true)
        try "reader = 3\n".write(toFile: home.path + "/config.toml", atomically: true, encoding: .utf8)
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: home.path + "/data/results.sqlite"))
        let broken = try run(["doctor"], home: home)
        #expect(broken.status == 1)
        #expect(broken.stdout.contains("✗ config") && broken.stdout.contains("reader must be text"), "\(broken.stdout)")
        #expect(broken.stdout.contains("✗ data       results:") && broken.stdout.contains("fix: delete " + home.path + "/data/results.sqlite"),
                "\(broken.stdout)")
        #expect(!broken.stdout.contains("✗ data       index"), "the intact index stays ✓")
    }

    @Test func commandsThatRunNoModelNeverLoadOpenCV() throws {
        // The engine is a library of its own, opened when a model runs; the program does not link it.
        let ldd = Process()
        ldd.executableURL = URL(fileURLWithPath: "/usr/bin/ldd")
        ldd.arguments = [Self.binary]
        let out = Pipe()
        ldd.standardOutput = out
        try ldd.run()
        let linked = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        ldd.waitUntilExit()
        #expect(linked.contains("libdcmdata"), "the control: ldd lists the libraries")
        #expect(!linked.contains("opencv"), "\(linked)")
        // …and a model still runs, through the library found beside the program.
        let home = TemporaryFolder("home")
        let tiny = Fixtures.repositoryRoot + "/Tests/InferenceTests/Fixtures/tiny-model"
        #expect(try run(["model", "info", "--model", tiny], home: home).status == 0)
    }

    @Test func usageErrorsExitTwo() throws {
        let home = TemporaryFolder("home")
        #expect(try run(["render", Fixtures.samples, "--slice", "0"], home: home).status == 2)
        #expect(try run(["render", Fixtures.samples, "--window", "nonsense"], home: home).status == 2)
        #expect(try run(["no-such-command-or-folder"], home: home).status == 1)
    }

    @Test func scanPrintsASummaryAndRescansReadNothing() throws {
        let home = TemporaryFolder("home")
        let first = try run(["scan", "--json", Fixtures.samples], home: home)
        #expect(first.status == 0)
        let report = try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any]
        #expect(report?["studies"] as? Int == 5)
        #expect(report?["images"] as? Int == 66)
        let second = try run(["scan", Fixtures.samples], home: home)
        #expect(second.stdout.contains("0 read"))
        #expect(FileManager.default.fileExists(atPath: home.path + "/data/index.sqlite"))
    }

    @Test func renderWritesHalfBlocksAndPNG() throws {
        let home = TemporaryFolder("home")
        let text = try run(["render", Fixtures.samples + "/chest-ct", "--slice", "6", "--cols", "40", "--rows", "12"], home: home)
        #expect(text.status == 0)
        let lines = text.stdout.split(separator: "\n")
        #expect(lines.count == 12)
        #expect(text.stdout.contains("▀"))
        #expect(text.stdout.contains("\u{1B}[38;2;"))
        let png = home.file("slice.png")
        let written = try run(["render", Fixtures.samples + "/chest-xray/DX0001.dcm", "--png", png, "--window", "2048,4096"], home: home)
        #expect(written.status == 0)
        #expect(FileManager.default.fileExists(atPath: png))
        let tooFar = try run(["render", Fixtures.samples + "/chest-ct", "--slice", "500"], home: home)
        #expect(tooFar.status == 1)
        #expect(tooFar.stderr.contains("has 28"))
    }

    @Test(arguments: ["quad", "sextant"])
    func renderDrawsFinerSymbols(symbols: String) throws {
        let home = TemporaryFolder("home")
        let text = try run(["render", Fixtures.samples + "/chest-ct", "--slice", "6", "--cols", "40", "--rows", "12", "--symbols", symbols], home: home)
        #expect(text.status == 0, "\(text.stderr)")
        let lines = text.stdout.split(separator: "\n")
        #expect(lines.count == 12, "the same cell grid as half blocks")
        let scalars = text.stdout.unicodeScalars.map(\.value)
        let quadrants = scalars.contains { (0x2596...0x259F).contains($0) }, sextants = scalars.contains { (0x1FB00...0x1FB3B).contains($0) }
        #expect(symbols == "quad" ? quadrants && !sextants : sextants && !quadrants)
        #expect(try run(["render", Fixtures.samples + "/chest-ct", "--symbols", "octant"], home: home).status == 2)
    }

    @Test func gridDrawsEverySliceOfTheSeries() throws {
        let home = TemporaryFolder("home")
        let text = try run(["render", Fixtures.samples + "/chest-ct", "--grid", "--cols", "120", "--rows", "30"], home: home)
        #expect(text.status == 0, "\(text.stderr)")
        let lines = text.stdout.split(separator: "\n")
        #expect(lines.count <= 30 && lines.count >= 20)
        let png = home.file("sheet.png")
        let written = try run(["render", Fixtures.samples + "/chest-ct", "--grid", "--png", png], home: home)
        #expect(written.status == 0)
        // PNG width and height from the IHDR chunk: 28 slices of 512 × 512 on a 1600-pixel box.
        let data = try Data(contentsOf: URL(fileURLWithPath: png))
        let width = data[16..<20].reduce(0) { $0 << 8 | Int($1) }, height = data[20..<24].reduce(0) { $0 << 8 | Int($1) }
        #expect(width <= 1600 && height <= 1600 && width > 1000, "\(width)×\(height)")
        // A multi-frame file: every frame.
        let cine = try run(["render", Fixtures.samples + "/cardiac-xa-multiframe/XA0001.dcm", "--grid", "--cols", "80", "--rows", "24"], home: home)
        #expect(cine.status == 0 && cine.stdout.contains("▀"), "\(cine.stderr)")
    }

    @Test func generateSamplesIsDeterministic() throws {
        let home = TemporaryFolder("home")
        let result = try run(["generate-samples", "--output", home.path + "/samples"], home: home)
        #expect(result.status == 0)
        for file in ["chest-ct/IM0001.dcm", "brain-mr/MR0010.dcm", "chest-xray/DX0001.dcm", "ground-truth.json"] {
            let fresh = try Data(contentsOf: URL(fileURLWithPath: home.path + "/samples/" + file))
            let bundled = try Data(contentsOf: URL(fileURLWithPath: Fixtures.samples + "/" + file))
            #expect(fresh == bundled, "\(file) differs from the bundled sample")
        }
    }

    @Test func modelInfoAndTriage() throws {
        let home = TemporaryFolder("home")
        let missing = try run(["model", "info", "--model", home.path + "/no-such-model"], home: home)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains(home.path + "/no-such-model"), "the error names the folder: \(missing.stderr)")
        let shipped = try run(["model", "info"], home: home)
        #expect(shipped.status == 0 && shipped.stdout.contains("lightbox-anomaly-unet"), "the bundled default model: \(shipped.stderr)")
        #expect(shipped.stdout.contains("not a diagnosis"))
        #expect(shipped.stdout.contains("Held-out       image AUROC") && shipped.stdout.contains("Failure mode"), "the card's measurements are shown")
        let tiny = Fixtures.repositoryRoot + "/Tests/InferenceTests/Fixtures/tiny-model"
        let info = try run(["model", "info", "--model", tiny], home: home)
        #expect(info.status == 0 && info.stdout.contains("tiny-test-network"))
        let triage = try run(["triage", Fixtures.samples, "--model", tiny, "--json"], home: home)
        #expect(triage.status == 0)
        let results = try JSONSerialization.jsonObject(with: Data(triage.stdout.utf8)) as? [[String: Any]]
        #expect(results?.count == 5)
        let probabilities = results?.compactMap { $0["probability"] as? Double } ?? []
        #expect(probabilities == probabilities.sorted(by: >), "most suspicious first")
        #expect(results?.allSatisfy { ($0["tier"] as? String).map { ["high", "medium", "review"].contains($0) } ?? false } == true)
        let csv = try run(["triage", Fixtures.samples, "--model", tiny, "--csv"], home: home)
        #expect(csv.stdout.split(separator: "\n").count == 6)
        #expect(!csv.stdout.contains("PHANTOM"))
    }
}
