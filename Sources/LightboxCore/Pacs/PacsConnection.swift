public import Foundation

/// What a study query asks a PACS for (QIDO-RS parameters, or C-FIND keys).
public struct StudyQuery: Sendable, Equatable {
    /// StudyDate as DICOM's range matching writes it: "20260101-20260131", "20260101-", "-20260131"
    /// or one date.
    public var dateRange: String?
    /// Modalities in the study (any of them).
    public var modalities: [String]
    /// Patient's name, DICOM wildcards allowed ("DOE^*").
    public var patientName: String?
    public var accessionNumber: String?
    public var studyInstanceUID: String?
    /// The most rows wanted (nil: all).
    public var limit: Int?
    /// Rows per request where the protocol pages (QIDO-RS `limit`/`offset`).
    public var pageSize: Int

    public init(dateRange: String? = nil, modalities: [String] = [], patientName: String? = nil, accessionNumber: String? = nil,
                studyInstanceUID: String? = nil, limit: Int? = nil, pageSize: Int = 1000) {
        self.dateRange = dateRange
        self.modalities = modalities
        self.patientName = patientName
        self.accessionNumber = accessionNumber
        self.studyInstanceUID = studyInstanceUID
        self.limit = limit
        self.pageSize = max(1, pageSize)
    }

    /// A date range the user typed ("2026-01-01..2026-01-31", "20260101-20260131", "today",
    /// "2026-01-01.." …) in DICOM's form, or nil when it is not one.
    public static func dicomDateRange(_ text: String, today: Date = Date()) -> String? {
        func day(_ part: String) -> String? {
            let digits = part.replacingOccurrences(of: "-", with: "")
            guard digits.count == 8, digits.allSatisfy(\.isNumber) else { return nil }
            return digits
        }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "today" || trimmed == "yesterday" {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone.current
            let date = trimmed == "today" ? today : calendar.date(byAdding: .day, value: -1, to: today) ?? today
            let parts = calendar.dateComponents([.year, .month, .day], from: date)
            return String(format: "%04d%02d%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
        }
        let separator = trimmed.contains("..") ? ".." : (trimmed.count > 10 || trimmed.hasPrefix("-") || trimmed.hasSuffix("-") ? "-" : nil)
        guard let separator else { return day(trimmed) }
        if separator == "-" {
            // Compact DICOM form only: "20260101-20260131", "20260101-", "-20260131".
            let pieces = trimmed.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            guard pieces.count == 2 else { return nil }
            let from = pieces[0].isEmpty ? "" : day(pieces[0])
            let to = pieces[1].isEmpty ? "" : day(pieces[1])
            guard let from, let to, !(from.isEmpty && to.isEmpty) else { return nil }
            return "\(from)-\(to)"
        }
        let pieces = trimmed.components(separatedBy: "..")
        guard pieces.count == 2 else { return nil }
        let from = pieces[0].isEmpty ? "" : day(pieces[0])
        let to = pieces[1].isEmpty ? "" : day(pieces[1])
        guard let from, let to, !(from.isEmpty && to.isEmpty) else { return nil }
        return "\(from)-\(to)"
    }
}

/// One instance of a study as the PACS lists it.
public struct InstanceMatch: Sendable, Equatable, Codable {
    public var studyInstanceUID: String
    public var seriesInstanceUID: String
    public var sopInstanceUID: String
    public var sopClassUID: String
    public var instanceNumber: Int?
    public var modality: String
    /// What display order needs, when the PACS lists it: series number, image position and orientation.
    public var seriesNumber: Int?
    public var imagePosition: [Double]?
    public var imageOrientation: [Double]?

    public init(studyInstanceUID: String, seriesInstanceUID: String, sopInstanceUID: String, sopClassUID: String,
                instanceNumber: Int? = nil, modality: String = "", seriesNumber: Int? = nil, imagePosition: [Double]? = nil,
                imageOrientation: [Double]? = nil) {
        self.studyInstanceUID = studyInstanceUID
        self.seriesInstanceUID = seriesInstanceUID
        self.sopInstanceUID = sopInstanceUID
        self.sopClassUID = sopClassUID
        self.instanceNumber = instanceNumber
        self.modality = modality
        self.seriesNumber = seriesNumber
        self.imagePosition = imagePosition
        self.imageOrientation = imageOrientation
    }

