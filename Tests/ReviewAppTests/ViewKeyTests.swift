import LightboxCore
import ReviewApp
import Testing
import TerminalUI
import TestSupport

/// Zoom, pan, zoom to a finding and the pixel probe, through `Review.update` and the screen.
struct ViewKeyTests {
    let context = ScreenContext(theme: .dark, capabilities: TerminalCapabilities(colorDepth: .direct, unicode: true))

    /// The fixture CT (64×64, 0.7 mm pixels) open on slice `slice`, its image decoded.
    func viewer(slice: Int = 0, overlay: Bool = true) -> AppState {
        var state = AppState(width: 160, height: 48, sourceName: "memory", overlayLabel: overlay ? "test overlay" : nil)
        _ = update(&state, .worklistLoaded(Worklist(studies: ReviewFixtures.studies().map(\.summary))))
        _ = update(&state, .key(.enter))
        for _ in 0..<slice { _ = update(&state, .key(.down)) }
        load(&state)
        return state
    }

    func load(_ state: inout AppState) {
        let entry = state.currentSlice!
        let values = ReviewFixtures.pattern(entry.key, entry.header)
        let image = DecodedImage(width: 64, height: 64, channels: 1, frames: 1, values: values, header: entry.header)
        _ = Review.update(&state, .sliceLoaded(entry.key, image: image, window: Window(center: 40, width: 400)))
    }

    func press(_ state: inout AppState, _ keys: Key...) {
        for key in keys { _ = update(&state, .key(key)) }
    }

    @Test func zoomKeysStepAndClampAndTheStatusSaysWhatIsShown() {
        var state = viewer()
        press(&state, .character("z"))
        #expect(state.viewer?.viewport.zoom == 2)
        var status = Screens.draw(state, context: context).textRows.last!
        #expect(status.contains("zoom 2× x 16–47 y 16–47 (22×22 mm)"), "\(status)")
        press(&state, .character("z"), .character("z"), .character("z"))
        #expect(state.viewer?.viewport.zoom == 8 && state.message == "Zoom 8× is the closest")
        press(&state, .character("Z"))
        #expect(state.viewer?.viewport.zoom == 4)
        press(&state, .character("x"))
        #expect(state.viewer?.viewport == .whole)
        press(&state, .character("Z"))
        #expect(state.message == "The whole image is shown (1×)")
        status = Screens.draw(state, context: context).textRows.last!
        #expect(!status.contains("zoom"))
    }

    @Test func shiftArrowsPanWhileZoomedAndMoveTenSlicesAtOneTimes() {
        var state = viewer()
        press(&state, .shiftDown)
        #expect(state.viewer?.sliceIndex == 10, "at 1× Shift+Down is 10 slices on")
        load(&state)
        press(&state, .character("z"), .character("z"))  // 4×: a 16-pixel view
        press(&state, .shiftRight)
        #expect(state.viewer?.viewport.region(width: 64, height: 64) == PixelRegion(x: 28, y: 24, width: 16, height: 16), "a quarter view: 4 pixels")
        #expect(state.viewer?.sliceIndex == 10, "zoomed in, Shift+arrows pan")
        for _ in 0..<10 { press(&state, .shiftRight, .shiftUp) }
        #expect(state.viewer?.viewport.region(width: 64, height: 64) == PixelRegion(x: 48, y: 0, width: 16, height: 16))
        #expect(state.message == "At the image's edge")
        press(&state, .character("}"))
        #expect(state.viewer?.sliceIndex == 20, "} still moves 10 slices while zoomed")
        load(&state)
        #expect(state.viewer?.viewport.zoom == 4, "the zoom is kept while scrolling")
        #expect(state.viewer?.viewport.region(width: 64, height: 64) == PixelRegion(x: 48, y: 0, width: 16, height: 16), "and the pan")
    }

    @Test func theProbeReadsTheDecodedValueAndMeasuresInMillimetres() throws {
        var state = viewer(slice: 2)
        press(&state, .character("v"))
        let probe = try #require(state.viewer?.probe)
        #expect(probe.x == 32 && probe.y == 32, "starts in the middle of the view")
        // The view on screen: 64 pixels in about 90 picture pixels, so one step is one image pixel.
        press(&state, .right, .right, .right, .down)
        #expect(state.viewer?.probe?.x == 35 && state.viewer?.probe?.y == 33)
        #expect(state.viewer?.sliceIndex == 2, "arrows move the probe, not the slice")
        var bar = Screens.draw(state, context: context).textRows[46]
        // The pattern: −200 + 8x + 4y + 3·slice = −200 + 280 + 132 + 6 = 218 HU.
        let image = try #require(state.viewer?.image)
        #expect(image.values[33 * 64 + 35] == 218)
        #expect(bar.contains("probe (35, 33) px (24.5, 23.1, 5.0) mm 218 HU"), "\(bar)")
        press(&state, .character("m"))
        for _ in 0..<4 { press(&state, .left) }
        press(&state, .up, .up, .up)
        bar = Screens.draw(state, context: context).textRows[46]
        // 4 columns and 3 rows of 0.7 mm: 0.7 · 5 = 3.5 mm.
        #expect(bar.contains("(31, 30) px") && bar.contains("3.5 mm to the mark"), "\(bar)")
        press(&state, .character("j"))
        load(&state)
        bar = Screens.draw(state, context: context).textRows[46]
        // The next slice is 2.5 mm further: √(3.5² + 2.5²).
        #expect(bar.contains(String(format: "%.1f mm to the mark", (3.5 * 3.5 + 2.5 * 2.5).squareRoot())), "\(bar)")
        press(&state, .character("v"))
        #expect(state.viewer?.probe == nil)
    }

