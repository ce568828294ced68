import DicomReading
import Foundation
import LightboxCore
import Testing
import TestSupport

/// Canary identifiers (PatientName CANARY^PHI, PatientID CANARY123) through triage, decide, the
/// default exports, stats, audit and every message the commands print: none of them may appear
/// in anything de-identified. The export with identifiers shows the check can see them.
struct CanaryTests {
    @Test func canaryIdentifiersNeverLeaveDeidentified() throws {
        let home = TemporaryFolder("canary")
        let folder = home.path + "/canary"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for instance in 1...4 {
            var header = Fixtures.header(rows: 64, columns: 64, modality: "CT", study: "2.25.777", series: "2.25.778", instance: instance)
            header.patientName = "CANARY^PHI"
            header.patientID = "CANARY123"
            header.accessionNumber = "CANARYACC"
            header.stationName = "CANARY-STATION"
            header.imagePositionPatient = [0, 0, Double(instance) * 2]
            header.imageOrientationPatient = [1, 0, 0, 0, 1, 0]
            header.rescaleIntercept = -1024
            try Fixtures.write(header, to: "\(folder)/\(instance).dcm")
        }
        let tiny = Fixtures.repositoryRoot + "/Tests/InferenceTests/Fixtures/tiny-model"
        let cli = CommandLineTests()
        var outputs: [(String, String)] = []
        func run(_ arguments: [String]) throws -> CommandLineTests.Run {
            let result = try cli.run(arguments, home: home)
            outputs.append((arguments.joined(separator: " "), result.stdout + result.stderr))
            return result
        }
        #expect(try run(["triage", folder, "--model", tiny]).status == 0)
        #expect(try run(["triage", folder, "--model", tiny, "--json"]).status == 0)
        #expect(try run(["decide", "2.25.777", "--source", folder, "--model", tiny, "--accept"]).status == 0)
        #expect(try run(["decide", "2.25.777", "--source", folder, "--model", tiny, "--override", "false_positive",
                         "--comment", "looks like CANARY^PHI's old scan"]).status == 0)
        #expect(try run(["decide", "2.25.777", "--source", folder, "--model", tiny, "--defer"]).status == 0)
        for format in ["csv", "jsonl", "airai"] {
            let export = try run(["decisions", "export", "--format", format])
            #expect(export.status == 0)
            #expect(export.stdout.contains("ledger") || export.stdout.contains("Head"), "the chain head is in the \(format) export")
        }
        #expect(try run(["stats"]).status == 0)
        #expect(try run(["stats", "--json"]).status == 0)
        #expect(try run(["audit", "verify"]).status == 0)
        #expect(try run(["info", folder + "/1.dcm"]).status == 0)
        // Monitoring: recorded by the triage above; the report, its JSON and its PNG.
        #expect(try run(["monitor"]).status == 0)
        #expect(try run(["monitor", "--json", "--png", home.path + "/monitor.png"]).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: home.path + "/monitor.png")).range(of: Data("CANARY".utf8)) == nil)
        for (command, text) in outputs {
            for canary in ["CANARY^PHI", "CANARY123", "CANARYACC", "CANARY"] {
                #expect(!text.contains(canary), "\(canary) leaked by `lightbox \(command)`")
            }
        }
        // Files the app writes beside its databases (logs, exports written with --output).
        let exportFile = home.path + "/export.csv"
        #expect(try cli.run(["decisions", "export", "--output", exportFile], home: home).status == 0)
        #expect(!(try String(contentsOfFile: exportFile, encoding: .utf8)).contains("CANARY"))

        // The result cache and the case base hold no identifier (the index and the ledger keep
        // them by design: the worklist shows names on request, exports pseudonymise from them).
        let data = home.path + "/data"
        let stores = try FileManager.default.contentsOfDirectory(atPath: data).filter { $0.hasPrefix("results.sqlite") || $0.hasPrefix("cases.sqlite") }
        #expect(stores.contains("results.sqlite") && stores.contains("cases.sqlite"), "\(stores)")
        for name in stores {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: data + "/" + name))
            for canary in ["CANARY^PHI", "CANARY123", "CANARYACC", "CANARY"] {
                #expect(bytes.range(of: Data(canary.utf8)) == nil, "\(canary) stored in \(name)")
            }
        }

        // With the flag, identifiers are exported and the export is an audit event.
        let identified = try cli.run(["decisions", "export", "--format", "jsonl", "--include-identifiers"], home: home)
        #expect(identified.stdout.contains("CANARY123"))
        let verify = try cli.run(["audit", "verify"], home: home)
        #expect(verify.stdout.contains("OK: 4 audit rows"), "3 decisions and the identified export: \(verify.stdout)")
    }

    /// The reviewer, identifiers shown on screen: the terminal's title never carries them.
    @Test func theTerminalTitleNeverCarriesIdentifiers() throws {
        let folder = TemporaryFolder("canary-title")
        for instance in 1...2 {
            var header = Fixtures.header(rows: 32, columns: 32, modality: "CT", study: "2.25.779", series: "2.25.780", instance: instance)
            header.patientName = "CANARY^PHI"
            header.patientID = "CANARY123"
            header.imagePositionPatient = [0, 0, Double(instance) * 2]
            try Fixtures.write(header, to: folder.file("\(instance).dcm"))
        }
        let tmux = try TmuxSession(arguments: [folder.path, "--show-identifiers"], environment: ["TERM": "tmux-256color", "LANG": "C.UTF-8"])
        #expect(tmux.waitFor("CANARY, PHI"), "the control: identifiers are on screen")
        #expect(!(try tmux.paneTitle()).contains("CANARY"))
        try tmux.keys("Enter")
        #expect(tmux.waitFor("slice 1/2"))
        #expect(!(try tmux.paneTitle()).contains("CANARY"))
        try tmux.keys("q", "q")
        #expect(tmux.waitForExit() == 0)
    }
}
