import LightboxCore
import ReviewApp
import Testing
import TerminalUI
import TestSupport

/// `Review.update`, with `.openStudy` answered at once by the fixture study (as a runner would).
func update(_ state: inout AppState, _ message: Message) -> [Effect] {
    var effects = Review.update(&state, message)
    for case .openStudy(let uid) in effects {
        let series = state.studies.first { $0.studyInstanceUID == uid }?.seriesCount ?? 1
        if let study = ReviewFixtures.studies(ctSeries: uid == "2.25.1" ? series : 1).first(where: { $0.studyInstanceUID == uid }) {
            effects += Review.update(&state, .studyOpened(study))
        }
    }
    return effects
}

/// A state and a message in; the new state and effects out.
struct UpdateTests {
    static let image = DecodedImage(width: 1, height: 1, channels: 1, frames: 1, values: [0], header: ImageHeader())

    func loaded(overlay: Bool = false, ctSeries: Int = 1, width: Int = 160, height: Int = 48) -> AppState {
        var state = AppState(width: width, height: height, sourceName: "memory", overlayLabel: overlay ? "test overlay" : nil)
        _ = update(&state, .worklistLoaded(Worklist(studies: ReviewFixtures.studies(ctSeries: ctSeries).map(\.summary))))
        return state
    }

    func press(_ state: inout AppState, _ keys: Key...) -> [Effect] {
        var effects: [Effect] = []
        for key in keys { effects += update(&state, .key(key)) }
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
        #expect(state.visibleStudies.map(\.modality) == ["CT", "MR", "DX"])
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
        #expect(effects.count == 4)
        #expect(effects[0] == .openStudy("2.25.1"), "the worklist holds summaries: the series load first")
        guard case .findFindings(let uid, 0, let entries) = effects[1] else { Issue.record("no findFindings: \(effects)"); return }
        #expect(uid == "2.25.1" && entries.count == 30)
        #expect(effects[2] == .showSlice(slices[0].key, prefetch: (1...Review.prefetchRadius).map { slices[$0].key }))
        #expect(effects[3] == .loadOverlay(slices[0]), "the overlay arrives as a message, never read while drawing")
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
        _ = update(&state, .sliceLoaded(other, image: Self.image, window: Window(center: 1, width: 2)))
        #expect(state.viewer?.window == nil)
        let current = state.currentSlices[0].key
        _ = update(&state, .sliceLoaded(current, image: Self.image, window: Window(center: 40, width: 400)))
        #expect(state.viewer?.window == Window(center: 40, width: 400))
        #expect(state.viewer?.loadedKey == current)
        _ = press(&state, .down)
        #expect(state.viewer?.loadedKey == nil)
        _ = update(&state, .sliceLoaded(state.currentSlices[1].key, image: Self.image, window: Window(center: 99, width: 9)))
        #expect(state.viewer?.window == Window(center: 40, width: 400), "the window stays when scrolling")
        _ = update(&state, .sliceFailed(state.currentSlices[1].key, "/ct/1/1.dcm: broken"))
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
        _ = update(&state, .sliceLoaded(state.currentSlices[0].key, image: Self.image, window: Window(center: 300, width: 600)))
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
        _ = update(&state, .sliceLoaded(state.currentSlices[0].key, image: Self.image, window: Window(center: 40, width: 400)))
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
        _ = update(&state, .findingsFound(studyInstanceUID: "2.25.1", seriesIndex: 0, slices: [4, 5, 17]))
        _ = press(&state, .character("n"))
        #expect(state.viewer?.sliceIndex == 4)
        _ = press(&state, .character("n"), .character("n"))
        #expect(state.viewer?.sliceIndex == 17)
        _ = press(&state, .character("n"))
        #expect(state.message == "No later finding in this series")
        _ = press(&state, .character("p"))
        #expect(state.viewer?.sliceIndex == 5)
        // Results for another series are ignored.
        _ = update(&state, .findingsFound(studyInstanceUID: "2.25.1", seriesIndex: 3, slices: [1]))
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
        _ = update(&state, .headerLoaded((0..<100).map { HeaderLine(depth: 0, group: 0x0009, element: UInt16($0), vr: "LO", name: "Line", value: "line \($0)") }))
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
        #expect(state.visibleStudies.map(\.modality) == ["MR"])
        _ = press(&state, .character("/"), .backspace, .backspace, .backspace)
        for c in "chest" { _ = press(&state, .character(c)) }
        _ = press(&state, .escape)
        #expect(state.filter == "zed", "Esc keeps the old filter")
        _ = press(&state, .character("/"), .backspace, .backspace, .backspace, .character("x"), .character("r"), .enter)
        #expect(state.visibleStudies.map(\.modality) == ["DX"])
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
        #expect(state.visibleStudies.map(\.patientName) == ["ABLE^DX", "CANARY^PHI", "ZED^MR"])
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
        _ = update(&state, .resized(width: 20, height: 5))
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
        _ = update(&state, .worklistLoaded(Worklist(studies: ReviewFixtures.studies().map(\.summary))))
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
        var state = AppState(width: 160, height: 48, sourceName: "memory", overlayLabel: "AI heatmap", model: .ready(["m@1"]))
        let effects = update(&state, .worklistLoaded(Worklist(studies: ReviewFixtures.studies().map(\.summary))))
        return (state, effects)
    }

