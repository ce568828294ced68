public import TerminalUI

/// Where a binding applies.
public enum KeyContext: String, Sendable, CaseIterable {
    case global, worklist, viewer
    /// The viewer while zoomed in (before the viewer's own bindings).
    case zoomed
    /// The viewer while the pixel probe is on (before the zoomed and viewer bindings).
    case probe
    /// The monitor screen (alerts of model monitoring).
    case monitor

    /// The heading of the help screen's section.
    var title: String {
        switch self {
        case .global: "Everywhere"
        case .worklist: "Worklist"
        case .viewer: "Viewer"
        case .zoomed: "Viewer, zoomed in"
        case .probe: "Viewer, pixel probe on"
        case .monitor: "Monitor screen (↑/↓ choose an alert, q or Esc back)"
        }
    }
}

/// Everything a key can do. The raw value is the name used in the config file's [keys] table.
public enum Action: String, Sendable, CaseIterable {
    case help, quit, toggleIdentifiers = "toggle_identifiers"
    case rowUp = "row_up", rowDown = "row_down", pageUp = "page_up", pageDown = "page_down"
    case firstRow = "first_row", lastRow = "last_row", open, filter, cycleSort = "cycle_sort"
    case previousStudy = "previous_study", nextStudy = "next_study"
    case previousSlice = "previous_slice", nextSlice = "next_slice", back10 = "back_10", forward10 = "forward_10"
    case firstSlice = "first_slice", lastSlice = "last_slice", previousSeries = "previous_series", nextSeries = "next_series"
    case preset1 = "preset_1", preset2 = "preset_2", preset3 = "preset_3", preset4 = "preset_4", preset5 = "preset_5", preset6 = "preset_6"
    case resetWindow = "reset_window", narrowWindow = "narrow_window", widenWindow = "widen_window"
    case lowerLevel = "lower_level", raiseLevel = "raise_level"
    case toggleOverlay = "toggle_overlay", moreOpacity = "more_opacity", lessOpacity = "less_opacity", toggleContour = "toggle_contour"
    case nextFinding = "next_finding", previousFinding = "previous_finding", cycleSource = "cycle_source"
    case accept, override, deferStudy = "defer", retrySave = "retry_save", similar, header
    case problems = "show_problems"
    case zoomIn = "zoom_in", zoomOut = "zoom_out", resetView = "reset_view", zoomToFinding = "zoom_to_finding"
    case panLeft = "pan_left", panRight = "pan_right", panUp = "pan_up", panDown = "pan_down"
    case toggleProbe = "toggle_probe", probeLeft = "probe_left", probeRight = "probe_right", probeUp = "probe_up", probeDown = "probe_down"
    case setMark = "set_mark"
    case monitor, clearFilter = "clear_filter", alertStudies = "alert_studies", acknowledgeAlert = "acknowledge_alert"
}

/// A key binding: the action, its keys, where it applies, and its help text — the help screen is
/// drawn from the same table the app dispatches on.
public struct Binding: Sendable, Equatable {
    public var action: Action
    public var keys: [Key]
    public var context: KeyContext
    public var help: String

    public init(_ action: Action, _ keys: [Key], _ context: KeyContext, _ help: String) {
        self.action = action
        self.keys = keys
        self.context = context
        self.help = help
    }
}

/// The bindings table.
public struct KeyMap: Sendable, Equatable {
    public private(set) var bindings: [Binding]

