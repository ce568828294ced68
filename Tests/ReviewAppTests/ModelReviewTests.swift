import Foundation
import Inference
import LightboxCore
import ReviewApp
import Store
import Testing
import TerminalUI
import TestSupport

/// The reviewer driven by a real ONNX model (the tiny test network, run by OpenCV DNN) over the
/// in-memory studies, with a real SQLite result cache; and the reviewer without a model.
@Suite(.serialized)
struct ModelReviewTests {
    static let tiny = Fixtures.repositoryRoot + "/Tests/InferenceTests/Fixtures/tiny-model"

    func app(analyser: (any StudyAnalyser)?, modelProblem: String = "no model configured", analyseWorklist: Bool = true) -> ReviewApplication {
        let source = InMemoryStudySource(studies: ReviewFixtures.studies(), pixels: ReviewFixtures.pattern)
        let terminal = VirtualTerminal(width: 160, height: 48, capabilities: TerminalCapabilities(colorDepth: .direct, unicode: true))
        let app = ReviewApplication(backend: terminal, source: source, heatmaps: nil, analyser: analyser, modelProblem: modelProblem,
                                    analyseWorklist: analyseWorklist, theme: .dark, makeRunner: ImmediateEffectRunner.init)
        app.apply(.resized(width: 160, height: 48))
        app.apply(.worklistLoaded(Worklist(studies: ReviewFixtures.studies().map(\.summary))))
        return app
    }

    /// The tiny network behind a real SQLite result cache in `folder`, over the in-memory studies.
    func tinyAnalyser(in folder: TemporaryFolder) throws -> (analyser: FusedTriage, triage: StudyTriage, cache: SQLiteResultCache) {
        let cache = try SQLiteResultCache(path: folder.path + "/results.sqlite")
        let model = try ModelFolder(path: Self.tiny)
        let source = InMemoryStudySource(studies: ReviewFixtures.studies(), pixels: ReviewFixtures.pattern)
        let triage = StudyTriage(source: source, detector: OnnxFindingDetector(folder: model), cache: cache, settings: model.triageSettings)
        return (FusedTriage(triages: [triage], cache: cache), triage, cache)
    }

    @Test func aModelFillsTheWorklistThePanelAndTheOverlay() throws {
        let folder = TemporaryFolder("model-review")
        let (analyser, triage, cache) = try tinyAnalyser(in: folder)
        let app = app(analyser: analyser)
        #expect(app.state.results.count == 3, "every study analysed: \(app.state.analysisErrors)")
        let dx = try #require(app.state.results["2.25.3"])
        #expect(dx.tier == .review && dx.reason?.contains("outside the model's domain") == true, "DX is not in the tiny model's card")
        let worklist = app.frame().textRows.joined(separator: "\n")
        #expect(worklist.contains("%"), "calibrated probabilities in the Priority column")
        #expect(worklist.contains("? Review"))
        #expect(!worklist.contains("no model"))
        // Most suspicious first: results inside the domain by probability, the DX after them.
        let order = app.state.visibleStudies.map(\.studyInstanceUID)
        #expect(order.last == "2.25.3")
        let ct = try #require(app.state.results["2.25.1"])
        let mr = try #require(app.state.results["2.25.2"])
        // The expected order, from the definition in the README (not from PriorityOrder): studies
        // the model could judge by calibrated probability, highest first, then those it sent to
        // Review for being outside its domain. Here: CT and MR are judged, DX is outside.
        #expect(ct.reason == nil && mr.reason == nil)
        let expected = ct.probability >= mr.probability ? ["2.25.1", "2.25.2", "2.25.3"] : ["2.25.2", "2.25.1", "2.25.3"]
        #expect(order == expected, "CT \(ct.probability) (\(ct.reason ?? "judged")), MR \(mr.probability) (\(mr.reason ?? "judged"))")

        // Open the CT study: the panel shows the tier (symbol and text), probability and model.
        // The selection followed the CT study (selected at start) while the order changed.
        #expect(app.state.visibleStudies[app.state.selectedRow].studyInstanceUID == "2.25.1")
        app.apply(.key(.enter))
        let viewer = app.frame().textRows.joined(separator: "\n")
        #expect(viewer.contains("Abnormal: \(Int((ct.probability * 100).rounded()))% (calibrated)"))
        #expect(viewer.contains("tiny-test-network@0.0.1"))
        #expect(viewer.contains(ct.tier == .high ? "▲ High confidence" : (ct.tier == .medium ? "△ Medium confidence" : "? Review")))
        #expect(viewer.contains("Overlay (g): the model's heatmap"))
        // A finding shows the heatmap's raw peak on its own 0–1 scale, never as a percentage
        // (the tiny network finds nothing here, so the result gets one finding added).
        var withFinding = ct
        let series = try #require(app.state.currentSeries?.seriesInstanceUID)
        withFinding.findings = [SeriesFinding(seriesInstanceUID: series, finding: Finding(firstSlice: 2, lastSlice: 4, box: [1, 1, 3, 3],
                                                                                          peak: 0.873, peakSlice: 3), model: triage.modelKey)]
        app.apply(.studyAnalysed(withFinding))
        let panel = app.frame().textRows.joined(separator: "\n")
        #expect(panel.contains("1. images 3–5 · heat 0.87"), "\(panel)")
        #expect(!panel.contains("87%"))
        app.apply(.studyAnalysed(ct))
        // The model's heatmap is the overlay: toggling it changes the picture.
        let slice = try #require(app.state.currentSlice)
        #expect(analyser.heatmap(for: slice.header, frame: 0) != nil)
        let withOverlay = app.frame()
        app.apply(.key(.character("g")))
        let without = app.frame()
        #expect(withOverlay.cells != without.cells)
        // A reopened study needs no inference: every image is in the cache.
        for entry in ReviewFixtures.studies()[0].series[0].slices {
            #expect(try cache.result(sopInstanceUID: entry.header.sopInstanceUID, frame: 0, model: triage.modelKey) != nil)
        }
    }

