public import LightboxCore
public import TerminalUI

/// How the worklist is ordered.
public enum WorklistSort: String, Sendable, CaseIterable {
    case priority, arrival, patient, modality, status

    var next: WorklistSort {
        let all = Self.allCases
        return all[(all.firstIndex(of: self)! + 1) % all.count]
    }
}

/// What the reader has done with a study in this session.
public enum StudyStatus: String, Sendable {
    case new, viewed
}

/// A study's status in the worklist: its saved decision, else whether it was opened.
public enum ReviewStatus: String, Sendable, CaseIterable {
    case accepted, deferred, new, overridden, viewed

    /// The status a decision gives.
    public init(_ action: DecisionAction) {
        switch action {
        case .accept: self = .accepted
        case .override: self = .overridden
        case .deferred: self = .deferred
        }
    }
}

/// Whether AI results exist in this session.
public enum ModelStatus: Sendable, Equatable {
    /// No model: the reason (none configured, or the file that failed and why).
    case none(String)
    /// Models loaded (`name@version` each).
    case ready([String])

    public var isReady: Bool { if case .ready = self { true } else { false } }
}

/// The override dialog: a reason, then an optional comment.
public struct OverridePrompt: Sendable, Equatable {
    public var reason: OverrideReason?
    public var comment = ""

    public init() {}
}

/// The similar-cases list over the viewer.
public struct SimilarPanel: Sendable, Equatable {
    public var studyInstanceUID: String
    public var cases: [SimilarCase]?
    public var error: String?
    public var selected = 0

    public init(studyInstanceUID: String) { self.studyInstanceUID = studyInstanceUID }
}

/// A similar case shown beside the current study: one slice of it, with a caption.
public struct CompareView: Sendable, Equatable {
    public var studyInstanceUID: String
    public var caption: String
    /// The case's image (the middle one of its first series), its key and own window, once loaded.
    public var key: SliceKey?
    public var image: DecodedImage?
    public var window: Window?
    /// Why the case's image could not be shown.
    public var error: String?
}

/// Where the last decision is on its way to the ledger.
public enum SaveState: Sendable, Equatable {
    /// Every decision is saved (or none was made).
    case idle
    /// Sent to the ledger; "Saved" comes only with the commit.
    case saving(Decision)
    /// The save failed: the (stamped) decision is kept, so a retry has the same id.
    case failed(Decision, String)

    /// The decision not yet confirmed, if any.
    public var pending: Decision? {
        switch self {
        case .idle: nil
        case .saving(let decision), .failed(let decision, _): decision
        }
    }

    public var isSaving: Bool { if case .saving = self { true } else { false } }
}

/// Which screen is in front.
public enum ScreenKind: Sendable, Equatable {
    case worklist, viewer, help, header, problems, monitor
}

/// The acknowledgement dialog of the monitor screen: a comment, Enter records it.
public struct AcknowledgePrompt: Sendable, Equatable {
    public var alert: MonitorAlert
    public var comment = ""

    public init(alert: MonitorAlert) { self.alert = alert }
}

/// The worklist narrowed to the studies behind one monitoring alert (Esc shows all again).
public struct AlertFilter: Sendable, Equatable {
    public var alertID: String
    public var label: String
    public var studies: Set<String>
}

/// The question asked before opening a study another reader holds: open it to view (decisions
/// on it are refused while their claim lasts), or not.
public struct ClaimPrompt: Sendable, Equatable {
    /// The other reader's claim (its study is the one asked about, wherever its row moves meanwhile).
    public var claim: StudyClaim
}

