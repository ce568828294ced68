import Foundation
import LightboxCore
import ReviewApp
import Testing
import TerminalUI
import TestSupport

/// A PACS source in `Review.update`: the worklist's pages on screen as they arrive, retrieve
/// progress, the next studies fetched (or analysed) ahead when one is opened.
struct PacsUpdateTests {
    @Test func pagesShowAsTheyArriveSortedAsTheWhole() throws {
        var state = AppState(width: 160, height: 48, sourceName: "pacs")
        state.loading = true
        let all = ReviewFixtures.studies().map(\.summary)
        #expect(update(&state, .worklistPage(Worklist(studies: Array(all.prefix(2))))).isEmpty)
        #expect(state.loading && state.studies.count == 2 && state.visible.count == 2)
        let context = ScreenContext(theme: .dark, capabilities: TerminalCapabilities(colorDepth: .direct, unicode: true))
        let screen = Screens.draw(state, context: context).textRows.joined(separator: "\n")
        #expect(screen.contains("2 studies so far, more arriving"), "\(screen)")
        _ = update(&state, .worklistLoaded(Worklist(studies: all)))
        #expect(!state.loading && state.studies.count == all.count)
        // A page that arrives after the whole list (a late message) changes nothing.
        _ = update(&state, .worklistPage(Worklist(studies: Array(all.prefix(1)))))
        #expect(state.studies.count == all.count)
    }

    @Test func openingFetchesTheNextStudiesAhead() {
        var state = AppState(width: 160, height: 48, sourceName: "pacs")
        state.prefetchStudies = 2
        _ = update(&state, .worklistLoaded(Worklist(studies: ReviewFixtures.studies().map(\.summary))))
        let next = state.visible.dropFirst().prefix(2).map { state.studies[$0].studyInstanceUID }
        #expect(update(&state, .key(.enter)).contains(.prefetchStudies(next)))
        // With a model, the next ones are analysed (which fetches them) instead.
        var withModel = AppState(width: 160, height: 48, sourceName: "pacs", model: .ready(["m@1"]))
        withModel.prefetchStudies = 2
        withModel.analyseWorklist = false
        _ = update(&withModel, .worklistLoaded(Worklist(studies: ReviewFixtures.studies().map(\.summary))))
        let effects = update(&withModel, .key(.enter))
        #expect(effects.contains(.analyse(next, urgent: false)))
        // A folder (prefetch 0) fetches nothing ahead.
        var folder = AppState(width: 160, height: 48, sourceName: "folder")
        _ = update(&folder, .worklistLoaded(Worklist(studies: ReviewFixtures.studies().map(\.summary))))
        #expect(!update(&folder, .key(.enter)).contains { if case .prefetchStudies = $0 { true } else { false } })
    }

    @Test func retrieveProgressIsShownUntilTheStudyIsWhole() {
        var state = AppState(width: 160, height: 48, sourceName: "pacs")
        _ = update(&state, .worklistLoaded(Worklist(studies: ReviewFixtures.studies().map(\.summary))))
        let uid = state.studies[0].studyInstanceUID
        _ = update(&state, .retrieveProgress(studyInstanceUID: uid, stored: 4, total: 30))
        #expect(state.retrievals[uid]?.stored == 4)
        _ = update(&state, .retrieveProgress(studyInstanceUID: uid, stored: 30, total: 30))
        #expect(state.retrievals[uid] == nil)
    }
}

extension PacsUpdateTests {
    @Test func theFirstImageShowsThenTheWholeStudyKeepsItOnScreen() throws {
        var state = AppState(width: 160, height: 48, sourceName: "pacs")
        let studies = ReviewFixtures.studies()
        _ = Review.update(&state, .worklistLoaded(Worklist(studies: studies.map(\.summary))))
        _ = Review.update(&state, .key(.enter))
        let uid = try #require(state.viewer?.studyInstanceUID)
        let whole = try #require(studies.first { $0.studyInstanceUID == uid })
        // What arrived first: one image from the middle of the first series.
        var partial = whole
        let middle = whole.series[0].instances[whole.series[0].instances.count / 2]
        partial.series = [Series(seriesInstanceUID: whole.series[0].seriesInstanceUID, instances: [middle])]
        let opened = Review.update(&state, .studyOpened(partial))
        #expect(state.currentSlice?.key.path == middle.path && state.viewer?.slices.count == 1)
        #expect(opened.contains { if case .showSlice = $0 { true } else { false } })
        // The whole study: the same image stays on screen, now at its place in the series.
        let completed = Review.update(&state, .studyCompleted(whole))
        #expect(state.currentSlice?.key.path == middle.path)
        #expect(state.viewer?.slices.count == whole.series[0].slices.count)
        #expect(state.viewer?.sliceIndex == whole.series[0].slices.firstIndex { $0.key.path == middle.path })
        #expect(!completed.contains { if case .showSlice = $0 { true } else { false } }, "the image on screen is not loaded again")
        // A whole study for a study no longer open changes nothing; one never partly shown opens it.
        _ = Review.update(&state, .key(.character("q")))
        #expect(Review.update(&state, .studyCompleted(whole)).isEmpty && state.viewer == nil)
        _ = Review.update(&state, .key(.enter))
        _ = Review.update(&state, .studyCompleted(whole))
        #expect(state.currentStudy == whole)
    }
}

