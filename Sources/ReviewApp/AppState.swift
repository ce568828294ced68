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

/// Which screen is in front.
public enum ScreenKind: Sendable, Equatable {
    case worklist, viewer, help, header
}

/// The viewer's position and display settings.
public struct ViewerState: Sendable, Equatable {
    public var studyInstanceUID: String
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
    /// The slice shown, once it has loaded.
    public var loadedKey: SliceKey?
    /// A decode failure of the current slice.
    public var sliceError: String?
    /// Where the study sits in `AppState.studies` (kept so lookups are not searches).
    public var studyIndex: Int
    /// The open series' slices in display order, built once when the series opens.
    public var slices: [SliceEntry] = []

    public init(studyInstanceUID: String, studyIndex: Int) {
        self.studyInstanceUID = studyInstanceUID
        self.studyIndex = studyIndex
    }
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
    public var studies: [Study] = []
    public var skippedFiles = 0
    public var failedFiles = 0
    public var status: [String: StudyStatus] = [:]
    public var sort: WorklistSort = .priority
    public var filter = ""
    public var filterDraft: String?
    public var selectedRow = 0
    public var showIdentifiers = false
    public var viewer: ViewerState?
    public var helpOffset = 0
    public var headerLines: [String] = []
    public var headerOffset = 0
    /// A one-line message for the status bar (cleared by the next key).
    public var message: String?
    /// What the overlay is, when a heatmap source exists (shown in the panel).
    public var overlayLabel: String?
    public var quitRequested = false

    public init(width: Int, height: Int, sourceName: String, keyMap: KeyMap = .defaults, showIdentifiers: Bool = false,
                overlayLabel: String? = nil, notice: String? = nil) {
        self.width = width
        self.height = height
        self.sourceName = sourceName
        self.keyMap = keyMap
        self.showIdentifiers = showIdentifiers
        self.overlayLabel = overlayLabel
        self.message = notice
    }

    /// The studies after filter and sort, as shown in the worklist.
    public var visibleStudies: [Study] {
        let needle = filter.lowercased()
        let filtered = needle.isEmpty ? studies : studies.filter { study in
            let h = study.header
            var haystack = [h.studyDescription, h.modality, h.studyDate, h.bodyPartExamined] + study.series.map(\.header.seriesDescription)
            // Identifiers are searchable only while shown: a filter must not reveal masked names.
            if showIdentifiers { haystack += [h.patientName, h.patientID, h.accessionNumber] }
            return haystack.contains { $0.lowercased().contains(needle) }
        }
        switch sort {
        case .priority, .arrival:
            // No AI probabilities yet: priority falls back to arrival (study date, then UID).
            return filtered
        case .patient:
            return filtered.sorted { ($0.header.patientName, $0.studyInstanceUID) < ($1.header.patientName, $1.studyInstanceUID) }
        case .modality:
            return filtered.sorted { ($0.header.modality, $0.header.studyDate) < ($1.header.modality, $1.header.studyDate) }
        case .status:
            return filtered.sorted { (status[$0.studyInstanceUID] ?? .new).rawValue < (status[$1.studyInstanceUID] ?? .new).rawValue }
        }
    }

    /// The study open in the viewer.
    public var currentStudy: Study? {
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