/// The viewer's position and display settings.
public struct ViewerState: Sendable, Equatable {
    public var studyInstanceUID: String
    /// The study with its series and instances, once loaded (the worklist holds summaries only).
    public var study: Study?
    /// Why the study could not be opened.
    public var studyError: String?
    public var seriesIndex = 0
    public var sliceIndex = 0
    /// nil until the first image of the series has loaded and given its own window.
    public var window: Window?
    /// The image's own window (for `0`).
    public var initialWindow: Window?
    public var windowName = "auto"
    public var overlayVisible = true
    public var overlayOpacity: Float = 0.5
    public var contourOnly = false
    /// Slices (indices in the current series) with a finding in the overlay.
    public var findingSlices: [Int] = []
    /// The slice shown, once it has loaded, and its decoded image.
    public var loadedKey: SliceKey?
    public var image: DecodedImage?
    /// The overlay of `overlayKey` (nil: none arrived, or the image has none).
    public var overlay: Heatmap?
    public var overlayKey: SliceKey?
    /// A decode failure of the current slice.
    public var sliceError: String?
    /// Where the study's summary sits in `AppState.studies` (kept so lookups are not searches).
    public var studyIndex: Int
    /// The open series' slices in display order, built once when the series opens.
    public var slices: [SliceEntry] = []
    /// When the study was opened (the key's clock, seconds): the decision records the time spent.
    public var openedAt: Double = 0
    /// Zoom and pan, kept while scrolling slices and changing series.
    public var viewport = Viewport.whole
    /// After "zoom to the finding": each slice's finding is centred as it arrives (n/p keep the zoom).
    public var followFinding = false
    /// The pixel probe, while on.
    public var probe: Probe?
    /// Whose result the overlay, the finding and a decision are about: 0 the embedded models,
    /// k the study's k-th external result (another system's SEG, map or report).
    public var activeSource = 0

    public init(studyInstanceUID: String, studyIndex: Int) {
        self.studyInstanceUID = studyInstanceUID
        self.studyIndex = studyIndex
    }
}

/// The pixel probe: a point on the image (image pixels of the slice on screen) and, once set,
/// a second point to measure the distance to.
public struct Probe: Sendable, Equatable {
    public var x: Int
    public var y: Int
    public var mark: Mark?

    /// The second point: where it was set, and its place in the patient (mm) when the header says.
    public struct Mark: Sendable, Equatable {
        public var x: Int
        public var y: Int
        public var sliceIndex: Int
        public var patient: [Double]?
    }

    public init(x: Int, y: Int) { self.x = x; self.y = y }
}

