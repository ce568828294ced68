import LightboxCore
import ReviewApp
import Testing
import TerminalUI
import TestSupport
import DicomReading
import Foundation

/// Screens drawn into 80×24 and 160×48 virtual terminals, compared with recorded snapshots.
@Suite(.serialized)
struct ScreenSnapshotTests {
    /// An app on a virtual terminal with the in-memory studies, settled after each step.
    func driver(width: Int, height: Int, capabilities: TerminalCapabilities = TerminalCapabilities(colorDepth: .direct, unicode: true),
                overlay: Bool = true) -> (ReviewApplication, VirtualTerminal) {
        let terminal = VirtualTerminal(width: width, height: height, capabilities: capabilities)
        let source = InMemoryStudySource(studies: ReviewFixtures.studies(), pixels: ReviewFixtures.pattern)
        let app = ReviewApplication(backend: terminal, source: source, heatmaps: overlay ? FixedHeatmapSource(slices: [3, 4, 5]) : nil,
                                    theme: .dark, makeRunner: ImmediateEffectRunner.init)
        app.apply(.resized(width: width, height: height))
        _ = app.frame()
        return (app, terminal)
    }

    func start(_ app: ReviewApplication) {
        // What run() does first, without the loop.
        app.apply(.worklistLoaded(Worklist(studies: ReviewFixtures.studies().map(\.summary))))
    }

    func keys(_ app: ReviewApplication, _ keys: Key...) {
        for key in keys {
            app.apply(.key(key))
        }
    }

    @Test(arguments: [(80, 24), (160, 48)])
    func worklist(width: Int, height: Int) {
        let (app, _) = driver(width: width, height: height)
        start(app)
        let frame = app.frame()
        expectSnapshot(frame, named: "worklist-\(width)x\(height)")
        let text = frame.textRows.joined(separator: "\n")
        #expect(!text.contains("CANARY"), "identifiers are masked by default")
        #expect(!text.contains("\u{1B}"), "escape sequences from DICOM text are made inert")
        #expect(text.contains("○ no model"))
    }

    @Test(arguments: [(80, 24), (160, 48)])
    func viewerWithOverlay(width: Int, height: Int) {
        let (app, _) = driver(width: width, height: height)
        start(app)
        keys(app, .enter, .down, .down, .down)
        let frame = app.frame()
        expectSnapshot(frame, named: "viewer-\(width)x\(height)")
        #expect(frame.textRows.joined().contains("▀"))
        #expect(frame.textRows.last?.contains("slice 4/30") == true)
    }

    @Test func helpIsDrawnFromTheKeyMap() {
        let (app, _) = driver(width: 160, height: 48)
        start(app)
        keys(app, .character("?"))
        let frame = app.frame()
        expectSnapshot(frame, named: "help-160x48")
        // Every binding, on whichever page of the help it falls.
        var text = frame.textRows.joined(separator: "\n")
        for _ in 0..<6 {
            keys(app, .pageDown)
            text += app.frame().textRows.joined(separator: "\n")
        }
        for binding in KeyMap.defaults.bindings {
            #expect(text.contains(binding.help), "\(binding.action) missing from the help")
        }
        #expect(text.contains("far below diagnostic"))
        // A rebound key shows in the help as it is bound.
        var map = KeyMap.defaults
        #expect(map.rebind(["similar": ["x"]]).isEmpty)
        let terminal = VirtualTerminal(width: 160, height: 48)
        let rebound = ReviewApplication(backend: terminal, source: InMemoryStudySource(studies: ReviewFixtures.studies(), pixels: ReviewFixtures.pattern),
                                        heatmaps: nil, theme: .dark, keyMap: map, makeRunner: ImmediateEffectRunner.init)
        rebound.apply(.key(.character("?")))
        var rows = rebound.frame().textRows
        for _ in 0..<6 {
            rebound.apply(.key(.pageDown))
            rows += rebound.frame().textRows
        }
        let help = rows.first { $0.contains(map.bindings.first { $0.action == .similar }!.help) } ?? ""
        #expect(help.contains("x") && !help.contains(" s "), "the help shows the rebound key: \(help)")
    }