    @Test func theProbeStopsAtTheImageEdgeAndSaysWhenThereIsNoSpacing() {
        var state = viewer()
        press(&state, .character("v"))
        for _ in 0..<70 { press(&state, .left) }
        #expect(state.viewer?.probe?.x == 0 && state.message == "The probe is at the image's edge")
        // A file without PixelSpacing or position: the distance in pixels, and why not in mm.
        var header = state.currentSlice!.header
        header.pixelSpacing = nil
        header.imagePositionPatient = nil
        let image = DecodedImage(width: 64, height: 64, channels: 1, frames: 1, values: [Float](repeating: 5, count: 4096), header: header)
        _ = Review.update(&state, .sliceLoaded(state.currentSlice!.key, image: image, window: Window(center: 40, width: 400)))
        press(&state, .character("m"), .right, .right)
        let bar = Screens.draw(state, context: context).textRows[46]
        #expect(bar.contains("no spacing: distance unknown (2, 0 px)"), "\(bar)")
    }

    @Test func theProbeFollowedOutOfAZoomedViewPansIt() {
        var state = viewer()
        press(&state, .character("z"), .character("z"), .character("z"))  // 8×: 8 pixels, about 11 picture pixels each
        press(&state, .character("v"))
        let before = state.viewer!.viewport.region(width: 64, height: 64)
        for _ in 0..<6 { press(&state, .right) }
        let after = state.viewer!.viewport.region(width: 64, height: 64)
        let probe = state.viewer!.probe!
        #expect(after.x > before.x, "the view pans with the probe")
        #expect(probe.x >= after.x && probe.x < after.x + after.width)
    }

    @Test func zoomToFindingCentresOnTheOverlayAndFollowsNextFindings() throws {
        var state = viewer(slice: 3)
        // A heatmap hot in cells x 10–13, y 2–5 of 16 (a 4-cell box: 25% of the slice).
        let values: [Float] = (0..<256).map { (i: Int) -> Float in (10...13).contains(i % 16) && (2...5).contains(i / 16) ? 0.9 : 0 }
        let key = state.currentSlice!.key
        _ = Review.update(&state, .overlayLoaded(key, Heatmap(width: 16, height: 16, values: values)))
        press(&state, .character("f"))
        let view = try #require(state.viewer?.viewport)
        #expect(view.zoom == 2, "a quarter-wide box with its margin fits at 2×")
        #expect(view.region(width: 64, height: 64) == PixelRegion(x: 32, y: 0, width: 32, height: 32), "centred on (0.75, 0.25), clamped at the top")
        #expect(state.viewer?.followFinding == true)
        // n goes to the next finding slice; when its overlay arrives, the view centres on it.
        _ = Review.update(&state, .findingsFound(studyInstanceUID: "2.25.1", seriesIndex: 0, slices: [3, 12]))
        press(&state, .character("n"))
        #expect(state.viewer?.sliceIndex == 12)
        let low: [Float] = (0..<256).map { (i: Int) -> Float in (2...3).contains(i % 16) && (12...13).contains(i / 16) ? 0.8 : 0 }
        _ = Review.update(&state, .overlayLoaded(state.currentSlice!.key, Heatmap(width: 16, height: 16, values: low)))
        #expect(state.viewer?.viewport.zoom == 2, "n/p keep the zoom")
        #expect(state.viewer?.viewport.region(width: 64, height: 64) == PixelRegion(x: 0, y: 32, width: 32, height: 32))
        // A pan stops following.
        press(&state, .shiftRight)
        #expect(state.viewer?.followFinding == false)
    }

    @Test func zoomToFindingWithoutOneSaysWhy() {
        var state = viewer(slice: 1)
        _ = Review.update(&state, .overlayLoaded(state.currentSlice!.key, nil))
        press(&state, .character("f"))
        #expect(state.message == "No findings in this series")
        var plain = viewer(overlay: false)
        press(&plain, .character("f"))
        #expect(plain.message == "No findings: no model is configured")
    }

    @Test func theHelpListsTheViewKeysFromTheTable() {
        var state = viewer()
        press(&state, .character("?"))
        state.height = 160
        let help = Screens.draw(state, context: context).textRows
        #expect(help.contains { $0.contains("Viewer, zoomed in") })
        #expect(help.contains { $0.contains("Shift+Left") && $0.contains("pan left") })
        #expect(help.contains { $0.contains("z") && $0.contains("zoom in") })
    }

    @Test func aOneByOneImageZoomsAndProbesWithoutTrouble() {
        var state = viewer()
        var header = state.currentSlice!.header
        header.rows = 1
        header.columns = 1
        let image = DecodedImage(width: 1, height: 1, channels: 1, frames: 1, values: [42], header: header)
        _ = Review.update(&state, .sliceLoaded(state.currentSlice!.key, image: image, window: Window(center: 40, width: 400)))
        press(&state, .character("z"), .character("z"), .character("z"), .character("v"), .right, .down, .shiftLeft)
        #expect(state.viewer?.viewport.zoom == 8)
        #expect(state.viewer?.probe?.x == 0 && state.viewer?.probe?.y == 0)
        let rows = Screens.draw(state, context: context).textRows
        #expect(rows[46].contains("probe (0, 0) px") && rows[46].contains(" 42 HU"), "\(rows[46])")
        #expect(rows[47].contains("zoom 8× x 0–0 y 0–0"), "\(rows[47])")
    }
}
