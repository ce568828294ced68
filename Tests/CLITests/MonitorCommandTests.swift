import Foundation
import Testing
import TestSupport

/// `lightbox monitor` and `lightbox model recalibrate` as a user runs them: a fresh installation
/// says what is missing in words; after a triage the studies are recorded; a reference can be
/// set by hand (an audit event); bad ids and too few verdicts are refused with the reason.
struct MonitorCommandTests {
    let cli = CommandLineTests()

    @Test func freshInstallationSaysInsufficientData() throws {
        let home = TemporaryFolder("monitor-cli-fresh")
        let text = try cli.run(["monitor"], home: home)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("No alerts.") && text.stdout.contains("insufficient data"))
        let json = try cli.run(["monitor", "--json", "--png", home.file("monitor.png")], home: home)
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect((object["alerts"] as? [Any])?.isEmpty == true)
        #expect((object["generatedAt"] as? String)?.hasSuffix("Z") == true, "instants are ISO 8601")
        let png = try Data(contentsOf: URL(fileURLWithPath: home.file("monitor.png")))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        let bad = try cli.run(["monitor", "--since", "2026-13"], home: home)
        #expect(bad.status == 2 && bad.stderr.contains("--since takes YYYY-MM-DD"))
        let ack = try cli.run(["monitor", "ack", "0123456789", "--comment", "checked"], home: home)
        #expect(ack.status == 1 && ack.stderr.contains("no alert 0123456789 in the latest window"))
        let recalibrate = try cli.run(["model", "recalibrate"], home: home)
        #expect(recalibrate.status == 1)
        #expect(recalibrate.stderr.contains("too few verdicts to recalibrate: 0 studies"), "\(recalibrate.stderr)")
    }

    @Test func triageRecordsStudiesAndAReferenceCanBeSet() throws {
        let home = TemporaryFolder("monitor-cli-triage")
        let triage = try cli.run(["triage", Fixtures.samples], home: home)
        #expect(triage.status == 0, "\(triage.stderr)")
        let before = try cli.run(["monitor"], home: home)
        #expect(before.stdout.contains("no reference period yet (3 of 500 studies"), "\(before.stdout)")
        // The bundled model's name and version, as its card states them.
        let card = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Fixtures.repositoryRoot + "/models/default/model.json"))) as! [String: Any]
        let model = "\(card["name"] as! String)@\(card["version"] as! String)"
        let set = try cli.run(["monitor", "reference", "--model", model, "--first", "2"], home: home)
        #expect(set.status == 0 && set.stdout.contains("first 2 studies"), "\(set.stderr)")
        let after = try cli.run(["monitor"], home: home)
        #expect(after.stdout.contains("reference \(model): first 2 studies"))
        let unknown = try cli.run(["monitor", "reference", "--model", "nobody@0", "--first", "2"], home: home)
        #expect(unknown.status == 1 && unknown.stderr.contains("no analysed studies recorded for this model version (recorded: \(model))"))
        let tooMany = try cli.run(["monitor", "reference", "--model", model, "--first", "50"], home: home)
        #expect(tooMany.status == 1 && tooMany.stderr.contains("3 studies recorded, fewer than the 50 asked for"))
        let audit = try cli.run(["audit", "verify"], home: home)
        #expect(audit.status == 0, "the reference is an audit event and the chain verifies: \(audit.stdout) \(audit.stderr)")
    }
}
