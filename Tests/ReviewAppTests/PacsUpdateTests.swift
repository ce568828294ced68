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
