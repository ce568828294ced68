/// Size and modification time: a file whose stamp has not changed is not read again.
public struct FileStamp: Codable, Sendable, Hashable {
    /// Size in bytes.
    public var size: Int64
    /// Modification time, seconds since 1970.
    public var modified: Double

    /// A stamp from size and time.
    public init(size: Int64, modified: Double) {
        self.size = size
        self.modified = modified
    }
}

/// What reading one file gave.
public enum FileOutcome: Sendable, Equatable {
    /// An image instance with its header.
    case image(ImageHeader)
    /// A DICOM object without pixels (SR, KOS, RT plan, DICOMDIR…), counted and skipped quietly.
    case skipped(reason: String)
    /// A study's object that is not an image but may be another system's AI result (a SEG, a
    /// parametric map, a structured report): skipped as an image, kept by study for its results.
    case object(studyInstanceUID: String, reason: String)
    /// A file that cannot be used: a reason key for counting and the full message (with the file name).
    case failed(reason: String, message: String)
}

/// One file of a source folder and what it holds.
public struct IndexedFile: Sendable, Equatable {
    public var path: String
    public var stamp: FileStamp
    public var outcome: FileOutcome

    /// A file, its stamp and its outcome.
    public init(path: String, stamp: FileStamp, outcome: FileOutcome) {
        self.path = path
        self.stamp = stamp
        self.outcome = outcome
    }
}

/// Reads one file's header (port; DCMTK implements it).
public protocol InstanceReader: Sendable {
    /// The outcome of reading `path`; never throws, failures become `.failed`.
    func read(path: String) -> FileOutcome
}

/// The persistent index of source folders (port; SQLite implements it).
public protocol WorklistIndex {
    /// Stamps of the files known below `root`.
    func stamps(under root: String) throws -> [String: FileStamp]
    /// Inserts or replaces files.
    func save(_ files: [IndexedFile]) throws
    /// Forgets files (deleted from disk).
    func remove(paths: [String]) throws
    /// Every file known below `root`.
    func files(under root: String) throws -> [IndexedFile]
    /// One summary a study of the images below `root`, computed in the index (no header decoded).
    func summaries(under root: String) throws -> [StudySummary]
    /// Files below `root` that could not be used, in path order, and how many were skipped quietly.
    func problems(under root: String) throws -> (problems: [FileProblem], skipped: Int)
    /// The images of one study below `root`, nil when the index has none.
    func study(_ studyInstanceUID: String, under root: String) throws -> Study?
    /// The non-image objects below `root` (`FileOutcome.object`), their paths by study.
    func objects(under root: String) throws -> [String: [String]]
}

extension WorklistIndex {
    public func objects(under root: String) throws -> [String: [String]] { [:] }
}