    @Test func headerIsSanitisedAndMasked() {
        let (app, _) = driver(width: 100, height: 24)
        start(app)
        keys(app, .enter, .character("i"))
        let text = app.frame().textRows.joined(separator: "\n")
        #expect(text.contains("(0008,0060) CS [CT]"))
        #expect(!text.contains("CANARY"))
        #expect(!text.contains("\u{1B}") && !text.contains("\u{07}"))
        keys(app, .character("t"))
        #expect(app.state.showIdentifiers == false, "keys on the header screen only scroll or close it")
    }

    @Test(arguments: [(59, 24), (80, 15), (1, 1), (0, 0)])
    func tooSmall(width: Int, height: Int) {
        let (app, _) = driver(width: width, height: height)
        start(app)
        keys(app, .enter)
        let frame = app.frame()
        #expect(frame.width == width && frame.height == height)
        if width >= 20 && height >= 3 {
            #expect(frame.textRows.joined().contains("Terminal too small"))
        } else {
            // Too small even for the message: whatever fits of it, never anything of the study.
            let text = frame.textRows.joined()
            #expect(!text.contains("▀") && !text.contains("CANARY") && !text.contains("PHANTOM"), "\(frame.textRows)")
            #expect(frame.textRows.count == height && frame.textRows.allSatisfy { $0.count == width })
        }
        // The app still works at a usable size after it.
        app.apply(.resized(width: 100, height: 30))
        #expect(app.frame().textRows.joined().contains("slice 1/30"), "the viewer opened behind the too-small screen")
    }

    @Test func asciiBordersAndBackgroundCellsWithoutUnicode() {
        let (app, _) = driver(width: 100, height: 30, capabilities: TerminalCapabilities(colorDepth: .palette256, unicode: false))
        start(app)
        keys(app, .enter)
        let frame = app.frame()
        let text = frame.textRows.joined(separator: "\n")
        #expect(text.contains("+ Study "))
        #expect(!text.unicodeScalars.contains { !$0.isASCII && $0 != "•" && $0 != "—" && $0 != "·" && $0 != "…" && $0 != "×" })
        #expect(frame.cells.contains { $0.character == " " && $0.style.background != .terminalDefault && $0.style.background != Theme.dark.barBackground })
    }

    @Test func monochromeDrawsTheImageAsDensityCharacters() {
        let (app, _) = driver(width: 100, height: 30, capabilities: TerminalCapabilities(colorDepth: .monochrome, unicode: true))
        start(app)
        keys(app, .enter)
        let text = app.frame().textRows.joined()
        #expect(!text.contains("▀"))
        #expect(text.contains("@") || text.contains("#") || text.contains("%"))
    }
}

/// Scripted sessions through the whole app: keys in, frames and loads out.
@Suite(.serialized)
struct SessionTests {
    @Test func scrollingDecodesAheadAndOpensTheFirstImageAtOnce() {
        let terminal = VirtualTerminal(width: 120, height: 40)
        let source = InMemoryStudySource(studies: ReviewFixtures.studies(ctSlices: 200), pixels: ReviewFixtures.pattern)
        let app = ReviewApplication(backend: terminal, source: source, heatmaps: nil, theme: .dark, makeRunner: ImmediateEffectRunner.init)
        app.apply(.worklistLoaded(Worklist(studies: ReviewFixtures.studies(ctSlices: 200).map(\.summary))))
        app.apply(.key(.enter))
        // The first image first, then its neighbours; never the whole study.
        #expect(source.decoded.first == SliceKey(path: "/ct/1/0.dcm", frame: 0))
        #expect(source.decoded.count <= 1 + Review.prefetchRadius)
        #expect(app.state.viewer?.loadedKey == SliceKey(path: "/ct/1/0.dcm", frame: 0))
        for _ in 0..<5 { app.apply(.key(.down)) }
        #expect(app.state.viewer?.loadedKey == SliceKey(path: "/ct/1/5.dcm", frame: 0))
        #expect(Set(source.decoded).count == source.decoded.count, "no slice decoded twice while cached")
    }

