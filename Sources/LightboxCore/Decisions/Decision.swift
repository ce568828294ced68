public import Foundation

/// JSON with sorted keys and no escaped slashes: the same bytes for the same value, for hashing and exports.
public enum CanonicalJSON {
    /// The value's canonical JSON. Non-finite numbers (a NaN probability) are written as strings
    /// rather than failing, so a hash never covers an empty text.
    public static func string(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            // Unreachable for Lightbox's own types; never hash nothing.
            return "{\"unencodable\":\"\(String(describing: value).replacingOccurrences(of: "\"", with: "'"))\"}"
        }
    }
}

/// What the reader did with the AI result.
public enum DecisionAction: String, Codable, Sendable, CaseIterable {
    case accept
    case override
    case deferred = "defer"
}

/// Why the reader overrode the AI (product.md §7).
public enum OverrideReason: String, Codable, Sendable, CaseIterable {
    case falsePositive = "false_positive"
    case falseNegative = "false_negative"
    case wrongLocation = "wrong_location"
    case wrongFindingType = "wrong_finding_type"
    case imageQuality = "image_quality"
    case other

    /// A reason from what a person types: `false_positive`, `false-positive`, `False Positive`.
    public init?(code: String) {
        let normalised = code.trimmingCharacters(in: .whitespaces).lowercased()
            .replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: " ", with: "_")
        self.init(rawValue: normalised)
    }

    /// Words for the reader.
    public var label: String {
        switch self {
        case .falsePositive: "false positive"
        case .falseNegative: "false negative"
        case .wrongLocation: "wrong location"
        case .wrongFindingType: "wrong finding type"
        case .imageQuality: "image quality"
        case .other: "other"
        }
    }
}

/// One decision on an AI result: for the whole study (`finding` nil) or one finding of it.
/// `id` is made once per decision, so a retry of the same decision never adds a second row.
public struct Decision: Codable, Sendable, Equatable {
    public var id: String
    public var studyInstanceUID: String
    /// The series of the finding decided on, or the series on screen.
    public var seriesInstanceUID: String?
    /// Kept in the local ledger for pseudonyms and date shifts at export; never exported as is
    /// unless identifiers are asked for.
    public var patientID: String
    public var studyDate: String
    /// Index of the finding in the AI result (nil: the whole study).
    public var finding: Int?
    public var action: DecisionAction
    public var reason: OverrideReason?
    public var comment: String?
    public var reader: String
    /// Seconds the reader spent on the study before deciding.
    public var secondsSpent: Double
    public var model: String
    public var modelVersion: String
    /// SHA-256 of the AI output the reader saw (the study result as JSON with sorted keys).
    public var outputHash: String
    public var probability: Double?
    /// The tier the reader saw (encoded as "high", "medium", "review": hashes of older rows hold).
    public var tier: ConfidenceTier?
    /// ISO 8601 UTC, e.g. 2026-11-23T19:40:00.123Z.
    public var decidedAt: Timestamp
    /// On another system's AI result (`model` and `modelVersion` are then its algorithm's name
    /// and version): the object decided on. Absent for Lightbox's own models (older rows' hashes hold).
    public var external: ExternalAssessment?

    public init(id: String = UUID().uuidString.lowercased(), studyInstanceUID: String, seriesInstanceUID: String? = nil, patientID: String, studyDate: String,
                finding: Int? = nil, action: DecisionAction, reason: OverrideReason? = nil, comment: String? = nil, reader: String,
                secondsSpent: Double, model: String, modelVersion: String, outputHash: String, probability: Double?, tier: ConfidenceTier?,
                decidedAt: Timestamp = Timestamp(Date())) {
        self.id = id
        self.studyInstanceUID = studyInstanceUID
        self.seriesInstanceUID = seriesInstanceUID
        self.patientID = patientID
        self.studyDate = studyDate
        self.finding = finding
        self.action = action
        self.reason = reason
        self.comment = comment
        self.reader = reader
        self.secondsSpent = secondsSpent
        self.model = model
        self.modelVersion = modelVersion
        self.outputHash = outputHash
        self.probability = probability
        self.tier = tier
        self.decidedAt = decidedAt
    }

    /// Now, as the ledger writes times.
    public static func timestamp(_ date: Date = Date()) -> Timestamp { Timestamp(date) }

    /// The same decision without id and time.
    var unstamped: Decision {
        var copy = self
        copy.id = ""
        copy.decidedAt = .unset
        return copy
    }

    /// The decision as canonical JSON (sorted keys): what the audit chain hashes.
    public var canonicalJSON: String { CanonicalJSON.string(self) }
}

/// The AI object a decision on an external result is about.
public struct ExternalAssessment: Codable, Sendable, Equatable {
    /// SOP Instance UID of the SEG, map or SR holding the finding (the first object for a decision on the whole result).
    public var objectUID: String
    /// SEG, PM or SR.
    public var objectKind: String
    /// SHA-256 of the object's file.
    public var objectHash: String
    /// The finding's tracking identifier and UID in the object (a segment's or a measurement group's).
    public var trackingID: String?
    public var trackingUID: String?