    @Test func loadingTheWorklistQueuesEveryStudyForTheModel() {
        let (_, effects) = loaded()
        guard case .analyse(let studies, let urgent)? = effects.first else {
            Issue.record("no analyse effect: \(effects)")
            return
        }
        #expect(studies == ["2.25.1", "2.25.2", "2.25.3"])
        #expect(!urgent)
        var none = AppState(width: 160, height: 48, sourceName: "memory")
        #expect(update(&none, .worklistLoaded(Worklist(studies: ReviewFixtures.studies().map(\.summary)))).isEmpty, "no model, no analysis")
    }

    @Test func priorityOrdersMostSuspiciousFirstAndKeepsTheSelection() {
        var (state, _) = loaded()
        #expect(state.visibleStudies.map(\.studyInstanceUID) == ["2.25.1", "2.25.2", "2.25.3"], "no results yet: arrival order")
        state.selectedRow = 2  // the DX
        _ = update(&state, .studyAnalysed(result("2.25.3", 0.93, tier: .high)))
        #expect(state.visibleStudies.first?.studyInstanceUID == "2.25.3")
        #expect(state.selectedRow == 0, "the selected study stays selected")
        _ = update(&state, .studyAnalysed(result("2.25.1", 0.40, tier: .review)))
        _ = update(&state, .studyAnalysed(result("2.25.2", 0.99, tier: .high, reason: "outside the model's domain (modality MR)")))
        // Judged results by probability, then the one outside the domain.
        #expect(state.visibleStudies.map(\.studyInstanceUID) == ["2.25.3", "2.25.1", "2.25.2"])
        _ = update(&state, .key(.character("S")))
        #expect(state.visibleStudies.map(\.studyInstanceUID) == ["2.25.1", "2.25.2", "2.25.3"], "arrival")
    }

    @Test func openingAStudyWithoutAResultAnalysesItFirst() {
        var (state, _) = loaded()
        let effects = update(&state, .key(.enter))
        #expect(effects.contains(.analyse(["2.25.1"], urgent: true)))
        var (analysed, _) = loaded()
        _ = update(&analysed, .studyAnalysed(result("2.25.1", 0.8, tier: .medium)))
        let again = update(&analysed, .key(.enter))
        #expect(!again.contains { if case .analyse = $0 { true } else { false } }, "a study with a result is not analysed again")
    }

    func openedWithResult() -> AppState {
        var (state, _) = loaded()
        state = AppState(width: 160, height: 48, sourceName: "memory", overlayLabel: "AI heatmap", model: .ready(["m@1"]), reader: "dr-a",
                         ledgerProblem: nil)
        _ = update(&state, .worklistLoaded(Worklist(studies: ReviewFixtures.studies().map(\.summary))))
        _ = update(&state, .key(.enter))
        _ = update(&state, .studyAnalysed(result("2.25.1", 0.95, tier: .high, series: "2.25.1.1", peaks: [12])))
        return state
    }

