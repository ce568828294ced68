public import LightboxCore
public import TerminalUI
import Foundation

/// The loop: draw the state, wait briefly for a key, turn keys and effect results into messages,
/// update, run the effects. All terminal calls happen on the calling thread.
public final class ReviewApplication {
    public private(set) var state: AppState
    /// True when `run` returned while background work (a long scan) was still going: the caller
    /// should leave with `_exit` rather than run global destructors under it.
    public private(set) var workStillRunning = false
    private let backend: any TerminalBackend
    private let context: ScreenContext
    private let runner: EffectRunner
    private let inbox: Inbox
    /// Asked every turn; non-nil stops the loop (a signal arrived).
    private let stopRequested: () -> Int32?

    /// `analyser` runs the models (its heatmaps become the overlay); without one, `modelProblem`
    /// says why and `heatmaps` (if any) is the overlay.
    public init(backend: any TerminalBackend, source: any StudySource, heatmaps: (any HeatmapSource)?, analyser: (any StudyAnalyser)? = nil,
                modelProblem: String = "no model configured", decisions: (any DecisionStore)? = nil, ledgerProblem: String? = nil,
                similar: (any SimilarCaseService)? = nil, analyseWorklist: Bool = true,
                reader: String = "reader", theme: Theme,
                keyMap: KeyMap = .defaults, showIdentifiers: Bool = false, notice: String? = nil,
                store: SliceStore = SliceStore(), stopRequested: @escaping () -> Int32? = { nil }) {
        self.backend = backend
        inbox = Inbox()
        let overlay: (any HeatmapSource)? = analyser ?? heatmaps
        context = ScreenContext(theme: theme, capabilities: backend.capabilities, store: store, heatmaps: overlay)
        runner = EffectRunner(source: source, heatmaps: overlay, analyser: analyser, decisions: decisions, similar: similar, store: store, inbox: inbox)
        self.stopRequested = stopRequested
        state = AppState(width: backend.size.width, height: backend.size.height, sourceName: source.name, keyMap: keyMap,
                         showIdentifiers: showIdentifiers, overlayLabel: overlay?.label, notice: notice,
                         model: analyser.map { .ready($0.models) } ?? .none(modelProblem), reader: reader,
                         ledgerProblem: decisions == nil ? (ledgerProblem ?? "no decision ledger configured") : nil)
        state.similarAvailable = similar != nil
        state.analyseWorklist = analyseWorklist
    }

    /// Runs until the user quits or a signal asks to stop; returns that signal, if any.
    @discardableResult
    public func run() -> Int32? {
        runner.run(.loadWorklist)
        runner.run(.loadDecisions)
        defer { workStillRunning = !runner.shutdown() }
        var dirty = true
        while !state.quitRequested {
            if let signal = stopRequested() { return signal }
            if backend.handlePendingSuspend() {
                apply(.resized(width: backend.size.width, height: backend.size.height))
                dirty = true
            }
            for message in inbox.drain() {
                apply(message)
                dirty = true
            }
            if dirty {
                backend.present(frame())
                dirty = false
            }
            // Poll briefly while a slice is on its way, so it shows the moment it is decoded.
            let waiting = state.viewer.map { $0.loadedKey == nil && $0.sliceError == nil } ?? state.loading
            if let event = backend.nextEvent(timeoutMilliseconds: waiting ? 5 : 50) {
                switch event {
                case .key(let key): apply(.key(key))
                case .resize(let width, let height): apply(.resized(width: width, height: height))
                }
                dirty = true
            }
        }
        return nil
    }

    /// Feeds one message through the update function and runs its effects.
    public func apply(_ message: Message) {
        for effect in Review.update(&state, message) { runner.run(effect) }
    }

    /// Draws the current state.
    public func frame() -> ScreenBuffer { Screens.draw(state, context: context) }

    /// Waits until the slice on screen is decoded (or failed), applying messages as they come;
    /// false when `seconds` pass first. Other queued work (prefetching) goes on.
    @discardableResult
    public func waitForCurrentSlice(seconds: Double = 10) -> Bool {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
        while DispatchTime.now().uptimeNanoseconds < deadline {
            for message in inbox.drain() { apply(message) }
            guard let viewer = state.viewer, let current = state.currentSlice else { return true }
            if viewer.loadedKey == current.key || viewer.sliceError != nil || context.store.contains(current.key) && viewer.window != nil {
                return true
            }
            usleep(200)
        }
        return false
    }

    /// Applies every message that effects have posted so far, after waiting for them (tests, benchmark).
    public func settle() {
        for _ in 0..<3 {
            runner.waitUntilIdle()
            for message in inbox.drain() { apply(message) }
        }
    }
}
