/// Where studies come from (port): a folder today, a PACS later.
public protocol StudySource: Sendable {
    /// A name for the title bar.
    var name: String { get }
    /// Lists (and indexes) the studies; `progress(done, total)` while files are read.
    func loadStudies(progress: (@Sendable (Int, Int) -> Void)?) throws -> (studies: [Study], summary: FolderIndexer.Summary)
    /// Decodes one image to modality values.
    func decode(_ key: SliceKey) throws -> DecodedImage
    /// Every attribute of the image's file, structured (untrusted text: `HeaderLine.text` sanitises).
    func headerLines(_ key: SliceKey) throws -> [HeaderLine]
    /// The worklist: one summary a study and the files that could not be read, without every
    /// instance's header in memory (what the reviewer opens with).
    func loadWorklist(progress: (@Sendable (Int, Int) -> Void)?) throws -> Worklist
    /// One study with its series and instances (when it is opened or analysed).
    func study(_ studyInstanceUID: String) throws -> Study
    /// The studies' non-image objects (SEG, maps, reports: other systems' AI results), their
    /// paths by study, when the source knows them (an index); nil: look beside the images.
    func objects() -> [String: [String]]?
}

extension StudySource {
    public func objects() -> [String: [String]]? { nil }

    /// For sources that hold their studies anyway: the summaries of `loadStudies`.
    public func loadWorklist(progress: (@Sendable (Int, Int) -> Void)?) throws -> Worklist {
        let (studies, summary) = try loadStudies(progress: progress)
        return Worklist(studies: studies.map(\.summary), skipped: summary.skipped, problems: summary.problems)
    }

    /// For sources that hold their studies anyway: the study from `loadStudies`.
    public func study(_ studyInstanceUID: String) throws -> Study {
        guard let study = try loadStudies(progress: nil).studies.first(where: { $0.studyInstanceUID == studyInstanceUID }) else {
            throw StudyNotFound(studyInstanceUID: studyInstanceUID, source: name)
        }
        return study
    }
}

/// A source whose worklist arrives in pages (a PACS's query): each page is handed over as it
/// arrives (the rows so far), so the list is on screen before the last page is in.
public protocol PagedStudySource: StudySource {
    func loadWorklist(pages: @Sendable (Worklist) -> Void) throws -> Worklist
}

/// A source that fetches a study's instances before it can open it (a PACS): it reports how the
/// fetch goes (study, instances stored, instances in all), and may fetch ahead of the reader.
public protocol RetrievingStudySource: StudySource, AnyObject {
    var onProgress: (@Sendable (String, Int, Int) -> Void)? { get set }
    /// The study, handing over `partial` once as soon as its first image is here (while the
    /// rest arrives), when it was not all here already.
    func study(_ studyInstanceUID: String, partial: @escaping @Sendable (Study) -> Void) throws -> Study
}

/// A study asked for by UID that the source does not hold (any more).
public struct StudyNotFound: Error, CustomStringConvertible, Equatable {
    public let studyInstanceUID: String
    public let source: String

    public init(studyInstanceUID: String, source: String) {
        self.studyInstanceUID = studyInstanceUID
        self.source = source
    }

    public var description: String { "\(source): no study \(studyInstanceUID) (rescan the source: it may have been removed)" }
}

/// One image of a series in display order: a frame of an instance.
public struct SliceEntry: Sendable, Equatable {
    public let key: SliceKey
    public let header: ImageHeader

    public init(key: SliceKey, header: ImageHeader) {
        self.key = key
        self.header = header
    }
}

extension Series {
    /// Every frame of every instance, in display order.
    public var slices: [SliceEntry] {
        instances.flatMap { instance in
            (0..<max(1, instance.header.numberOfFrames)).map {
                SliceEntry(key: SliceKey(path: instance.path, frame: $0), header: instance.header)
            }
        }
    }
}
