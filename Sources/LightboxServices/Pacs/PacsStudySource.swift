public import DicomReading
import Foundation
public import LightboxCore

/// A PACS as a study source (the `StudySource` port): the worklist from a study query, a study
/// retrieved into the `InstanceCache` when it is opened or analysed (only the instances not there
/// yet), then indexed and decoded from the cache like a folder. With the PACS unreachable the
/// worklist is the cache's studies and a study held whole in the cache still opens; the notice
/// says so.
public final class PacsStudySource: RetrievingStudySource, PagedStudySource, FileBackedStudySource, @unchecked Sendable {
    public let connection: any PacsConnection
    public let cache: InstanceCache
    public let query: StudyQuery
    /// The cache's name for this source, and the folder of its studies there.
    public let cacheKey: String
    public let sourceFolder: String
    private let index: any WorklistIndex & Sendable
    private let lock = NSLock()
    /// Studies whose retrieve is running, so eviction never removes them and two lanes asking for
    /// the same study wait for one retrieve.
    private var retrieving: Set<String> = []
    /// Callers of `study(_:partial:)` waiting for a study's first image, and the studies whose
    /// retrieve has brought it in.
    private var partialListeners: [String: [UUID: @Sendable (Study) -> Void]] = [:]
    private var firstArrived: Set<String> = []
    private let retrieveLocks = NSLock()
    private var studyLocks: [String: NSLock] = [:]
    /// Called as instances arrive (study UID, stored, total).
    public var onProgress: (@Sendable (String, Int, Int) -> Void)?

    public init(connection: any PacsConnection, cache: InstanceCache, cacheKey: String, index: any WorklistIndex & Sendable,
                query: StudyQuery = StudyQuery()) {
        self.connection = connection
        self.cache = cache
        self.query = query
        self.index = index
        self.cacheKey = cacheKey
        self.sourceFolder = cache.root + "/" + cacheKey
    }

    public var name: String { connection.displayName }

    // MARK: the worklist

    public func loadWorklist(progress: (@Sendable (Int, Int) -> Void)?) throws -> Worklist {
        try loadWorklist(pages: { progress?($0.studies.count, 0) })
    }

    public func loadWorklist(pages: @Sendable (Worklist) -> Void) throws -> Worklist {
        var rows: [StudySummary] = []
        do {
            try connection.findStudies(query) { page in
                rows += page.map(\.studySummary).filter { !$0.studyInstanceUID.isEmpty }
                pages(Worklist(studies: rows))
                return true
            }
        } catch let error as PacsError where [.unreachable, .timeout, .refused].contains(error.kind) {
            // Offline: what the cache holds of this source, said so.
            let cached = try cachedWorklist()
            return Worklist(studies: cached.studies, skipped: cached.skipped, problems: cached.problems,
                            notice: "\(error) — showing the \(cached.studies.count) cached stud\(cached.studies.count == 1 ? "y" : "ies") (offline)")
        }
        rows.sort { ($0.studyDate, $0.studyTime, $0.studyInstanceUID) < ($1.studyDate, $1.studyTime, $1.studyInstanceUID) }
        return Worklist(studies: rows)
    }

    /// The studies of this source in the cache, from the index.
    func cachedWorklist() throws -> Worklist {
        guard FileManager.default.fileExists(atPath: sourceFolder) else { return Worklist(studies: []) }
        return try FolderIndexer(reader: DcmtkInstanceReader(), index: index).worklist(root: FolderIndexer.normalized(sourceFolder))
    }

    public func loadStudies(progress: (@Sendable (Int, Int) -> Void)?) throws -> (studies: [Study], summary: FolderIndexer.Summary) {
        let worklist = try loadWorklist(progress: nil)
        var studies: [Study] = []
        var problems = worklist.problems
        for (done, row) in worklist.studies.enumerated() {
            do { studies.append(try study(row.studyInstanceUID)) } catch {
                problems.append(FileProblem(path: row.studyInstanceUID, reason: "retrieve failed", message: "\(error)"))
            }
            progress?(done + 1, worklist.studies.count)
        }
        var summary = FolderIndexer.Summary()
        summary.filesSeen = studies.reduce(0) { $0 + $1.instanceCount }
        summary.studies = studies.count
        summary.series = studies.reduce(0) { $0 + $1.series.count }
        summary.images = studies.reduce(0) { $0 + $1.imageCount }
        summary.skipped = worklist.skipped
        summary.problems = problems
        summary.errorMessages = problems.map(\.message)
        return (studies, summary)
    }

    // MARK: a study

    private func studyLock(_ uid: String) -> NSLock {
        retrieveLocks.withLock {
            if let lock = studyLocks[uid] { return lock }
            let lock = NSLock()
            studyLocks[uid] = lock
            return lock
        }
    }