    @Test func aFailedSliceSaysSoAndTheRestKeepsWorking() {
        let terminal = VirtualTerminal(width: 120, height: 40)
        let source = InMemoryStudySource(studies: ReviewFixtures.studies(), pixels: ReviewFixtures.pattern)
        source.failing = [SliceKey(path: "/ct/1/1.dcm", frame: 0)]
        let app = ReviewApplication(backend: terminal, source: source, heatmaps: nil, theme: .dark, makeRunner: ImmediateEffectRunner.init)
        app.apply(.worklistLoaded(Worklist(studies: ReviewFixtures.studies().map(\.summary))))
        app.apply(.key(.enter))
        app.apply(.key(.down))
        #expect(app.frame().textRows.joined().contains("/ct/1/1.dcm"))
        app.apply(.key(.down))
        #expect(app.state.viewer?.loadedKey == SliceKey(path: "/ct/1/2.dcm", frame: 0))
        #expect(app.frame().textRows.joined().contains("▀"))
    }

    @Test func sliceStoreStaysWithinItsBudget() {
        let store = SliceStore(capacityBytes: 64 * 64 * 4 * 10)
        let header = ReviewFixtures.studies()[0].series[0].instances[0].header
        for index in 0..<100 {
            store.insert(DecodedImage(width: 64, height: 64, channels: 1, frames: 1, values: [Float](repeating: 0, count: 64 * 64), header: header),
                         for: SliceKey(path: "\(index)", frame: 0))
            #expect(store.heldBytes <= store.capacityBytes)
        }
        #expect(store.count == 10)
        #expect(store.contains(SliceKey(path: "99", frame: 0)))
        #expect(!store.contains(SliceKey(path: "0", frame: 0)))
    }

    @Test func runLoopStopsOnQuitAndOnASignal() {
        let terminal = VirtualTerminal(width: 100, height: 30)
        let source = InMemoryStudySource(studies: ReviewFixtures.studies(), pixels: ReviewFixtures.pattern)
        let app = ReviewApplication(backend: terminal, source: source, heatmaps: nil, theme: .dark, makeRunner: ImmediateEffectRunner.init)
        terminal.type(.enter, .down, .character("q"), .character("q"))
        #expect(app.run() == nil)
        // Every key did its work: the study opened, moved one slice, went back, and the loop ended.
        let frames = terminal.presentedText
        let second = frames.firstIndex { $0.contains("slice 2/30") }
        #expect(frames.contains { $0.contains("slice 1/30") }, "the viewer opened")
        #expect(second != nil, "the down key moved to slice 2")
        #expect(second.map { frames[($0 + 1)...].contains { $0.contains("Worklist") || $0.contains("Priority") } } == true,
                "q went back to the worklist before the second q quit")
        #expect(app.state.quitRequested && app.state.screen == .worklist)
        // A signal stops the loop before any key.
        let quiet = VirtualTerminal(width: 100, height: 30)
        quiet.type(.enter)
        let stopping = ReviewApplication(backend: quiet, source: source, heatmaps: nil, theme: .dark,
                                         stopRequested: { 15 }, makeRunner: ImmediateEffectRunner.init)
        #expect(stopping.run() == 15)
        #expect(stopping.state.screen == .worklist, "the queued Enter was never read")
    }

    @Test func resizeStormEndsOnAGoodFrame() {
        let terminal = VirtualTerminal(width: 100, height: 30)
        let source = InMemoryStudySource(studies: ReviewFixtures.studies(), pixels: ReviewFixtures.pattern)
        let app = ReviewApplication(backend: terminal, source: source, heatmaps: nil, theme: .dark, makeRunner: ImmediateEffectRunner.init)
        app.apply(.worklistLoaded(Worklist(studies: ReviewFixtures.studies().map(\.summary))))
        app.apply(.key(.enter))
        var random = SeededRandomForTests(seed: 9)
        for _ in 0..<200 {
            let width = random.next(0...250), height = random.next(0...90)
            app.apply(.resized(width: width, height: height))
            let frame = app.frame()
            #expect(frame.width == width && frame.height == height)
        }
        app.apply(.resized(width: 120, height: 40))
        #expect(app.frame().textRows.joined().contains("▀"))
    }
}

/// A tiny deterministic generator for test inputs.
struct SeededRandomForTests {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next(_ range: ClosedRange<Int>) -> Int {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return range.lowerBound + Int((state >> 33) % UInt64(range.count))
    }
}
