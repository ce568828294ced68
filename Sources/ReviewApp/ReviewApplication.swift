public import LightboxCore
public import TerminalUI
import Foundation

/// The loop: draw the state, wait briefly for a key, turn keys and effect results into messages,
/// update, run the effects. All terminal calls happen on the calling thread.
public final class ReviewApplication {
    public private(set) var state: AppState
    private let backend: any TerminalBackend
    private let context: ScreenContext
    private let runner: EffectRunner
    private let inbox: Inbox
    /// Asked every turn; non-nil stops the loop (a signal arrived).
    private let stopRequested: () -> Int32?

    public init(backend: any TerminalBackend, source: any StudySource, heatmaps: (any HeatmapSource)?, theme: Theme,
                keyMap: KeyMap = .defaults, showIdentifiers: Bool = false, notice: String? = nil,
                store: SliceStore = SliceStore(), stopRequested: @escaping () -> Int32? = { nil }) {
        self.backend = backend
        inbox = Inbox()
        context = ScreenContext(theme: theme, capabilities: backend.capabilities, store: store, heatmaps: heatmaps)
        runner = EffectRunner(source: source, heatmaps: heatmaps, store: store, inbox: inbox)
        self.stopRequested = stopRequested
        state = AppState(width: backend.size.width, height: backend.size.height, sourceName: source.name, keyMap: keyMap,
                         showIdentifiers: showIdentifiers, overlayLabel: heatmaps?.label, notice: notice)
    }

    /// Runs until the user quits or a signal asks to stop; returns that signal, if any.
    @discardableResult
    public func run() -> Int32? {
        runner.run(.loadWorklist)
        var dirty = true
        while !state.quitRequested {
            if let signal = stopRequested() { return signal }
            for message in inbox.drain() {
                apply(message)
                dirty = true
            }
            if dirty {
                backend.present(frame())
                dirty = false
            }
            if let event = backend.nextEvent(timeoutMilliseconds: 40) {
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

    /// Applies every message that effects have posted so far, after waiting for them (tests, benchmark).
    public func settle() {
        for _ in 0..<3 {
            runner.waitUntilIdle()
            for message in inbox.drain() { apply(message) }
        }
    }
}