/// Everything the screens draw; changed only by `Review.update`.
public struct AppState: Sendable {
    public var screen: ScreenKind = .worklist
    public var width: Int
    public var height: Int
    public var sourceName: String
    public var keyMap: KeyMap
    public var loading = true
    public var loadProgress: (done: Int, total: Int)?
    public var loadError: String?
    /// One summary a study, in the source's order (arrival).
    public var studies: [StudySummary] = []
    /// The rows on screen: indices into `studies` after filter and sort, kept up to date by
    /// `update` (never recomputed while drawing); AI results move a row, not the whole order.
    public private(set) var visible: [Int] = []
    public var skippedFiles = 0
    /// Files of the source that could not be read, with the reasons (the problems screen).
    public var problems: [FileProblem] = []
    public var problemsOffset = 0
    public var failedFiles: Int { problems.count }
    public var status: [String: StudyStatus] = [:]
    public var sort: WorklistSort = .priority
    public var filter = ""
    public var filterDraft: String?
    public var selectedRow = 0
    public var showIdentifiers = false
    public var viewer: ViewerState?
    public var helpOffset = 0
    public var headerLines: [HeaderLine] = []
    public var headerOffset = 0
    /// A one-line message for the status bar (cleared by the next key).
    public var message: String?
    /// What the overlay is, when a heatmap source exists (shown in the panel).
    public var overlayLabel: String?
    /// Whether a model runs, and its AI results per Study Instance UID as they arrive.
    public var model: ModelStatus
    public var results: [String: StudyResult] = [:]
    public var analysisErrors: [String: String] = [:]
    /// Other systems' AI results per study (read when it opens), and its objects that could not be read.
    public var externalResults: [String: [ExternalResult]] = [:]
    public var externalProblems: [String: [String]] = [:]
    public var externalsAvailable = false
    /// Who records decisions (config `reader`, else $USER).
    public var reader: String
    /// Decisions saved in the ledger, the latest per study.
    public var decisions: [String: Decision] = [:]
    /// The last decision's way to the ledger.
    public var save: SaveState = .idle
    /// The clock of the latest key (seconds, from the message): what "now" is for `update`.
    public var clock: Double = 0
    /// The override dialog, while open.
    public var overridePrompt: OverridePrompt?
    /// The similar-cases list, while open.
    public var similar: SimilarPanel?
    /// A similar case shown beside the current study, while open (Esc closes).
    public var compare: CompareView?
    /// Whether a case base exists (similar cases need the model's embeddings).
    public var similarAvailable = false
    /// Whether the whole worklist is analysed in the background (else each study when opened).
    public var analyseWorklist = true
    /// How many of the next studies in the worklist are fetched (and analysed) ahead when one is
    /// opened (a PACS source; 0 for a folder).
    public var prefetchStudies = 0
    /// PACS studies being fetched: instances stored of total, by Study Instance UID.
    public var retrievals: [String: (stored: Int, total: Int)] = [:]
    /// Monitoring: the latest report (nil until read, or without monitoring) and why it could not be read.
    public var monitorReport: MonitorReport?
    public var monitorProblem: String?
    public var monitorAvailable = false
    /// The alert selected on the monitor screen, the screen it was opened from, and the
    /// acknowledgement dialog while open.
    public var monitorSelected = 0
    public var monitorReturn: ScreenKind = .worklist
    public var acknowledgePrompt: AcknowledgePrompt?
    /// The worklist shows only an alert's studies, while set.
    public var alertFilter: AlertFilter?
    /// Department mode: whether claims exist, every other reader's live claim by study (refreshed
    /// on a tick), the study this reader holds, and the question before opening a claimed study.
    public var claimsAvailable = false
    /// Whether the study's verdict SRs are read back (a PACS source), and where saved decisions
    /// are sent as verdict SRs (nil: nowhere).
    public var verdictsAvailable = false
    public var pushVerdictsTo: String?
    /// The verdict reports each study holds, read back from its PACS.
    public var pacsVerdicts: [String: [VerdictReadBack]] = [:]
    /// Why the last push of verdict SRs failed, with how many wait (nil: none waiting).
    public var verdictPushProblem: String?
    public var claims: [String: StudyClaim] = [:]
    public var heldClaim: String?
    public var claimPrompt: ClaimPrompt?
    /// q was pressed once with an unsaved decision (a second q leaves without it).
    public var quitWarned = false
    /// Why decisions cannot be recorded (the ledger did not open), if so.
    public var ledgerProblem: String?
    public var quitRequested = false
    /// How pictures are drawn in cells (half blocks, quadrants, sextants; set from the terminal
    /// and `--symbols`): the probe moves by one picture pixel of this mode.
    public var cellMode: ImageCellMode = .halfBlock
    /// The cell's pixel size when the terminal draws true pixels (Kitty or Sixel), else nil.
    public var graphicsCell: CellPixels?

    /// The cell's pixel size when the image on screen is drawn in true pixels now: pixel graphics,
    /// and no dialog or side-by-side case over the image (those are drawn in cells).
    var pixelPictureCell: CellPixels? {
        overridePrompt == nil && similar == nil && compare == nil ? graphicsCell : nil
    }

    public init(width: Int, height: Int, sourceName: String, keyMap: KeyMap = .defaults, showIdentifiers: Bool = false,
                overlayLabel: String? = nil, notice: String? = nil, model: ModelStatus = .none("no model configured"),
                reader: String = "reader", ledgerProblem: String? = nil) {
        self.width = width
        self.height = height
        self.sourceName = sourceName
        self.keyMap = keyMap
        self.showIdentifiers = showIdentifiers
        self.overlayLabel = overlayLabel
        self.message = notice
        self.model = model
        self.reader = reader
        self.ledgerProblem = ledgerProblem
    }