    /// The defaults of the product specification.
    public static let defaults = KeyMap(bindings: [
        Binding(.help, [.character("?")], .global, "help: this key map"),
        Binding(.quit, [.character("q")], .global, "back; in the worklist, quit"),
        Binding(.toggleIdentifiers, [.character("t")], .global, "show or mask patient identifiers"),
        Binding(.rowUp, [.up, .character("k")], .worklist, "previous row"),
        Binding(.rowDown, [.down, .character("j")], .worklist, "next row"),
        Binding(.pageUp, [.pageUp], .worklist, "page up"),
        Binding(.pageDown, [.pageDown], .worklist, "page down"),
        Binding(.firstRow, [.home], .worklist, "first row"),
        Binding(.lastRow, [.end], .worklist, "last row"),
        Binding(.open, [.enter], .worklist, "open the study"),
        Binding(.filter, [.character("/")], .worklist, "filter (Enter applies, Esc cancels)"),
        Binding(.cycleSort, [.character("S")], .worklist, "sort: priority, arrival, patient, modality, status"),
        Binding(.problems, [.character("!")], .worklist, "files that could not be read, with their reasons"),
        Binding(.clearFilter, [.escape], .worklist, "show every study again (clears a filter or an alert's studies)"),
        Binding(.monitor, [.character("M")], .global, "model monitoring: drift and verdict alerts"),
        Binding(.alertStudies, [.enter], .monitor, "the worklist narrowed to the alert's studies (its window and stratum)"),
        Binding(.acknowledgeAlert, [.character("a")], .monitor, "acknowledge the alert with a comment (an audit event)"),
        Binding(.previousStudy, [.character("["), .controlLeft], .global, "previous study"),
        Binding(.nextStudy, [.character("]"), .controlRight], .global, "next study"),
        Binding(.previousSlice, [.up, .character("k")], .viewer, "previous slice"),
        Binding(.nextSlice, [.down, .character("j")], .viewer, "next slice"),
        Binding(.back10, [.shiftUp, .character("{")], .viewer, "10 slices back"),
        Binding(.forward10, [.shiftDown, .character("}")], .viewer, "10 slices on"),
        Binding(.firstSlice, [.home], .viewer, "first slice"),
        Binding(.lastSlice, [.end], .viewer, "last slice"),
        Binding(.previousSeries, [.pageUp], .viewer, "previous series"),
        Binding(.nextSeries, [.pageDown], .viewer, "next series"),
        Binding(.preset1, [.character("1")], .viewer, "CT lung window (-600/1500)"),
        Binding(.preset2, [.character("2")], .viewer, "CT mediastinum window (50/350)"),
        Binding(.preset3, [.character("3")], .viewer, "CT bone window (400/1800)"),
        Binding(.preset4, [.character("4")], .viewer, "CT brain window (40/80)"),
        Binding(.preset5, [.character("5")], .viewer, "CT abdomen window (40/400)"),
        Binding(.preset6, [.character("6")], .viewer, "CT liver window (60/160)"),
        Binding(.resetWindow, [.character("0")], .viewer, "the image's own window"),
        Binding(.narrowWindow, [.character("w")], .viewer, "narrower window (more contrast)"),
        Binding(.widenWindow, [.character("W")], .viewer, "wider window"),
        Binding(.lowerLevel, [.character("l")], .viewer, "lower level (brighter)"),
        Binding(.raiseLevel, [.character("L")], .viewer, "higher level (darker)"),
        Binding(.toggleOverlay, [.character("g")], .viewer, "overlay on or off"),
        Binding(.moreOpacity, [.character("+"), .character("=")], .viewer, "overlay more opaque"),
        Binding(.lessOpacity, [.character("-")], .viewer, "overlay more transparent"),
        Binding(.toggleContour, [.character("c")], .viewer, "overlay as contour only"),
        Binding(.nextFinding, [.character("n")], .viewer, "next slice with a finding"),
        Binding(.cycleSource, [.character("e")], .viewer, "which AI result is shown and decided on: the embedded model's, then each other system's (SEG, map, report)"),
        Binding(.previousFinding, [.character("p")], .viewer, "previous slice with a finding"),
        Binding(.accept, [.character("a")], .viewer, "accept the AI result (the finding on screen, else the study)"),
        Binding(.override, [.character("o")], .viewer, "override: pick a reason (1-6), optional comment, Enter saves"),
        Binding(.deferStudy, [.character("d")], .viewer, "defer to another reader"),
        Binding(.retrySave, [.character("r")], .global, "retry saving a decision whose save failed"),
        Binding(.similar, [.character("s")], .viewer, "similar cases: choose one, Enter shows it beside the study"),
        Binding(.header, [.character("i")], .viewer, "full DICOM header of the image"),
        Binding(.zoomIn, [.character("z")], .viewer, "zoom in around the centre of the view (1×, 2×, 4×, 8×)"),
        Binding(.zoomOut, [.character("Z")], .viewer, "zoom out"),
        Binding(.resetView, [.character("x")], .viewer, "whole image again (1×, centred)"),
        Binding(.zoomToFinding, [.character("f")], .viewer, "zoom to the finding on screen; n/p then follow each finding"),
        Binding(.toggleProbe, [.character("v")], .viewer, "pixel probe on/off: position, value (HU on CT), heat"),
        Binding(.panLeft, [.shiftLeft], .zoomed, "pan left by a quarter view"),
        Binding(.panRight, [.shiftRight], .zoomed, "pan right by a quarter view"),
        Binding(.panUp, [.shiftUp], .zoomed, "pan up by a quarter view ({ and } still move 10 slices)"),
        Binding(.panDown, [.shiftDown], .zoomed, "pan down by a quarter view"),
        Binding(.probeLeft, [.left], .probe, "probe one picture pixel left"),
        Binding(.probeRight, [.right], .probe, "probe one picture pixel right"),
        Binding(.probeUp, [.up], .probe, "probe one picture pixel up (j/k still change the slice)"),
        Binding(.probeDown, [.down], .probe, "probe one picture pixel down"),
        Binding(.setMark, [.character("m")], .probe, "set a second point here: the distance in mm is shown"),
    ])

    /// The action bound to `key` in `context` (its own bindings first, then global ones).
    public func action(for key: Key, in context: KeyContext) -> Action? { action(for: key, in: [context]) }

    /// The action bound to `key` in the first of `contexts` that binds it, then globally.
    public func action(for key: Key, in contexts: [KeyContext]) -> Action? {
        for context in contexts {
            if let binding = bindings.first(where: { $0.context == context && $0.keys.contains(key) }) { return binding.action }
        }
        return bindings.first { $0.context == .global && $0.keys.contains(key) }?.action
    }

    /// The first key of an action, as shown in bars and hints.
    public func keyName(_ action: Action) -> String {
        bindings.first { $0.action == action }?.keys.first?.name ?? "?"
    }

    /// Replaces the keys of actions; unknown actions or key names are reported, not applied.
    public mutating func rebind(_ overrides: [String: [String]]) -> [String] {
        var problems: [String] = []
        for (name, keyNames) in overrides.sorted(by: { $0.key < $1.key }) {
            guard let action = Action(rawValue: name), let index = bindings.firstIndex(where: { $0.action == action }) else {
                problems.append("unknown action '\(name)' in [keys]")
                continue
            }
            let keys = keyNames.compactMap(Key.init(name:))
            if keys.count != keyNames.count {
                problems.append("unknown key name in [keys] \(name) = \(keyNames)")
            }
            if !keys.isEmpty { bindings[index].keys = keys }
        }
        return problems
    }
}