    /// The instances in the order the viewer shows them (series by number, then along the slice
    /// normal, else by instance number: `Study` and `SliceOrdering`'s rules), so the image on
    /// screen first is the one fetched first.
    public static func displayOrder(_ matches: [InstanceMatch]) -> [InstanceMatch] {
        let bySOP = Dictionary(matches.map { ($0.sopInstanceUID, $0) }, uniquingKeysWith: { first, _ in first })
        let series = Dictionary(grouping: matches, by: \.seriesInstanceUID).map { uid, members in
            Series(seriesInstanceUID: uid, instances: members.map { match in
                var header = ImageHeader()
                header.sopInstanceUID = match.sopInstanceUID
                header.seriesInstanceUID = uid
                header.seriesNumber = match.seriesNumber
                header.instanceNumber = match.instanceNumber
                header.imagePositionPatient = match.imagePosition?.count == 3 ? match.imagePosition : nil
                header.imageOrientationPatient = match.imageOrientation?.count == 6 ? match.imageOrientation : nil
                return InstanceEntry(path: match.sopInstanceUID, header: header)
            })
        }
        return Study(studyInstanceUID: matches.first?.studyInstanceUID ?? "", series: series).series
            .flatMap(\.instances).compactMap { bySOP[$0.path] }
    }
}

/// How a retrieve is going: instances stored so far of those asked for, bytes received.
public struct RetrieveProgress: Sendable, Equatable {
    public var stored: Int
    public var total: Int
    public var bytes: Int64
    /// The instance just stored (its SOP Instance UID and file).
    public var sopInstanceUID: String
    public var path: String

    public init(stored: Int, total: Int, bytes: Int64, sopInstanceUID: String, path: String) {
        self.stored = stored
        self.total = total
        self.bytes = bytes
        self.sopInstanceUID = sopInstanceUID
        self.path = path
    }
}

/// A PACS failure, always naming the source and the reason (never a credential).
public struct PacsError: Error, CustomStringConvertible, Equatable {
    public enum Kind: String, Sendable, Equatable {
        /// Refused, unreachable, or no connection within the timeout.
        case unreachable
        /// The server answered nothing within a timeout.
        case timeout
        /// Association rejected or aborted; HTTP 401/403.
        case refused
        /// HTTP 404, or a study the PACS does not hold.
        case notFound
        /// The server failed (HTTP 5xx, a DIMSE failure status).
        case serverError
        /// The answer was not what the protocol promises (not JSON, a cut multipart body).
        case badAnswer
        /// The local cache could not hold what arrived (disk full, permissions).
        case cache
        /// A configuration or argument problem.
        case configuration
    }

    public let source: String
    public let kind: Kind
    public let reason: String

    public init(source: String, kind: Kind, reason: String) {
        self.source = source
        self.kind = kind
        self.reason = reason
    }

    public var description: String { "\(source): \(reason)" }
}

/// A PACS (port): DICOMweb or DIMSE. Calls block the calling thread and always end within their
/// timeouts; failures are `PacsError`s.
public protocol PacsConnection: Sendable {
    /// The source as the user may see it: its name or address, never a credential.
    var displayName: String { get }
    /// C-ECHO, or a one-row QIDO-RS query.
    func echo() throws
    /// Studies matching the query, handed over a page at a time as they arrive; `page` returns
    /// false to stop.
    func findStudies(_ query: StudyQuery, page: ([DicomJSONDataset]) throws -> Bool) throws
    /// The instances of a study (instance level).
    func findInstances(studyInstanceUID: String) throws -> [InstanceMatch]
    /// Retrieves `instances` (all of one study) into `folder`, each as `SOP_INSTANCE_UID.dcm`
    /// written under a temporary name and renamed once complete. `progress` returns false to stop.
    func retrieve(_ instances: [InstanceMatch], into folder: String, progress: @escaping @Sendable (RetrieveProgress) -> Bool) throws
    /// Stores DICOM files (all of one study) on the PACS: STOW-RS or C-STORE. Returns when the
    /// PACS said it has each; a failure names the file it stopped at.
    func store(_ files: [String], studyInstanceUID: String) throws
}

extension PacsConnection {
    /// Every study matching the query (all pages).
    public func allStudies(_ query: StudyQuery) throws -> [DicomJSONDataset] {
        var rows: [DicomJSONDataset] = []
        try findStudies(query) { page in
            rows += page
            return true
        }
        return rows
    }
}
