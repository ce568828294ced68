import LightboxCore
import ReviewApp
import Testing
import TerminalUI
import TestSupport

/// A state and a message in; the new state and effects out.
struct UpdateTests {
    static let image = DecodedImage(width: 1, height: 1, channels: 1, frames: 1, values: [0], header: ImageHeader())

    func loaded(overlay: Bool = false, ctSeries: Int = 1, width: Int = 160, height: Int = 48) -> AppState {
        var state = AppState(width: width, height: height, sourceName: "memory", overlayLabel: overlay ? "test overlay" : nil)
        _ = Review.update(&state, .worklistLoaded(studies: ReviewFixtures.studies(ctSeries: ctSeries), skipped: 0, failed: 0))
        return state
    }

    func press(_ state: inout AppState, _ keys: Key...) -> [Effect] {
        var effects: [Effect] = []
        for key in keys { effects += Review.update(&state, .key(key)) }
        return effects
    }

    func opened(overlay: Bool = false, ctSeries: Int = 1) -> AppState {
        var state = loaded(overlay: overlay, ctSeries: ctSeries)
        _ = press(&state, .enter)
        return state
    }

    @Test func worklistLoadsAndNavigates() {
        var state = loaded()
        #expect(!state.loading)
        #expect(state.visibleStudies.map(\.header.modality) == ["CT", "MR", "DX"])
        _ = press(&state, .down)
        #expect(state.selectedRow == 1)
        _ = press(&state, .character("j"), .character("j"), .character("j"))
        #expect(state.selectedRow == 2)
        _ = press(&state, .character("k"))
        #expect(state.selectedRow == 1)
        _ = press(&state, .home)
        #expect(state.selectedRow == 0)
        _ = press(&state, .end)
        #expect(state.selectedRow == 2)
        _ = press(&state, .pageUp)
        #expect(state.selectedRow == 0)
        _ = press(&state, .character("]"))
        #expect(state.selectedRow == 1)
        _ = press(&state, .character("["))
        #expect(state.selectedRow == 0)
    }

    @Test func enterOpensTheViewerOnTheFirstSliceAndPrefetchesNeighbours() throws {
        var state = loaded(overlay: true)
        let effects = press(&state, .enter)
        #expect(state.screen == .viewer)
        #expect(state.viewer?.sliceIndex == 0)
        #expect(state.status["2.25.1"] == .viewed)
        let slices = state.currentSlices
        #expect(effects.count == 3)
        guard case .findFindings(let uid, 0, let entries) = effects[0] else { Issue.record("no findFindings: \(effects)"); return }
        #expect(uid == "2.25.1" && entries.count == 30)
        #expect(effects[1] == .showSlice(slices[0].key, prefetch: (1...Review.prefetchRadius).map { slices[$0].key }))
        #expect(effects[2] == .loadOverlay(slices[0]), "the overlay arrives as a message, never read while drawing")
    }

    @Test("slice keys move and clamp", arguments: [
        ([Key.down], 1), ([.character("j"), .character("j")], 2), ([.up], 0), ([.shiftDown], 10), ([.shiftDown, .shiftDown, .shiftDown, .shiftDown], 29),
        ([.end], 29), ([.end, .home], 0), ([.end, .shiftUp], 19), ([.end, .down], 29), ([.character("k")], 0),
    ])
    func sliceNavigation(keys: [Key], expected: Int) {
        var state = opened()
        var last: [Effect] = []
        var before = 0
        for key in keys {
            before = state.viewer?.sliceIndex ?? -1
            last = press(&state, key)
        }
        #expect(state.viewer?.sliceIndex == expected)
        if before == expected {
            // A move clamped at the first or last slice changes nothing and decodes nothing.
            #expect(last.isEmpty, "a clamped move asked for \(last)")
        } else {
            guard case .showSlice(let key, let prefetch)? = last.first else {
                Issue.record("a move must show the new slice: \(last)")
                return
            }
            #expect(key == state.currentSlices[expected].key)
            #expect(!prefetch.contains(key) && prefetch.count <= 2 * Review.prefetchRadius)
        }
    }