    /// The studies in worklist order (allocates: for tests and whole-list work, not per frame).
    public var visibleStudies: [StudySummary] { visible.map { studies[$0] } }

    /// The study on row `row` of the worklist.
    public func visibleStudy(at row: Int) -> StudySummary? {
        row >= 0 && row < visible.count ? studies[visible[row]] : nil
    }

    /// The worklist row of a study, if it is shown.
    public func row(of studyInstanceUID: String) -> Int? {
        visible.firstIndex { studies[$0].studyInstanceUID == studyInstanceUID }
    }

    /// Whether a study passes the filter. Identifiers are searchable only while shown: a filter
    /// must not reveal masked names.
    func matchesFilter(_ study: StudySummary, needle: String) -> Bool {
        guard !needle.isEmpty else { return true }
        var haystack = [study.studyDescription, study.studyDate, study.bodyPartExamined] + study.modalities + study.seriesDescriptions
        if showIdentifiers { haystack += [study.patientName, study.patientID, study.accessionNumber] }
        return haystack.contains { $0.lowercased().contains(needle) }
    }

    /// True when row `a` goes before row `b` in the current sort (ties: arrival order).
    func precedes(_ a: Int, _ b: Int) -> Bool {
        switch sort {
        case .priority:
            guard model.isReady else { return a < b }
            return PriorityOrder.precedes(PriorityOrder.rank(results[studies[a].studyInstanceUID]), a,
                                          PriorityOrder.rank(results[studies[b].studyInstanceUID]), b)
        case .arrival:
            return a < b
        case .patient:
            let (x, y) = (studies[a], studies[b])
            return (x.patientName, x.studyInstanceUID) < (y.patientName, y.studyInstanceUID)
        case .modality:
            let (x, y) = (studies[a], studies[b])
            return (x.modality, x.studyDate, a) < (y.modality, y.studyDate, b)
        case .status:
            let (sa, sb) = (reviewStatus(studies[a].studyInstanceUID), reviewStatus(studies[b].studyInstanceUID))
            return sa != sb ? sa.rawValue < sb.rawValue : a < b
        }
    }

    /// Filters and sorts the whole list again (after a new worklist, filter, sort or
    /// identifier display), keeping the selected study selected where it is still shown.
    mutating func refreshVisible() {
        let selected = visibleStudy(at: selectedRow)?.studyInstanceUID
        let needle = filter.lowercased()
        var rows = needle.isEmpty ? Array(studies.indices) : studies.indices.filter { matchesFilter(studies[$0], needle: needle) }
        if let alertFilter { rows = rows.filter { alertFilter.studies.contains(studies[$0].studyInstanceUID) } }
        if sort != .arrival && !(sort == .priority && !model.isReady) {
            rows.sort { precedes($0, $1) }
        }
        visible = rows
        if let selected, let row = row(of: selected) { selectedRow = row }
        selectedRow = min(selectedRow, max(0, visible.count - 1))
    }

    /// Moves one study to where its rank now puts it (a result arrived, a decision changed its
    /// status): a binary search over the rows, not a sort of the whole list.
    mutating func reposition(_ studyInstanceUID: String) {
        guard let index = studies.firstIndex(where: { $0.studyInstanceUID == studyInstanceUID }),
              let from = visible.firstIndex(of: index) else { return }
        let selected = visibleStudy(at: selectedRow)?.studyInstanceUID
        visible.remove(at: from)
        var low = 0, high = visible.count
        while low < high {
            let middle = (low + high) / 2
            if precedes(visible[middle], index) { low = middle + 1 } else { high = middle }
        }
        visible.insert(index, at: low)
        if let selected, let row = row(of: selected) { selectedRow = row }
    }