    @Test func acceptSavesOnlyWhenTheLedgerConfirms() throws {
        var state = openedWithResult()
        let effects = update(&state, .key(.character("a")))
        guard case .recordDecision(let decision)? = effects.first else {
            Issue.record("no record effect: \(effects)")
            return
        }
        #expect(decision.action == .accept && decision.finding == nil, "slice 1 is outside the finding: the whole study")
        #expect(decision.reader == "dr-a" && decision.model == "m" && decision.outputHash.count == 64)
        #expect(decision.patientID == "CANARY123" && decision.studyInstanceUID == "2.25.1")
        #expect(state.save.isSaving && state.message?.hasPrefix("Saving") == true)
        #expect(!decision.isStamped, "the effect gives the decision its id and time, not update")
        #expect(state.reviewStatus("2.25.1") == .viewed, "not saved yet")
        _ = update(&state, .decisionSaved(decision, LedgerReceipt(sequence: 3, hash: "h", inserted: true)))
        #expect(state.message == "Saved: accept on the whole study (audit row 3)")
        #expect(state.reviewStatus("2.25.1") == .accepted && state.save == .idle)
    }

    @Test func timeOnStudyComesFromTheKeysClock() throws {
        var (state, _) = loaded()
        state.ledgerProblem = nil
        _ = update(&state, .key(.enter, at: 100))
        _ = update(&state, .studyAnalysed(result("2.25.1", 0.95, tier: .high)))
        _ = update(&state, .key(.down, at: 112))
        let effects = update(&state, .key(.character("a"), at: 142.4))
        guard case .recordDecision(let decision)? = effects.first else {
            Issue.record("no record effect: \(effects)")
            return
        }
        #expect(decision.secondsSpent == 42, "opened at 100 s, decided at 142.4 s")
    }

    @Test func aDecisionOnTheFindingOnScreen() {
        var state = openedWithResult()
        _ = update(&state, .key(.character("n")))
        #expect(state.currentFinding == 0)
        let effects = update(&state, .key(.character("d")))
        #expect(effects.contains { if case .recordDecision(let d) = $0 { d.finding == 0 && d.action == .deferred } else { false } })
    }

    @Test func overrideAsksForAReasonAndAnOptionalComment() {
        var state = openedWithResult()
        #expect(update(&state, .key(.character("o"))).isEmpty)
        #expect(state.overridePrompt != nil)
        #expect(update(&state, .key(.enter)).isEmpty, "no reason yet")
        _ = update(&state, .key(.character("3")))
        #expect(state.overridePrompt?.reason == .wrongLocation)
        for c in "left lobe" { _ = update(&state, .key(.character(c))) }
        let effects = update(&state, .key(.enter))
        guard case .recordDecision(let decision)? = effects.first else {
            Issue.record("no record effect")
            return
        }
        #expect(decision.action == .override && decision.reason == .wrongLocation && decision.comment == "left lobe")
        #expect(state.overridePrompt == nil)
        // Esc cancels without saving.
        var other = openedWithResult()
        _ = update(&other, .key(.character("o")))
        #expect(update(&other, .key(.escape)).isEmpty)
        #expect(other.overridePrompt == nil && other.message?.contains("nothing saved") == true)
    }

    @Test func aFailedSaveSaysSoKeepsTheDecisionAndRetriesTheSameId() {
        var state = openedWithResult()
        guard case .recordDecision(let decision)? = update(&state, .key(.character("a"))).first else {
            Issue.record("no record effect")
            return
        }
        _ = update(&state, .decisionFailed(decision, "disk I/O error"))
        #expect(state.message?.hasPrefix("NOT saved: disk I/O error") == true)
        #expect(state.save == .failed(decision, "disk I/O error") && state.reviewStatus("2.25.1") == .viewed)
        #expect(update(&state, .key(.character("a"))).isEmpty, "a new decision waits for the unsaved one")
        let retry = update(&state, .key(.character("r")))
        #expect(retry == [.recordDecision(decision)], "same id: a retry can never double a row")
        _ = update(&state, .decisionFailed(decision, "disk I/O error"))
        _ = update(&state, .key(.character("q")))
        #expect(state.screen == .viewer && state.message?.contains("NOT saved") == true, "q warns first")
        _ = update(&state, .key(.character("q")))
        #expect(state.screen == .worklist)
    }