    @Test func pageKeysChangeSeries() {
        var state = opened(ctSeries: 2)
        _ = press(&state, .down, .down)
        let effects = press(&state, .pageDown)
        #expect(state.viewer?.seriesIndex == 1)
        #expect(state.viewer?.sliceIndex == 0)
        #expect(state.viewer?.window == nil)
        #expect(effects.contains { if case .showSlice(let key, _) = $0 { key.path == "/ct/2/0.dcm" } else { false } })
        _ = press(&state, .pageDown)
        #expect(state.viewer?.seriesIndex == 1)
        #expect(state.message == "No next series")
        _ = press(&state, .pageUp)
        #expect(state.viewer?.seriesIndex == 0)
    }

    @Test func studyKeysOpenTheNextAndPreviousStudy() {
        var state = opened()
        _ = press(&state, .controlRight)
        #expect(state.currentStudy?.header.modality == "MR")
        _ = press(&state, .character("]"), .character("]"))
        #expect(state.currentStudy?.header.modality == "DX")
        #expect(state.message == "Last study of the worklist")
        _ = press(&state, .controlLeft)
        #expect(state.currentStudy?.header.modality == "MR")
        _ = press(&state, .character("q"))
        #expect(state.screen == .worklist)
        #expect(state.selectedRow == 1)
    }

    @Test func sliceLoadedSetsTheInitialWindowOnlyForTheCurrentSlice() {
        var state = opened()
        let other = state.currentSlices[5].key
        _ = Review.update(&state, .sliceLoaded(other, image: Self.image, window: Window(center: 1, width: 2)))
        #expect(state.viewer?.window == nil)
        let current = state.currentSlices[0].key
        _ = Review.update(&state, .sliceLoaded(current, image: Self.image, window: Window(center: 40, width: 400)))
        #expect(state.viewer?.window == Window(center: 40, width: 400))
        #expect(state.viewer?.loadedKey == current)
        _ = press(&state, .down)
        #expect(state.viewer?.loadedKey == nil)
        _ = Review.update(&state, .sliceLoaded(state.currentSlices[1].key, image: Self.image, window: Window(center: 99, width: 9)))
        #expect(state.viewer?.window == Window(center: 40, width: 400), "the window stays when scrolling")
        _ = Review.update(&state, .sliceFailed(state.currentSlices[1].key, "/ct/1/1.dcm: broken"))
        #expect(state.viewer?.sliceError == "/ct/1/1.dcm: broken")
    }

    @Test("CT presets 1-6", arguments: zip(["1", "2", "3", "4", "5", "6"], WindowPreset.allCases))
    func presets(key: String, preset: WindowPreset) {
        var state = opened()
        _ = press(&state, .character(Character(key)))
        #expect(state.viewer?.window == preset.window)
        #expect(state.viewer?.windowName == preset.rawValue)
    }

    @Test func presetsAreRefusedOutsideCTAndZeroRestoresTheImageWindow() {
        var state = opened()
        _ = press(&state, .controlRight)
        _ = Review.update(&state, .sliceLoaded(state.currentSlices[0].key, image: Self.image, window: Window(center: 300, width: 600)))
        _ = press(&state, .character("1"))
        #expect(state.viewer?.window == Window(center: 300, width: 600))
        #expect(state.message?.contains("CT") == true)
        _ = press(&state, .character("W"), .character("L"))
        #expect(state.viewer?.windowName == "custom")
        _ = press(&state, .character("0"))
        #expect(state.viewer?.window == Window(center: 300, width: 600))
    }

    @Test func windowKeysStepByFourPercentOfTheWidth() {
        var state = opened()
        _ = Review.update(&state, .sliceLoaded(state.currentSlices[0].key, image: Self.image, window: Window(center: 40, width: 400)))
        _ = press(&state, .character("w"))
        #expect(state.viewer?.window == Window(center: 40, width: 384))
        _ = press(&state, .character("W"), .character("W"))
        #expect(abs((state.viewer?.window?.width ?? 0) - 415.3344) < 0.01)
        _ = press(&state, .character("l"))
        #expect((state.viewer?.window?.center ?? 0) < 40)
        _ = press(&state, .character("L"), .character("L"))
        #expect((state.viewer?.window?.center ?? 0) > 40)
    }

