/// Where studies come from (port): a folder today, a PACS later.
public protocol StudySource: Sendable {
    /// A name for the title bar.
    var name: String { get }
    /// Lists (and indexes) the studies; `progress(done, total)` while files are read.
    func loadStudies(progress: (@Sendable (Int, Int) -> Void)?) throws -> (studies: [Study], summary: FolderIndexer.Summary)
    /// Decodes one image to modality values.
    func decode(_ key: SliceKey) throws -> DecodedImage
    /// Every attribute of the image's file, as text lines (untrusted: sanitise before display).
    func headerLines(_ key: SliceKey) throws -> [String]
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