    @Test func aSimilarCaseOpensBesideTheCurrentStudy() throws {
        var state = openedWithResult()
        state.similarAvailable = true
        let study = try #require(state.currentStudy)
        #expect(update(&state, .key(.character("s"))) == [.findSimilar(study)])
        let record = CaseRecord(studyInstanceUID: "2.25.2", model: "m@1", embedding: [1, 0], label: .abnormal, decision: nil, date: "20260102",
                                source: .reference, summary: "MR BRAIN")
        _ = update(&state, .similarFound(studyInstanceUID: "2.25.1", [SimilarCase(record: record, similarity: 0.93)]))
        let effects = update(&state, .key(.enter))
        let compare = try #require(state.compare)
        #expect(compare.studyInstanceUID == "2.25.2" && compare.caption.contains("0.93") && compare.caption.contains("abnormal"))
        #expect(effects == [.showCompare("2.25.2")], "the case's image is loaded, the slice on screen stays")
        _ = update(&state, .compareLoaded(studyInstanceUID: "2.25.2", SliceKey(path: "/mr/1.dcm", frame: 0), image: UpdateTests.image,
                                          window: Window(center: 1, width: 2)))
        #expect(state.compare?.image == UpdateTests.image && state.compare?.key?.path == "/mr/1.dcm")
        #expect(state.viewer?.studyInstanceUID == "2.25.1", "the current study stays open")
        _ = update(&state, .key(.escape))
        #expect(state.compare == nil)
    }

    @Test func findingKeysFollowTheModelsFindings() {
        var (state, _) = loaded()
        _ = update(&state, .key(.enter))
        _ = update(&state, .key(.character("n")))
        #expect(state.message == "The AI result for this study is still being computed")
        _ = update(&state, .studyAnalysed(result("2.25.1", 0.95, tier: .high, series: "2.25.1.1", peaks: [12, 3])))
        #expect(state.viewer?.findingSlices == [3, 12])
        _ = update(&state, .key(.character("n")))
        #expect(state.viewer?.sliceIndex == 3)
        _ = update(&state, .key(.character("n")))
        #expect(state.viewer?.sliceIndex == 12)
        _ = update(&state, .key(.character("p")))
        #expect(state.viewer?.sliceIndex == 3)
    }
}

/// The worklist at department scale: the order is kept in the state and moved one row at a time
/// as results arrive; it must always equal a full sort.
struct WorklistOrderTests {
    static func summaries(_ count: Int) -> [StudySummary] {
        (0..<count).map { index in
            StudySummary(studyInstanceUID: "2.25.\(1000 + index)", patientName: "P\(index % 37)^X", patientID: "ID\(index)",
                         studyDate: String(format: "2026%02d%02d", 1 + index % 12, 1 + index % 28), studyDescription: "STUDY \(index % 9)",
                         modalities: [["CT", "MR", "DX"][index % 3]], seriesCount: 1, imageCount: 1 + index % 5)
        }
    }

