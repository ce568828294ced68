/// One worklist row: what the worklist shows, filters and sorts on, and what a decision needs of
/// a study, without the headers of its instances (those load when the study is opened).
public struct StudySummary: Sendable, Equatable, Codable {
    public var studyInstanceUID: String
    public var patientName: String
    public var patientID: String
    public var accessionNumber: String
    public var studyDate: String
    public var studyTime: String
    public var studyDescription: String
    public var bodyPartExamined: String
    /// Distinct modalities of its series.
    public var modalities: [String]
    /// Series descriptions (searched by the filter).
    public var seriesDescriptions: [String]
    public var seriesCount: Int
    /// Images over all series, counting frames.
    public var imageCount: Int

    /// A summary from its fields.
    public init(studyInstanceUID: String, patientName: String = "", patientID: String = "", accessionNumber: String = "",
                studyDate: String = "", studyTime: String = "", studyDescription: String = "", bodyPartExamined: String = "",
                modalities: [String] = [], seriesDescriptions: [String] = [], seriesCount: Int = 0, imageCount: Int = 0) {
        self.studyInstanceUID = studyInstanceUID
        self.patientName = patientName
        self.patientID = patientID
        self.accessionNumber = accessionNumber
        self.studyDate = studyDate
        self.studyTime = studyTime
        self.studyDescription = studyDescription
        self.bodyPartExamined = bodyPartExamined
        self.modalities = modalities
        self.seriesDescriptions = seriesDescriptions
        self.seriesCount = seriesCount
        self.imageCount = imageCount
    }

    /// The first modality (what presets and the model's domain go by).
    public var modality: String { modalities.first ?? "" }
}

extension Study {
    /// The study's worklist row.
    public var summary: StudySummary {
        let h = header
        return StudySummary(studyInstanceUID: studyInstanceUID, patientName: h.patientName, patientID: h.patientID,
                            accessionNumber: h.accessionNumber, studyDate: h.studyDate, studyTime: h.studyTime,
                            studyDescription: h.studyDescription, bodyPartExamined: h.bodyPartExamined, modalities: modalities,
                            seriesDescriptions: series.map(\.header.seriesDescription).reduce(into: []) { kept, description in
                                if !description.isEmpty && !kept.contains(description) { kept.append(description) }
                            },
                            seriesCount: series.count, imageCount: imageCount)
    }
}

/// A file of a source that could not be used, with the reason: what the worklist's problem list shows.
public struct FileProblem: Sendable, Equatable, Codable {
    public var path: String
    /// A short reason key for counting ("malformed", "geometry mismatch").
    public var reason: String
    /// The whole message, naming the file.
    public var message: String

    public init(path: String, reason: String, message: String) {
        self.path = path
        self.reason = reason
        self.message = message
    }
}

/// What a source lists: one summary a study, and what could not be read.
public struct Worklist: Sendable, Equatable {
    /// Studies, oldest first (by date, then UID).
    public var studies: [StudySummary]
    /// Files skipped quietly (objects without pixels, files that are not DICOM).
    public var skipped: Int
    /// Files that could not be read, in path order.
    public var problems: [FileProblem]
    /// What the reviewer's status bar should say about the list (a PACS that could not be reached,
    /// so the list is what the cache holds).
    public var notice: String?

    public init(studies: [StudySummary], skipped: Int = 0, problems: [FileProblem] = [], notice: String? = nil) {
        self.studies = studies
        self.skipped = skipped
        self.problems = problems
        self.notice = notice
    }
}
