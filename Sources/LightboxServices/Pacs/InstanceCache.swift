import Foundation
public import LightboxCore
import Store

/// Studies retrieved from a PACS, on disk: `ROOT/SOURCE/STUDY/SOP_INSTANCE_UID.dcm`, beside the
/// PACS's listing of the study (`.listing.json`) and a stamp of its last use (`.last-used`).
/// A file carries its UID as its name only once it is complete (written under a temporary name,
/// then renamed), so whatever a crash or a dropped connection leaves behind is either whole or
/// a `.partial` file that the next retrieve removes. Past the size budget, the least recently
/// used studies go first; the study being opened never does.
public struct InstanceCache: Sendable {
    public let root: String
    public let budgetBytes: Int64

    public init(root: String, budgetBytes: Int64) {
        self.root = root
        self.budgetBytes = budgetBytes
    }

    /// A folder name for a source: readable, and unique to its address.
    public static func sourceKey(_ address: String) -> String {
        let readable = address.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }
        let hash = AuditChain.sha256Hex(Data(address.utf8)).prefix(10)
        return String(String(readable).split(separator: "-").joined(separator: "-").prefix(40)) + "-" + hash
    }

    /// The study's folder (a UID that is not digits and dots is hashed, so no name leaves the cache).
    public func folder(source: String, study: String) -> String {
        let safe = !study.isEmpty && study.count <= 64 && study.allSatisfy { $0.isNumber || $0 == "." } && study.first != "."
        return "\(root)/\(source)/\(safe ? study : "uid-" + AuditChain.sha256Hex(Data(study.utf8)).prefix(32))"
    }

    /// Makes the folder and clears what an interrupted retrieve left (partial files only).
    public func prepare(_ folder: String) throws {
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw PacsError(source: folder, kind: .cache, reason: "cannot create the cache folder: \((error as NSError).localizedDescription)")
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where name.hasSuffix(".partial") {
            try? FileManager.default.removeItem(atPath: folder + "/" + name)
        }
    }

    /// SOP Instance UIDs of the complete files in the folder.
    public func cached(_ folder: String) -> Set<String> {
        Set(((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { $0.hasSuffix(".dcm") && !$0.hasPrefix(".") }
            .map { String($0.dropLast(4)) })
    }

    /// The PACS's listing of the study as last fetched (what "complete" is measured against).
    public func listing(_ folder: String) -> [InstanceMatch]? {
        guard let data = FileManager.default.contents(atPath: folder + "/.listing.json") else { return nil }
        return try? JSONDecoder().decode([InstanceMatch].self, from: data)
    }

    public func saveListing(_ instances: [InstanceMatch], in folder: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = try encoder.encode(instances)
        let temporary = folder + "/.listing.json.partial"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            throw PacsError(source: folder, kind: .cache, reason: "cannot write the study's listing into the cache (is the disk full?)")
        }
        guard rename(temporary, folder + "/.listing.json") == 0 else {
            throw PacsError(source: folder, kind: .cache, reason: "cannot write the study's listing into the cache")
        }
    }

    /// Whether every instance of the last listing is on disk.
    public func isComplete(_ folder: String) -> Bool {
        guard let listing = listing(folder) else { return false }
        return Set(listing.map(\.sopInstanceUID)).isSubset(of: cached(folder))
    }

    /// Stamps the study as used now (least recently used goes first).
    public func touch(_ folder: String) {
        let stamp = folder + "/.last-used"
        if !FileManager.default.fileExists(atPath: stamp) { _ = FileManager.default.createFile(atPath: stamp, contents: Data()) }
        try? FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: stamp)
    }

    /// Every study folder in the cache with its size and last use.
    func studies() -> [(folder: String, bytes: Int64, used: Date)] {
        var found: [(String, Int64, Date)] = []
        let manager = FileManager.default
        for source in (try? manager.contentsOfDirectory(atPath: root)) ?? [] {
            for study in (try? manager.contentsOfDirectory(atPath: root + "/" + source)) ?? [] {
                let folder = "\(root)/\(source)/\(study)"
                var bytes: Int64 = 0
                for name in (try? manager.contentsOfDirectory(atPath: folder)) ?? [] {
                    bytes += ((try? manager.attributesOfItem(atPath: folder + "/" + name))?[.size] as? NSNumber)?.int64Value ?? 0
                }
                let used = ((try? manager.attributesOfItem(atPath: folder + "/.last-used"))?[.modificationDate] as? Date)
                    ?? ((try? manager.attributesOfItem(atPath: folder))?[.modificationDate] as? Date) ?? .distantPast
                found.append((folder, bytes, used))
            }
        }
        return found
    }

    /// The cache's size in bytes.
    public var size: Int64 { studies().reduce(0) { $0 + $1.bytes } }

    /// Removes the least recently used studies until the cache fits its budget, never those in
    /// `keeping`. Returns the folders removed.
    @discardableResult
    public func evict(keeping: Set<String>) -> [String] {
        var studies = studies().sorted { $0.used < $1.used }
        var total = studies.reduce(0) { $0 + $1.bytes }
        var removed: [String] = []
        while total > budgetBytes, let oldest = studies.first {
            studies.removeFirst()
            if keeping.contains(oldest.folder) { continue }
            if (try? FileManager.default.removeItem(atPath: oldest.folder)) != nil {
                total -= oldest.bytes
                removed.append(oldest.folder)
            }
        }
        return removed
    }
}
