public import LightboxCore

/// A source whose slices are files on this machine (a folder, a PACS's cache): decoded and
/// described by DCMTK from the slice key's path.
public protocol FileBackedStudySource: StudySource {}

extension FileBackedStudySource {
    public func decode(_ key: SliceKey) throws -> DecodedImage {
        try DicomFile.open(key.path).decode(frames: key.frame..<(key.frame + 1))
    }

    public func headerLines(_ key: SliceKey) throws -> [HeaderLine] {
        try DicomFile.open(key.path).headerLines()
    }
}

/// A folder of DICOM files as a study source: indexed through `FolderIndexer`, decoded by DCMTK.
public struct FolderStudySource: FileBackedStudySource {
    public let root: String
    private let index: any WorklistIndex & Sendable

    /// The folder `root`, indexed into `index`.
    public init(root: String, index: any WorklistIndex & Sendable) {
        self.root = root
        self.index = index
    }

    public var name: String { root }

    public func loadStudies(progress: (@Sendable (Int, Int) -> Void)?) throws -> (studies: [Study], summary: FolderIndexer.Summary) {
        try FolderIndexer(reader: DcmtkInstanceReader(), index: index).scan(root: root, progress: progress)
    }

    /// The worklist from the index's summaries (after reading new and changed files).
    public func loadWorklist(progress: (@Sendable (Int, Int) -> Void)?) throws -> Worklist {
        try FolderIndexer(reader: DcmtkInstanceReader(), index: index).worklist(root: root, progress: progress)
    }

    /// Every study's non-image objects, from the index.
    public func objects() -> [String: [String]]? {
        try? index.objects(under: FolderIndexer.normalized(root))
    }

    /// One study's instances from the index.
    public func study(_ studyInstanceUID: String) throws -> Study {
        guard let study = try index.study(studyInstanceUID, under: FolderIndexer.normalized(root)) else {
            throw StudyNotFound(studyInstanceUID: studyInstanceUID, source: root)
        }
        return study
    }
}