    @Test func overlayKeys() {
        var state = opened(overlay: true)
        #expect(state.viewer?.overlayVisible == true)
        _ = press(&state, .character("g"))
        #expect(state.viewer?.overlayVisible == false)
        _ = press(&state, .character("+"))
        #expect(state.viewer?.overlayVisible == true)
        #expect(state.viewer?.overlayOpacity == 0.6)
        _ = press(&state, .character("-"), .character("-"), .character("-"), .character("-"), .character("-"), .character("-"))
        #expect(state.viewer?.overlayOpacity == 0.1)
        _ = press(&state, .character("c"))
        #expect(state.viewer?.contourOnly == true)
        var plain = opened(overlay: false)
        _ = press(&plain, .character("g"))
        #expect(plain.message?.contains("No overlay") == true)
    }

    @Test func findingKeysJumpBetweenFindingSlices() {
        var state = opened(overlay: true)
        _ = Review.update(&state, .findingsFound(studyInstanceUID: "2.25.1", seriesIndex: 0, slices: [4, 5, 17]))
        _ = press(&state, .character("n"))
        #expect(state.viewer?.sliceIndex == 4)
        _ = press(&state, .character("n"), .character("n"))
        #expect(state.viewer?.sliceIndex == 17)
        _ = press(&state, .character("n"))
        #expect(state.message == "No later finding in this series")
        _ = press(&state, .character("p"))
        #expect(state.viewer?.sliceIndex == 5)
        // Results for another series are ignored.
        _ = Review.update(&state, .findingsFound(studyInstanceUID: "2.25.1", seriesIndex: 3, slices: [1]))
        #expect(state.viewer?.findingSlices == [4, 5, 17])
    }

    @Test("without an AI result, decision keys say why and record nothing", arguments: ["a", "o", "d", "s"])
    func nothingToDecideOn(key: String) {
        var state = opened()
        let effects = press(&state, .character(Character(key)))
        #expect(effects.isEmpty)
        #expect(state.message?.isEmpty == false)
        #expect(state.message?.contains("Saved") != true)
        #expect(state.overridePrompt == nil)
    }

    @Test func headerKeyLoadsAndScrollsTheHeader() {
        var state = opened()
        let effects = press(&state, .character("i"))
        #expect(effects == [.loadHeader(state.currentSlices[0].key)])
        _ = Review.update(&state, .headerLoaded((0..<100).map { "line \($0)" }))
        #expect(state.screen == .header)
        _ = press(&state, .pageDown, .down)
        #expect(state.headerOffset == 21)
        _ = press(&state, .end)
        #expect(state.headerOffset == 99)
        _ = press(&state, .character("q"))
        #expect(state.screen == .viewer)
    }

    @Test func identifiersToggleAndFilterNeverMatchesMaskedNames() {
        var state = loaded()
        #expect(!state.showIdentifiers)
        _ = press(&state, .character("/"))
        for c in "zed" { _ = press(&state, .character(c)) }
        #expect(state.filterDraft == "zed")
        _ = press(&state, .enter)
        #expect(state.visibleStudies.isEmpty, "a masked patient name must not be searchable")
        _ = press(&state, .character("t"))
        #expect(state.showIdentifiers)
        #expect(state.visibleStudies.map(\.header.modality) == ["MR"])
        _ = press(&state, .character("/"), .backspace, .backspace, .backspace)
        for c in "chest" { _ = press(&state, .character(c)) }
        _ = press(&state, .escape)
        #expect(state.filter == "zed", "Esc keeps the old filter")
        _ = press(&state, .character("/"), .backspace, .backspace, .backspace, .character("x"), .character("r"), .enter)
        #expect(state.visibleStudies.map(\.header.modality) == ["DX"])
    }

    @Test func sortCyclesThroughEveryOrder() {
        var state = loaded()
        var seen: [WorklistSort] = [state.sort]
        for _ in 0..<5 {
            _ = press(&state, .character("S"))
            seen.append(state.sort)
        }
        #expect(seen == [.priority, .arrival, .patient, .modality, .status, .priority])
        _ = press(&state, .character("S"), .character("S"))
        #expect(state.visibleStudies.map(\.header.patientName) == ["ABLE^DX", "CANARY^PHI", "ZED^MR"])
    }