    /// The study's folder in the cache, with every instance the PACS lists for it (retrieving
    /// the missing ones). With the PACS unreachable, a study held whole in the cache is used as it is.
    public func retrieve(_ studyInstanceUID: String, progress: (@Sendable (RetrieveProgress) -> Bool)? = nil) throws -> String {
        let folder = folder(of: studyInstanceUID)
        let gate = studyLock(studyInstanceUID)
        gate.lock()
        defer { gate.unlock() }
        self.lock.withLock { _ = retrieving.insert(folder) }
        defer { self.lock.withLock { _ = retrieving.remove(folder) } }
        try cache.prepare(folder)
        let listing: [InstanceMatch]
        do {
            listing = try connection.findInstances(studyInstanceUID: studyInstanceUID)
        } catch let error as PacsError where [.unreachable, .timeout, .refused].contains(error.kind) {
            if cache.isComplete(folder) {
                cache.touch(folder)
                return folder
            }
            throw error
        }
        guard !listing.isEmpty else {
            throw PacsError(source: name, kind: .notFound, reason: "no instances of study \(studyInstanceUID) (it may have been deleted from the PACS)")
        }
        try cache.saveListing(listing, in: folder)
        let present = cache.cached(folder)
        // In display order, so the first image the viewer shows is the first to arrive.
        let missing = InstanceMatch.displayOrder(listing).filter { !present.contains($0.sopInstanceUID) }
        if !missing.isEmpty {
            let report = onProgress
            let already = listing.count - missing.count, total = listing.count
            defer { _ = lock.withLock { firstArrived.remove(studyInstanceUID) } }
            try connection.retrieve(missing, into: folder) { [self] update in
                report?(studyInstanceUID, update.stored + already, total)
                if update.stored == 1 { firstImageArrived(studyInstanceUID, folder: folder) }
                return progress?(update) ?? true
            }
            let after = cache.cached(folder)
            let stillMissing = listing.filter { !after.contains($0.sopInstanceUID) }
            if !stillMissing.isEmpty {
                throw PacsError(source: name, kind: .serverError,
                                reason: "\(stillMissing.count) of \(listing.count) instances of study \(studyInstanceUID) did not arrive; what arrived is cached (retry to fetch the rest)")
            }
            // The cache grew: the least recently used studies make room (a walk of the cache,
            // so only when something arrived).
            let keeping = lock.withLock { retrieving }
            cache.evict(keeping: keeping.union([folder]))
        }
        cache.touch(folder)
        return folder
    }

    public func study(_ studyInstanceUID: String) throws -> Study {
        // A cached file the index cannot read (a power loss can leave a renamed file that never
        // reached the disk whole) is removed, and the retrieve fetches it again.
        if let study = try indexed(studyInstanceUID, folder: try retrieve(studyInstanceUID), discardingUnreadable: true) { return study }
        return try indexed(studyInstanceUID, folder: try retrieve(studyInstanceUID))!
    }

    public func study(_ studyInstanceUID: String, partial: @escaping @Sendable (Study) -> Void) throws -> Study {
        // Whoever's retrieve brings the first image in (this call's, or the analysis lane's for
        // the same study) hands the study as it is then to every caller waiting with `partial`.
        let id = UUID()
        let arrived = lock.withLock { () -> Bool in
            partialListeners[studyInstanceUID, default: [:]][id] = partial
            return firstArrived.contains(studyInstanceUID)
        }
        defer { _ = lock.withLock { partialListeners[studyInstanceUID]?.removeValue(forKey: id) } }
        if arrived, let study = try? indexed(studyInstanceUID, folder: folder(of: studyInstanceUID)) ?? nil { partial(study) }
        return try study(studyInstanceUID)
    }

    /// The study's folder in the cache.
    public func folder(of studyInstanceUID: String) -> String {
        cache.folder(source: cacheKey, study: studyInstanceUID)
    }

    /// The first image of a study is here: the waiting callers get the study as it is.
    private func firstImageArrived(_ studyInstanceUID: String, folder: String) {
        let listeners = lock.withLock { () -> [@Sendable (Study) -> Void] in
            firstArrived.insert(studyInstanceUID)
            return Array((partialListeners[studyInstanceUID] ?? [:]).values)
        }
        guard !listeners.isEmpty, let study = try? indexed(studyInstanceUID, folder: folder) ?? nil else { return }
        for listener in listeners { listener(study) }
    }

    /// The study as the cache folder holds it now (new files indexed first); nil when
    /// `discardingUnreadable` removed files the index could not read.
    private func indexed(_ studyInstanceUID: String, folder: String, discardingUnreadable: Bool = false) throws -> Study? {
        let root = FolderIndexer.normalized(folder)
        let unreadable = try FolderIndexer(reader: DcmtkInstanceReader(), index: index).worklist(root: root).problems
            .filter { $0.path.hasPrefix(root + "/") }
        if discardingUnreadable && !unreadable.isEmpty {
            for problem in unreadable { try? FileManager.default.removeItem(atPath: problem.path) }
            return nil
        }
        guard let study = try index.study(studyInstanceUID, under: root) else {
            throw StudyNotFound(studyInstanceUID: studyInstanceUID, source: name)
        }
        return study
    }
}
