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