    @Test func helpOpensAndAnyKeyCloses() {
        var state = opened()
        _ = press(&state, .character("?"))
        #expect(state.screen == .help)
        _ = press(&state, .down)
        #expect(state.helpOffset == 1)
        _ = press(&state, .character("x"))
        #expect(state.screen == .viewer)
    }

    @Test func quitLeavesTheViewerThenTheApp() {
        var state = opened()
        #expect(press(&state, .character("q")).isEmpty)
        #expect(state.screen == .worklist && state.viewer == nil)
        #expect(press(&state, .character("q")) == [.quit])
        #expect(state.quitRequested)
    }

    @Test func resizeIsRecorded() {
        var state = loaded()
        _ = Review.update(&state, .resized(width: 20, height: 5))
        #expect(state.width == 20 && state.height == 5)
    }

    @Test func reboundKeysDispatchAndUnknownNamesAreReported() {
        var map = KeyMap.defaults
        let problems = map.rebind(["next_slice": ["x", "Down"], "bogus": ["y"], "previous_slice": ["NoSuchKey"]])
        #expect(problems.count == 2)
        #expect(map.action(for: .character("x"), in: .viewer) == .nextSlice)
        #expect(map.action(for: .character("j"), in: .viewer) == nil)
        #expect(map.action(for: .up, in: .viewer) == .previousSlice)
        var state = AppState(width: 160, height: 48, sourceName: "m", keyMap: map)
        _ = Review.update(&state, .worklistLoaded(studies: ReviewFixtures.studies(), skipped: 0, failed: 0))
        _ = press(&state, .enter, .character("x"))
        #expect(state.viewer?.sliceIndex == 1)
    }
}

/// The reviewer with AI results: priority order, tiers, findings for n/p, urgent analysis of the
/// study being opened. Results are plain values here; ModelReviewTests runs a real model.
struct AIResultUpdateTests {
    func result(_ uid: String, _ probability: Double, tier: ConfidenceTier, series: String = "", peaks: [Int] = [],
                reason: String? = nil) -> StudyResult {
        StudyResult(studyInstanceUID: uid, model: "m", modelVersion: "1", probability: probability, rawProbability: probability, tier: tier,
                    reason: reason,
                    findings: peaks.map { SeriesFinding(seriesInstanceUID: series, finding: Finding(firstSlice: $0, lastSlice: $0, box: [0, 0, 2, 2], peak: 0.9, peakSlice: $0)) },
                    imagesAnalysed: 1, imagesSkipped: 0)
    }

    func loaded() -> (AppState, [Effect]) {
        var state = AppState(width: 160, height: 48, sourceName: "memory", overlayLabel: "AI heatmap", model: .ready(["m 1"]))
        let effects = Review.update(&state, .worklistLoaded(studies: ReviewFixtures.studies(), skipped: 0, failed: 0))
        return (state, effects)
    }

    @Test func loadingTheWorklistQueuesEveryStudyForTheModel() {
        let (_, effects) = loaded()
        guard case .analyse(let studies, let urgent)? = effects.first else {
            Issue.record("no analyse effect: \(effects)")
            return
        }
        #expect(studies.map(\.studyInstanceUID) == ["2.25.1", "2.25.2", "2.25.3"])
        #expect(!urgent)
        var none = AppState(width: 160, height: 48, sourceName: "memory")
        #expect(Review.update(&none, .worklistLoaded(studies: ReviewFixtures.studies(), skipped: 0, failed: 0)).isEmpty, "no model, no analysis")
    }