    /// The order a full sort gives, worked out here from the definitions (not by the code under test).
    static func expected(_ state: AppState) -> [String] {
        let ranked = state.studies.enumerated().map { index, study -> ((Int, Double), Int, String) in
            guard let result = state.results[study.studyInstanceUID] else { return ((2, 0), index, study.studyInstanceUID) }
            return ((result.reason == nil ? 0 : 1, -result.probability), index, study.studyInstanceUID)
        }
        return ranked.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }.map(\.2)
    }

    @Test func resultsArrivingOneByOneKeepThePriorityOrderOfAFullSort() {
        var state = AppState(width: 160, height: 48, sourceName: "memory", model: .ready(["m@1"]))
        _ = Review.update(&state, .worklistLoaded(Worklist(studies: Self.summaries(300))))
        var random = SeededRandomForTests(seed: 11)
        state.selectedRow = 17
        let selected = state.visibleStudy(at: 17)?.studyInstanceUID
        for step in 0..<400 {
            let uid = "2.25.\(1000 + random.next(0...299))"
            let probability = Double(random.next(0...1000)) / 1000
            let outside = random.next(0...9) == 0
            _ = Review.update(&state, .studyAnalysed(StudyResult(
                studyInstanceUID: uid, model: "m", modelVersion: "1", probability: probability, rawProbability: probability, tier: .review,
                reason: outside ? "outside the model's domain" : nil, findings: [], imagesAnalysed: 1, imagesSkipped: 0)))
            #expect(state.visibleStudies.map(\.studyInstanceUID) == Self.expected(state), "step \(step)")
            #expect(state.visibleStudy(at: state.selectedRow)?.studyInstanceUID == selected, "the selection follows its study")
        }
    }

    @Test func filterAndSortChangeTheStoredOrderOnlyWhenTheyChange() {
        var state = AppState(width: 160, height: 48, sourceName: "memory")
        _ = Review.update(&state, .worklistLoaded(Worklist(studies: Self.summaries(50))))
        #expect(state.visible == Array(0..<50), "no model: arrival order")
        _ = update(&state, .key(.character("/")))
        for c in "study 3" { _ = update(&state, .key(.character(c))) }
        #expect(state.visible.count == 50, "a draft does not filter yet")
        _ = update(&state, .key(.enter))
        #expect(state.visibleStudies.allSatisfy { $0.studyDescription == "STUDY 3" } && state.visible.count == 6)
        _ = update(&state, .key(.character("S")))
        #expect(state.sort == .arrival && state.visible.count == 6)
        _ = update(&state, .key(.character("S")))
        let names = state.visibleStudies.map(\.patientName)
        #expect(names == names.sorted(), "patient order")
    }

    @Test func unreadableFilesAreCountedAndListedWithTheirReasons() {
        var state = AppState(width: 120, height: 30, sourceName: "memory")
        let problems = [FileProblem(path: "/data/a.dcm", reason: "malformed", message: "/data/a.dcm: malformed DICOM: truncated"),
                        FileProblem(path: "/data/b.dcm", reason: "geometry mismatch", message: "/data/b.dcm: geometry does not match")]
        _ = Review.update(&state, .worklistLoaded(Worklist(studies: Self.summaries(3), skipped: 4, problems: problems)))
        #expect(state.failedFiles == 2 && state.skippedFiles == 4)
        let context = ScreenContext(theme: .dark, capabilities: TerminalCapabilities(colorDepth: .direct, unicode: true))
        let worklist = Screens.draw(state, context: context).textRows.joined(separator: "\n")
        #expect(worklist.contains("2 file(s) could not be read (! lists them)"))
        _ = update(&state, .key(.character("!")))
        #expect(state.screen == .problems)
        let list = Screens.draw(state, context: context).textRows.joined(separator: "\n")
        #expect(list.contains("/data/a.dcm: malformed DICOM: truncated") && list.contains("/data/b.dcm: geometry does not match"))
        #expect(list.contains("malformed: 1") && list.contains("geometry mismatch: 1"))
        _ = update(&state, .key(.character("x")))
        #expect(state.screen == .worklist)
        var clean = AppState(width: 120, height: 30, sourceName: "memory")
        _ = Review.update(&clean, .worklistLoaded(Worklist(studies: Self.summaries(3))))
        _ = update(&clean, .key(.character("!")))
        #expect(clean.screen == .worklist && clean.message == "Every file of the source could be read")
    }

    @Test func resultsOutsideTheDomainAreMarkedAndTheOrderIsExplained() {
        var state = AppState(width: 160, height: 48, sourceName: "memory", model: .ready(["m@1"]))
        _ = Review.update(&state, .worklistLoaded(Worklist(studies: Self.summaries(2))))
        func result(_ uid: String, _ p: Double, outside: Bool) -> StudyResult {
            StudyResult(studyInstanceUID: uid, model: "m", modelVersion: "1", probability: p, rawProbability: p, tier: .review,
                        reason: outside ? "outside the model's domain (modality DX)" : nil, findings: [], imagesAnalysed: 1, imagesSkipped: 0)
        }
        _ = Review.update(&state, .studyAnalysed(result("2.25.1000", 0.67, outside: true)))
        _ = Review.update(&state, .studyAnalysed(result("2.25.1001", 0.18, outside: false)))
        #expect(state.visibleStudies.map(\.studyInstanceUID) == ["2.25.1001", "2.25.1000"], "the 67% outside the domain goes after the 18%")
        let context = ScreenContext(theme: .dark, capabilities: TerminalCapabilities(colorDepth: .direct, unicode: true))
        let rows = Screens.draw(state, context: context).textRows
        #expect(rows[1].contains("⊘ outside the model's domain, ranked after judged studies"))
        #expect(rows[3].contains("18%") && rows[4].contains("(67%)") && rows[4].contains("⊘ outside"))
    }
}