    public init(objectUID: String, objectKind: String, objectHash: String, trackingID: String?, trackingUID: String?) {
        self.objectUID = objectUID
        self.objectKind = objectKind
        self.objectHash = objectHash
        self.trackingID = trackingID
        self.trackingUID = trackingUID
    }
}

/// Where a recorded event sits in the audit chain.
public struct LedgerReceipt: Sendable, Equatable, Codable {
    public var sequence: Int
    public var hash: String
    /// False when the decision id was already recorded (a retry): nothing new was written.
    public var inserted: Bool

    public init(sequence: Int, hash: String, inserted: Bool) {
        self.sequence = sequence
        self.hash = hash
        self.inserted = inserted
    }
}

/// A non-decision row of the audit chain.
public struct AuditEvent: Sendable, Equatable, Codable {
    public var sequence: Int
    public var event: String
    public var subject: String
    public var payload: String

    public init(sequence: Int, event: String, subject: String, payload: String) {
        self.sequence = sequence
        self.event = event
        self.subject = subject
        self.payload = payload
    }
}

/// The outcome of checking the audit chain.
public struct LedgerVerification: Sendable, Equatable, Codable {
    /// Audit rows read.
    public var rows: Int
    /// The last row's hash.
    public var head: String?
    /// The first bad audit sequence number, if any.
    public var firstBadSequence: Int?
    /// What is wrong, first problem first; empty when the ledger verifies.
    public var problems: [String]

    public var isIntact: Bool { problems.isEmpty }

    public init(rows: Int, head: String?, firstBadSequence: Int?, problems: [String]) {
        self.rows = rows
        self.head = head
        self.firstBadSequence = firstBadSequence
        self.problems = problems
    }
}

/// The decision ledger (port): append-only, every write chained into the audit log. SQLite
/// implements it today; a shared department store (PostgreSQL) can implement it later.
public protocol DecisionStore: Sendable {
    /// Records a decision and its audit row in one transaction; recording the same id again
    /// returns the first receipt and writes nothing.
    func record(_ decision: Decision) throws -> LedgerReceipt
    /// Appends a non-decision event (an export, say) to the audit chain.
    func recordEvent(_ event: String, subject: String, details: String) throws -> LedgerReceipt
    /// Every decision, oldest first.
    func decisions() throws -> [Decision]
    /// The audit rows of one kind of event (an acknowledgement, a recalibration), oldest first.
    func events(_ event: String) throws -> [AuditEvent]
    /// The chain's last row, nil when empty.
    func head() throws -> LedgerReceipt?
    /// The hash of audit row `sequence`, nil when there is none (for signed checkpoints).
    func auditHash(at sequence: Int) throws -> String?
    /// Recomputes the chain; with `expectedHead` (from an export), also reports a truncated tail.
    func verify(expectedHead: String?) throws -> LedgerVerification
}

extension StudyResult {
    /// The result as JSON with sorted keys: what a decision's output hash covers.
    public var canonicalJSON: String { CanonicalJSON.string(self) }
}

extension Decision {
    /// The decision in words: "accept on finding 2", "override (false positive) on the whole study".
    public var summary: String {
        let what: String
        switch action {
        case .accept: what = "accept"
        case .override: what = "override (\(reason?.label ?? "no reason"))"
        case .deferred: what = "defer"
        }
        return what + " on " + (finding.map { "finding \($0 + 1)" } ?? "the whole study")
    }

    /// True once the decision has its id and time (see `stamped`).
    public var isStamped: Bool { !id.isEmpty && decidedAt.isSet }

    /// The decision with an id and a time where it has none; one already stamped is unchanged,
    /// so a retry keeps its id and can never add a second row.
    public func stamped(id makeID: () -> String, at date: Date) -> Decision {
        var copy = self
        if copy.id.isEmpty { copy.id = makeID() }
        if !copy.decidedAt.isSet { copy.decidedAt = Timestamp(date) }
        return copy
    }

    /// A decision on `result` for `study` (the study's patient ID and date kept for pseudonyms),
    /// not yet stamped: the one who records it gives it its id and time (`stamped`).
    public static func on(_ study: Study, result: StudyResult, outputHash: String, finding: Int?, action: DecisionAction,
                          reason: OverrideReason?, comment: String?, reader: String, secondsSpent: Double, series: String? = nil) -> Decision {
        Decision(studyInstanceUID: study.studyInstanceUID,
                 seriesInstanceUID: finding.flatMap { $0 < result.findings.count ? result.findings[$0].seriesInstanceUID : nil } ?? series,
                 patientID: study.header.patientID, studyDate: study.header.studyDate,
                 finding: finding, action: action, reason: reason, comment: comment, reader: reader, secondsSpent: secondsSpent,
                 model: result.model, modelVersion: result.modelVersion, outputHash: outputHash,
                 probability: result.imagesAnalysed > 0 ? result.probability : nil, tier: result.tier, decidedAt: .unset)
            .unstamped
    }
}