    @Test func priorityOrdersMostSuspiciousFirstAndKeepsTheSelection() {
        var (state, _) = loaded()
        #expect(state.visibleStudies.map(\.studyInstanceUID) == ["2.25.1", "2.25.2", "2.25.3"], "no results yet: arrival order")
        state.selectedRow = 2  // the DX
        _ = Review.update(&state, .studyAnalysed(result("2.25.3", 0.93, tier: .high)))
        #expect(state.visibleStudies.first?.studyInstanceUID == "2.25.3")
        #expect(state.selectedRow == 0, "the selected study stays selected")
        _ = Review.update(&state, .studyAnalysed(result("2.25.1", 0.40, tier: .review)))
        _ = Review.update(&state, .studyAnalysed(result("2.25.2", 0.99, tier: .high, reason: "outside the model's domain (modality MR)")))
        // Judged results by probability, then the one outside the domain.
        #expect(state.visibleStudies.map(\.studyInstanceUID) == ["2.25.3", "2.25.1", "2.25.2"])
        _ = Review.update(&state, .key(.character("S")))
        #expect(state.visibleStudies.map(\.studyInstanceUID) == ["2.25.1", "2.25.2", "2.25.3"], "arrival")
    }

    @Test func openingAStudyWithoutAResultAnalysesItFirst() {
        var (state, _) = loaded()
        let effects = Review.update(&state, .key(.enter))
        #expect(effects.contains(.analyse([ReviewFixtures.studies()[0]], urgent: true)))
        var (analysed, _) = loaded()
        _ = Review.update(&analysed, .studyAnalysed(result("2.25.1", 0.8, tier: .medium)))
        let again = Review.update(&analysed, .key(.enter))
        #expect(!again.contains { if case .analyse = $0 { true } else { false } }, "a study with a result is not analysed again")
    }

    func openedWithResult() -> AppState {
        var (state, _) = loaded()
        state = AppState(width: 160, height: 48, sourceName: "memory", overlayLabel: "AI heatmap", model: .ready(["m 1"]), reader: "dr-a",
                         ledgerProblem: nil)
        _ = Review.update(&state, .worklistLoaded(studies: ReviewFixtures.studies(), skipped: 0, failed: 0))
        _ = Review.update(&state, .key(.enter))
        _ = Review.update(&state, .studyAnalysed(result("2.25.1", 0.95, tier: .high, series: "2.25.1.1", peaks: [12])))
        return state
    }

    @Test func acceptSavesOnlyWhenTheLedgerConfirms() throws {
        var state = openedWithResult()
        let effects = Review.update(&state, .key(.character("a")))
        guard case .recordDecision(let decision)? = effects.first else {
            Issue.record("no record effect: \(effects)")
            return
        }
        #expect(decision.action == .accept && decision.finding == nil, "slice 1 is outside the finding: the whole study")
        #expect(decision.reader == "dr-a" && decision.model == "m" && decision.outputHash.count == 64)
        #expect(decision.patientID == "CANARY123" && decision.studyInstanceUID == "2.25.1")
        #expect(state.save.isSaving && state.message?.hasPrefix("Saving") == true)
        #expect(!decision.isStamped, "the effect gives the decision its id and time, not update")
        #expect(state.statusText("2.25.1") == "viewed", "not saved yet")
        _ = Review.update(&state, .decisionSaved(decision, LedgerReceipt(sequence: 3, hash: "h", inserted: true)))
        #expect(state.message == "Saved: accept on the whole study (audit row 3)")
        #expect(state.statusText("2.25.1") == "accepted" && state.save == .idle)
    }

    @Test func timeOnStudyComesFromTheKeysClock() throws {
        var (state, _) = loaded()
        state.ledgerProblem = nil
        _ = Review.update(&state, .key(.enter, at: 100))
        _ = Review.update(&state, .studyAnalysed(result("2.25.1", 0.95, tier: .high)))
        _ = Review.update(&state, .key(.down, at: 112))
        let effects = Review.update(&state, .key(.character("a"), at: 142.4))
        guard case .recordDecision(let decision)? = effects.first else {
            Issue.record("no record effect: \(effects)")
            return
        }
        #expect(decision.secondsSpent == 42, "opened at 100 s, decided at 142.4 s")
    }

    @Test func aDecisionOnTheFindingOnScreen() {
        var state = openedWithResult()
        _ = Review.update(&state, .key(.character("n")))
        #expect(state.currentFinding == 0)
        let effects = Review.update(&state, .key(.character("d")))
        #expect(effects.contains { if case .recordDecision(let d) = $0 { d.finding == 0 && d.action == .deferred } else { false } })
    }

