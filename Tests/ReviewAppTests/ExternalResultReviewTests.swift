import Crypto
import DicomReading
import Foundation
import LightboxCore
import LightboxServices
import ReviewApp
import Store
import Testing
import TerminalUI
import TestSupport

/// Other systems' AI results in the reviewer (highdicom's SEG and TID 1500 SR over the CT
/// phantom, read through DCMTK from the study's folder, a real SQLite ledger): the panel lists
/// each source, `e` switches which one is shown and decided on, n/p walk every source's findings,
/// and a decision on an external finding records the object's UID, hash and tracking UID.
struct ExternalResultReviewTests {
    static let objects = ProcessInfo.processInfo.environment["LIGHTBOX_AI_OBJECTS"]
    static let enabled = Testing.ConditionTrait.enabled(if: objects != nil, "run through `make test`, which writes the highdicom fixtures")

    static func sha256(_ path: String) throws -> String {
        SHA256.hash(data: try Data(contentsOf: URL(fileURLWithPath: path))).map { String(format: "%02x", $0) }.joined()
    }

    @Test(enabled) func externalFindingsAreShownWalkedAndDecidedOn() throws {
        let objects = try #require(Self.objects)
        let folder = TemporaryFolder("external-review")
        let root = folder.file("ct")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: Fixtures.samples + "/chest-ct") where name.hasSuffix(".dcm") {
            try FileManager.default.copyItem(atPath: Fixtures.samples + "/chest-ct/" + name, toPath: root + "/" + name)
        }
        for name in ["seg-binary.dcm", "sr-nodules.dcm"] { try FileManager.default.copyItem(atPath: objects + "/" + name, toPath: root + "/" + name) }
        let source = FolderStudySource(root: root, index: try SQLiteWorklistIndex(path: folder.file("index.sqlite")))
        let ledger = try SQLiteDecisionLedger(path: folder.file("decisions.sqlite"))
        let terminal = VirtualTerminal(width: 160, height: 48, capabilities: TerminalCapabilities(colorDepth: .direct, unicode: true))
        let app = ReviewApplication(backend: terminal, source: source, heatmaps: nil, analyser: nil, decisions: ledger,
                                    externals: ExternalResultReader(), reader: "dr-test", theme: .dark, makeRunner: ImmediateEffectRunner.init)
        app.apply(.resized(width: 160, height: 48))
        app.apply(.worklistLoaded(try source.loadWorklist(progress: nil)))
        #expect(app.state.studies.count == 1, "the SEG and SR are not studies or series of their own")
        // The index keeps them as the study's objects, and the worklist reads them in the
        // background: its AI column shows the source with a confidence and that there are two.
        let studyUID = try #require(app.state.studies.first?.studyInstanceUID)
        #expect(source.objects()?[studyUID]?.map { ($0 as NSString).lastPathComponent }.sorted() == ["seg-binary.dcm", "sr-nodules.dcm"])
        #expect(app.state.externalResults[studyUID]?.count == 2, "read before the study is opened")
        let before = app.frame().textRows.joined(separator: "\n")
        #expect(before.contains("87% △ Medium +2"), "\(before)")
        app.apply(.key(.enter))
        let uid = try #require(app.state.viewer?.studyInstanceUID)
        let results = try #require(app.state.externalResults[uid])
        #expect(results.map(\.title) == ["Vendor Nodule AI 2.4.1", "Vendor Report AI 7.0"])
        // No model here: the first external result is on screen, honest about its confidence.
        #expect(app.state.viewer?.activeSource == 1)
        var panel = app.frame().textRows.joined(separator: "\n")
        #expect(panel.contains("Vendor Nodule AI 2.4.1"), "\(panel)")
        #expect(panel.contains("? Review: no confidence given by the"), "\(panel)")
        #expect(panel.contains("1. Nodule 3 · images 3–9"), "\(panel)")
        #expect(!panel.contains("High"), "never High without a confidence")

        // n goes to the first finding's peak; the SEG's layer is the overlay there, as contours.
        app.apply(.key(.character("n")))
        let viewer = try #require(app.state.viewer)
        #expect(viewer.sliceIndex == 5, "Nodule 3 peaks on image 6")
        #expect(viewer.contourOnly)
        let layer = try #require(viewer.overlay)
        #expect(layer == results[0].layers[try #require(app.state.currentSlice?.key)])
        #expect(layer.values.contains(1))
        #expect(app.state.currentFinding == 0)

        // d on it: the decision names the SEG, its hash, the segment's tracking UID; no probability.
        app.apply(.key(.character("d")))
        #expect(app.state.message?.hasPrefix("Saved: defer on finding 1") == true, "\(app.state.message ?? "")")
        let deferred = try #require(try ledger.decisions().last)
        #expect(deferred.model == "Vendor Nodule AI" && deferred.modelVersion == "2.4.1")
        #expect(deferred.probability == nil && deferred.tier == .review)
        let seg = try #require(deferred.external)
        #expect(seg.objectKind == "SEG" && seg.objectUID == results[0].objects[0].sopInstanceUID)
        #expect(seg.objectHash == (try Self.sha256(root + "/seg-binary.dcm")))
        #expect(seg.trackingID == "Nodule 3" && seg.trackingUID == results[0].findings[0].trackingUID)

        // e: the report is on screen; its nodule A with the source's own probability.
        app.apply(.key(.character("e")))
        #expect(app.state.viewer?.activeSource == 2)
        panel = app.frame().textRows.joined(separator: "\n")
        #expect(panel.contains("Vendor Report AI 7.0"), "\(panel)")
        #expect(panel.contains("87% (the source's own probability"), "\(panel)")
        // n/p walk the findings of every source in slice order; reaching the report's nodule A
        // (image 18) keeps the report on screen.
        for _ in 0..<6 where app.state.viewer?.sliceIndex != 17 { app.apply(.key(.character("n"))) }
        #expect(app.state.viewer?.sliceIndex == 17, "nodule A on image 18")
        #expect(app.state.viewer?.activeSource == 2)
        app.apply(.key(.character("a")))
        #expect(app.state.message?.hasPrefix("Saved: accept on finding") == true, "\(app.state.message ?? "")")
        let accepted = try #require(try ledger.decisions().last)
        let report = try #require(accepted.external)
        #expect(accepted.model == "Vendor Report AI" && accepted.modelVersion == "7.0")
        #expect(accepted.probability == 0.87)
        #expect(report.objectKind == "SR" && report.trackingID == "Nodule A")
        #expect(report.objectHash == (try Self.sha256(root + "/sr-nodules.dcm")))
        #expect(try ledger.verify(expectedHead: nil).isIntact)
        // The worklist shows the source that gives a confidence (the report's 87%, Medium) and
        // marks that two sources are there (they agree: both found something).
        app.apply(.key(.character("q")))
        let worklist = app.frame().textRows.joined(separator: "\n")
        #expect(worklist.contains("87% △ Medium +2"), "\(worklist)")
    }
}