extension PacsUpdateTests {
    /// Verdict SRs: read back when a PACS study opens and shown in the panel; with a destination,
    /// each saved decision (and those left from before) pushed; a failed push said and kept.
    @Test func verdictSRsAreReadBackAndSavedDecisionsPushed() throws {
        var state = AppState(width: 160, height: 48, sourceName: "pacs", model: .ready(["m@1"]))
        state.verdictsAvailable = true
        state.pushVerdictsTo = "orthanc"
        let studies = ReviewFixtures.studies()
        _ = Review.update(&state, .worklistLoaded(Worklist(studies: studies.map(\.summary))))
        _ = Review.update(&state, .key(.enter))
        let uid = try #require(state.viewer?.studyInstanceUID)
        let study = try #require(studies.first { $0.studyInstanceUID == uid })
        let opened = Review.update(&state, .studyOpened(study))
        #expect(opened.contains { if case .readVerdicts(let read) = $0 { read.studyInstanceUID == uid } else { false } })
        // Nothing pending is forgotten: loading the ledger pushes what an earlier session left.
        #expect(update(&state, .decisionsLoaded([])) == [.pushVerdicts])
        let decision = Decision(studyInstanceUID: uid, patientID: "p", studyDate: "20260101", action: .accept, reader: "alice",
                                secondsSpent: 1, model: "m", modelVersion: "1", outputHash: "h", probability: 0.5, tier: .review)
        #expect(update(&state, .decisionSaved(decision, LedgerReceipt(sequence: 1, hash: "h", inserted: true))).contains(.pushVerdicts))
        _ = update(&state, .verdictsPushed(VerdictPushSummary(stored: 0, pending: 1, failure: "orthanc: connection refused")))
        #expect(state.verdictPushProblem?.contains("not sent to orthanc (1 waiting, kept") == true)
        _ = update(&state, .verdictsPushed(VerdictPushSummary(stored: 1, pending: 0, failure: nil)))
        #expect(state.verdictPushProblem == nil && state.message?.contains("verdict SR stored on orthanc") == true)
        // A report read back shows in the AI panel.
        var content = StructuredReportContent(document: .init(sopClassUID: "1.2.840.10008.5.1.4.1.1.88.22", sopInstanceUID: "2.25.9",
                                                                seriesInstanceUID: "2.25.8", studyInstanceUID: uid, contentDate: "20261201",
                                                                contentTime: "101500", seriesDescription: "", manufacturer: "Lightbox",
                                                                modality: "SR"), items: [])
        content.items = [
            .init(level: "1", relationship: "", type: "CONTAINER", concept: CodedConcept("126000", "DCM", "Imaging Measurement Report")),
            .init(level: "2", relationship: "HAS OBS CONTEXT", type: "PNAME", concept: CodedConcept("121008", "DCM", "Person Observer Name"),
                  text: "bob"),
            .init(level: "3", relationship: "CONTAINS", type: "CODE", concept: VerdictCodes.verdict, code: VerdictCodes.code(.override)),
            .init(level: "3", relationship: "CONTAINS", type: "CODE", concept: VerdictCodes.reason, code: VerdictCodes.code(.imageQuality)),
        ]
        let report = try #require(VerdictReadBack(content))
        _ = update(&state, .verdictsRead(studyInstanceUID: uid, [report]))
        _ = update(&state, .studyAnalysed(StudyResult(studyInstanceUID: uid, model: "m", modelVersion: "1", probability: 0.5, rawProbability: 0.5,
                                                      tier: .review, reason: nil, findings: [], imagesAnalysed: 1, imagesSkipped: 0)))
        let context = ScreenContext(theme: .dark, capabilities: TerminalCapabilities(colorDepth: .direct, unicode: true))
        let screen = Screens.draw(state, context: context).textRows.joined(separator: "\n")
        #expect(screen.contains("Verdicts in the PACS:") && screen.contains("override (image quality) on the whole"), "\(screen)")
        // Without a destination a saved decision goes nowhere.
        var local = AppState(width: 160, height: 48, sourceName: "folder")
        #expect(!update(&local, .decisionSaved(decision, LedgerReceipt(sequence: 1, hash: "h", inserted: true))).contains(.pushVerdicts))
    }
}