    /// Slices of the open series where the AI found something (each finding's peak), for n/p.
    func modelFindingSlices() -> [Int] {
        guard let viewer, let series = currentSeries else { return [] }
        let all = ([results[viewer.studyInstanceUID]] + (externalResults[viewer.studyInstanceUID] ?? []).map(\.result)).compactMap { $0 }
        let peaks = all.flatMap(\.findings).filter { $0.seriesInstanceUID == series.seriesInstanceUID }.map(\.finding.peakSlice)
        return Array(Set(peaks)).sorted()
    }

    /// Whether a study's AI results disagree: some source found something where another, able
    /// to (not a map alone), found nothing. Known once the study's other results are read.
    public func sourcesDisagree(_ uid: String) -> Bool {
        let externals = (externalResults[uid] ?? []).filter { $0.objects.contains { $0.kind != "PM" } }.map(\.result)
        guard !externals.isEmpty else { return false }
        let all = ([results[uid]].compactMap { $0 } + externals)
        return Set(all.map { !$0.findings.isEmpty }).count > 1
    }

    /// The external result the viewer is on (nil: the embedded models').
    public var activeExternal: ExternalResult? {
        guard let viewer, viewer.activeSource > 0, let list = externalResults[viewer.studyInstanceUID],
              viewer.activeSource <= list.count else { return nil }
        return list[viewer.activeSource - 1]
    }

    /// The result decisions and findings are about now: the active external one, else the models'.
    public var activeResult: StudyResult? {
        guard let viewer else { return nil }
        return activeExternal?.result ?? results[viewer.studyInstanceUID]
    }

    /// Which source holds a finding peaking on `slice` of the open series (0 the models, k an
    /// external result), preferring the active one.
    func source(ofFindingAt slice: Int) -> Int? {
        guard let viewer, let series = currentSeries else { return nil }
        var sources: [(Int, StudyResult)] = results[viewer.studyInstanceUID].map { [(0, $0)] } ?? []
        sources += (externalResults[viewer.studyInstanceUID] ?? []).enumerated().map { ($0.offset + 1, $0.element.result) }
        let holding = sources.filter { $0.1.findings.contains { $0.seriesInstanceUID == series.seriesInstanceUID && $0.finding.peakSlice == slice } }
        return holding.first { $0.0 == viewer.activeSource }?.0 ?? holding.first?.0
    }

    /// The worklist status of a study: its saved decision, else new or viewed.
    public func reviewStatus(_ uid: String) -> ReviewStatus {
        if let decision = decisions[uid] { return ReviewStatus(decision.action) }
        return status[uid] == .viewed ? .viewed : .new
    }

    /// The finding the viewer is on (index in the study's AI result), nil for the whole study:
    /// the current slice lies within a finding of the current series.
    public var currentFinding: Int? {
        guard let viewer, let series = currentSeries, let result = activeResult else { return nil }
        return result.findings.firstIndex {
            $0.seriesInstanceUID == series.seriesInstanceUID && $0.finding.firstSlice <= viewer.sliceIndex && viewer.sliceIndex <= $0.finding.lastSlice
        }
    }

    /// The study open in the viewer, once its series have loaded.
    public var currentStudy: Study? { viewer?.study }

    /// The worklist summary of the study open in the viewer.
    public var currentSummary: StudySummary? {
        guard let viewer, viewer.studyIndex < studies.count, studies[viewer.studyIndex].studyInstanceUID == viewer.studyInstanceUID else {
            return nil
        }
        return studies[viewer.studyIndex]
    }

    /// The series open in the viewer.
    public var currentSeries: Series? {
        guard let viewer, let study = currentStudy, viewer.seriesIndex < study.series.count else { return nil }
        return study.series[viewer.seriesIndex]
    }

    /// The slices of the open series.
    public var currentSlices: [SliceEntry] { viewer?.slices ?? [] }

    /// The slice the viewer shows.
    public var currentSlice: SliceEntry? {
        guard let viewer, viewer.sliceIndex < viewer.slices.count else { return nil }
        return viewer.slices[viewer.sliceIndex]
    }

    /// How identifiers are displayed now.
    public var identifierDisplay: IdentifierDisplay { showIdentifiers ? .shown : .masked }
}