    /// With background analysis off (`analyse_worklist = false`) nothing runs at start; opening a
    /// study analyses that study only.
    @Test func withBackgroundAnalysisOffOnlyOpenedStudiesAreAnalysed() throws {
        let folder = TemporaryFolder("analyse-on-open")
        let analyser = try tinyAnalyser(in: folder).analyser
        let app = app(analyser: analyser, analyseWorklist: false)
        #expect(app.state.results.isEmpty)
        let worklist = app.frame().textRows.joined(separator: "\n")
        #expect(worklist.components(separatedBy: "· on open").count == 4, "three studies wait for opening:\n\(worklist)")
        #expect(!worklist.contains("pending"))
        let first = app.state.visibleStudies[app.state.selectedRow].studyInstanceUID
        app.apply(.key(.enter))
        #expect(Set(app.state.results.keys) == [first])
        app.apply(.key(.character("q")))
        #expect(app.state.screen == .worklist)
        let after = app.frame().textRows.joined(separator: "\n")
        #expect(after.components(separatedBy: "· on open").count == 3, "the opened study has its result:\n\(after)")
    }

    /// A real ledger held locked by another process: the save fails and says so, nothing is
    /// recorded, the decision is kept; once the lock is gone, r saves it (once).
    @Test func aFailedSaveSaysSoAndRetrySavesIt() throws {
        let folder = TemporaryFolder("failed-save")
        let analyser = try tinyAnalyser(in: folder).analyser
        let ledgerPath = folder.path + "/decisions.sqlite"
        let ledger = try SQLiteDecisionLedger(path: ledgerPath, busyTimeout: 0.3)
        let source = InMemoryStudySource(studies: ReviewFixtures.studies(), pixels: ReviewFixtures.pattern)
        let terminal = VirtualTerminal(width: 160, height: 48, capabilities: TerminalCapabilities(colorDepth: .direct, unicode: true))
        let app = ReviewApplication(backend: terminal, source: source, heatmaps: nil, analyser: analyser, decisions: ledger, reader: "dr-test", theme: .dark, makeRunner: ImmediateEffectRunner.init)
        app.apply(.resized(width: 160, height: 48))
        app.apply(.worklistLoaded(Worklist(studies: ReviewFixtures.studies().map(\.summary))))
        app.apply(.key(.enter))

        // Another process holds the database's write lock.
        let locker = Process()
        locker.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        locker.arguments = [ledgerPath]
        let input = Pipe()
        locker.standardInput = input
        locker.standardOutput = FileHandle.nullDevice
        try locker.run()
        input.fileHandleForWriting.write(Data("BEGIN EXCLUSIVE;\nSELECT 1;\n".utf8))
        Thread.sleep(forTimeInterval: 0.5)

        app.apply(.key(.character("a")))
        #expect(app.state.message?.hasPrefix("NOT saved") == true, "\(app.state.message ?? "")")
        #expect(app.frame().textRows.joined().contains("NOT saved"))
        #expect(app.state.save.pending != nil && app.state.decisions.isEmpty)

        input.fileHandleForWriting.write(Data("COMMIT;\n.quit\n".utf8))
        locker.waitUntilExit()
        app.apply(.key(.character("r")))
        #expect(app.state.message?.hasPrefix("Saved: accept") == true, "\(app.state.message ?? "")")
        #expect(try ledger.decisions().count == 1)
        #expect(try ledger.verify(expectedHead: nil).isIntact)
    }

    @Test func withoutAModelThePanelSaysNoModelAndWhy() {
        let app = app(analyser: nil, modelProblem: "/x/model.onnx: not an ONNX model (truncated)")
        #expect(app.frame().textRows.joined().contains("○ no model"))
        app.apply(.key(.enter))
        let text = app.frame().textRows.joined(separator: "\n")
        #expect(text.contains("○ No model"))
        #expect(text.contains("/x/model.onnx: not an ONNX model"))
        #expect(app.state.results.isEmpty)
    }
}
