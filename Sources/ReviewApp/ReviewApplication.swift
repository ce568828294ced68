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
    private let runner: any EffectRunning
    private let inbox: Inbox
    /// Asked every turn; non-nil stops the loop (a signal arrived).
    private let stopRequested: () -> Int32?
    /// How long the loop waits for a slice on its way before drawing "Loading…": a decoded or
    /// prefetched slice arrives well within it, so scrolling shows no flicker.
    static let sliceWait = 0.02

    /// `analyser` runs the models (its heatmaps become the overlay); without one, `modelProblem`
    /// says why and `heatmaps` (if any) is the overlay. `makeRunner` builds what runs the effects
    /// (the lanes of `EffectRunner` unless told otherwise).
    public init(backend: any TerminalBackend, source: any StudySource, heatmaps: (any HeatmapSource)?, analyser: (any StudyAnalyser)? = nil,
                modelProblem: String = "no model configured", decisions: (any DecisionStore)? = nil, ledgerProblem: String? = nil,
                similar: (any SimilarCaseService)? = nil, monitor: (any MonitorSource)? = nil, claims: (any StudyClaims)? = nil,
                verdicts: (any VerdictExchange)? = nil, externals: (any ExternalResultSource)? = nil,
                analyseWorklist: Bool = true, prefetchStudies: Int = 0,
                reader: String = "reader", theme: Theme, symbols: ImageCellMode = .halfBlock,
                keyMap: KeyMap = .defaults, showIdentifiers: Bool = false, notice: String? = nil,
                store: SliceStore = SliceStore(), stopRequested: @escaping () -> Int32? = { nil },
                makeRunner: (EffectEnvironment, Inbox) -> any EffectRunning = { EffectRunner(environment: $0, inbox: $1) }) {
        self.backend = backend
        inbox = Inbox()
        let overlay: (any HeatmapSource)? = analyser ?? heatmaps
        context = ScreenContext(theme: theme, capabilities: backend.capabilities, symbols: symbols)
        let environment = EffectEnvironment(source: source, heatmaps: overlay, analyser: analyser, decisions: decisions, similar: similar,
                                            monitor: monitor, claims: claims, verdicts: verdicts, externals: externals, store: store)
        runner = makeRunner(environment, inbox)
        self.stopRequested = stopRequested
        state = AppState(width: backend.size.width, height: backend.size.height, sourceName: source.name, keyMap: keyMap,
                         showIdentifiers: showIdentifiers, overlayLabel: overlay?.label, notice: notice,
                         model: analyser.map { .ready($0.models) } ?? .none(modelProblem), reader: reader,
                         ledgerProblem: decisions == nil ? (ledgerProblem ?? "no decision ledger configured") : nil)
        state.cellMode = context.imageMode
        state.graphicsCell = context.capabilities.graphics != nil ? context.capabilities.cellPixels : nil
        state.similarAvailable = similar != nil
        state.monitorAvailable = monitor != nil
        state.claimsAvailable = claims != nil
        state.verdictsAvailable = verdicts != nil
        state.externalsAvailable = externals != nil
        state.pushVerdictsTo = verdicts?.pushDestination
        state.analyseWorklist = analyseWorklist
        state.prefetchStudies = prefetchStudies
        if let retrieving = source as? any RetrievingStudySource {
            let inbox = inbox
            retrieving.onProgress = { uid, stored, total in
                inbox.post(.retrieveProgress(studyInstanceUID: uid, stored: stored, total: total))
            }
        }
    }

    /// Runs until the user quits or a signal asks to stop; returns that signal, if any.
    @discardableResult
    public func run() -> Int32? {
        start()
        defer {
            // Others may read it now (else the claim lapses on its own).
            if let held = state.heldClaim { runner.run(.releaseClaim(held)) }
            workStillRunning = !runner.shutdown(seconds: 2)
        }
        var dirty = true
        var lastTick = ProcessInfo.processInfo.systemUptime
        while !state.quitRequested {
            if let signal = stopRequested() { return signal }
            if state.claimsAvailable, ProcessInfo.processInfo.systemUptime - lastTick >= Review.claimRefreshSeconds {
                lastTick = ProcessInfo.processInfo.systemUptime
                apply(.tick(at: lastTick))
                dirty = true
            }
            if backend.handlePendingSuspend() {
                apply(.resized(width: backend.size.width, height: backend.size.height))
                dirty = true
            }
            // A slice on its way is waited for briefly, so the frame shows it rather than "Loading…".
            if awaitSlice(seconds: Self.sliceWait) > 0 { dirty = true }
            if processPendingMessages() > 0 { dirty = true }
            if dirty {
                backend.present(frame())
                dirty = false
            }
            if let event = backend.nextEvent(timeoutMilliseconds: isWaitingForSlice || state.loading ? 5 : 50) {
                switch event {
                case .key(let key): apply(.key(key, at: ProcessInfo.processInfo.systemUptime))
                case .resize(let width, let height): apply(.resized(width: width, height: height))
                }
                dirty = true
            }
        }
        return nil
    }

    /// Asks for the worklist, the saved decisions and the monitoring report (the first thing `run` does).
    public func start() {
        runner.run(.loadWorklist)
        runner.run(.loadDecisions)
        if state.monitorAvailable { runner.run(.loadMonitor) }
        if state.claimsAvailable { runner.run(.loadClaims) }
    }

    /// True while the viewer waits for the slice on screen.
    public var isWaitingForSlice: Bool { state.viewer.map { $0.loadedKey == nil && $0.sliceError == nil } ?? false }

    /// Feeds one message through the update function and runs its effects, then applies the
    /// results effects have already posted.
    public func apply(_ message: Message) {
        for effect in Review.update(&state, message) { runner.run(effect) }
        processPendingMessages()
    }

    /// Waits up to `seconds` for the slice on screen, applying messages as they come; returns how
    /// many were applied. Returns at once when no slice is on its way.
    @discardableResult
    public func awaitSlice(seconds: Double) -> Int {
        let deadline = Date(timeIntervalSinceNow: seconds)
        var applied = 0
        while isWaitingForSlice {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { break }
            inbox.wait(seconds: left)
            applied += processPendingMessages()
        }
        return applied
    }

    /// Applies every message effects have posted so far (and what those lead to); returns how many.
    @discardableResult
    public func processPendingMessages() -> Int {
        var applied = 0
        // Bounded: effects that answer at once (a test runner) cannot keep the loop here forever.
        for _ in 0..<64 {
            let messages = inbox.drain()
            if messages.isEmpty { break }
            for message in messages {
                for effect in Review.update(&state, message) { runner.run(effect) }
            }
            applied += messages.count
        }
        return applied
    }

    /// Draws the current state.
    public func frame() -> ScreenBuffer { Screens.draw(state, context: context) }

    /// Stops the runner (what `run` does on leaving).
    @discardableResult
    public func shutdown(seconds: Double = 2) -> Bool { runner.shutdown(seconds: seconds) }
}