    @Test func overrideAsksForAReasonAndAnOptionalComment() {
        var state = openedWithResult()
        #expect(Review.update(&state, .key(.character("o"))).isEmpty)
        #expect(state.overridePrompt != nil)
        #expect(Review.update(&state, .key(.enter)).isEmpty, "no reason yet")
        _ = Review.update(&state, .key(.character("3")))
        #expect(state.overridePrompt?.reason == .wrongLocation)
        for c in "left lobe" { _ = Review.update(&state, .key(.character(c))) }
        let effects = Review.update(&state, .key(.enter))
        guard case .recordDecision(let decision)? = effects.first else {
            Issue.record("no record effect")
            return
        }
        #expect(decision.action == .override && decision.reason == .wrongLocation && decision.comment == "left lobe")
        #expect(state.overridePrompt == nil)
        // Esc cancels without saving.
        var other = openedWithResult()
        _ = Review.update(&other, .key(.character("o")))
        #expect(Review.update(&other, .key(.escape)).isEmpty)
        #expect(other.overridePrompt == nil && other.message?.contains("nothing saved") == true)
    }

    @Test func aFailedSaveSaysSoKeepsTheDecisionAndRetriesTheSameId() {
        var state = openedWithResult()
        guard case .recordDecision(let decision)? = Review.update(&state, .key(.character("a"))).first else {
            Issue.record("no record effect")
            return
        }
        _ = Review.update(&state, .decisionFailed(decision, "disk I/O error"))
        #expect(state.message?.hasPrefix("NOT saved: disk I/O error") == true)
        #expect(state.save == .failed(decision, "disk I/O error") && state.statusText("2.25.1") == "viewed")
        #expect(Review.update(&state, .key(.character("a"))).isEmpty, "a new decision waits for the unsaved one")
        let retry = Review.update(&state, .key(.character("r")))
        #expect(retry == [.recordDecision(decision)], "same id: a retry can never double a row")
        _ = Review.update(&state, .decisionFailed(decision, "disk I/O error"))
        _ = Review.update(&state, .key(.character("q")))
        #expect(state.screen == .viewer && state.message?.contains("NOT saved") == true, "q warns first")
        _ = Review.update(&state, .key(.character("q")))
        #expect(state.screen == .worklist)
    }

    @Test func aSimilarCaseOpensBesideTheCurrentStudy() throws {
        var state = openedWithResult()
        state.similarAvailable = true
        let study = try #require(state.currentStudy)
        #expect(Review.update(&state, .key(.character("s"))) == [.findSimilar(study)])
        let record = CaseRecord(studyInstanceUID: "2.25.2", model: "m@1", embedding: [1, 0], label: "abnormal", decision: nil, date: "20260102",
                                source: "reference", summary: "MR BRAIN")
        _ = Review.update(&state, .similarFound(studyInstanceUID: "2.25.1", [SimilarCase(record: record, similarity: 0.93)]))
        let effects = Review.update(&state, .key(.enter))
        let compare = try #require(state.compare)
        #expect(compare.studyInstanceUID == "2.25.2" && compare.caption.contains("0.93") && compare.caption.contains("abnormal"))
        #expect(effects == [.showCompare(compare.key)], "the case's image is decoded, the slice on screen stays")
        #expect(state.viewer?.studyInstanceUID == "2.25.1", "the current study stays open")
        _ = Review.update(&state, .key(.escape))
        #expect(state.compare == nil)
    }

    @Test func findingKeysFollowTheModelsFindings() {
        var (state, _) = loaded()
        _ = Review.update(&state, .key(.enter))
        _ = Review.update(&state, .key(.character("n")))
        #expect(state.message == "The AI result for this study is still being computed")
        _ = Review.update(&state, .studyAnalysed(result("2.25.1", 0.95, tier: .high, series: "2.25.1.1", peaks: [12, 3])))
        #expect(state.viewer?.findingSlices == [3, 12])
        _ = Review.update(&state, .key(.character("n")))
        #expect(state.viewer?.sliceIndex == 3)
        _ = Review.update(&state, .key(.character("n")))
        #expect(state.viewer?.sliceIndex == 12)
        _ = Review.update(&state, .key(.character("p")))
        #expect(state.viewer?.sliceIndex == 3)
    }
}
