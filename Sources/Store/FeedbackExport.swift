import Crypto
public import LightboxCore
public import Foundation

/// The per-installation secret behind pseudonyms and date shifts: 32 random bytes made on first
/// use, readable by the owner only. Without it, pseudonyms cannot be linked back to patients.
public struct PseudonymKey: Sendable {
    private let key: SymmetricKey

    public init(bytes: Data) { key = SymmetricKey(data: bytes) }

    /// The key's length in bytes.
    public static let length = 32

    /// Reads the key at `path`, creating it (mode 0600, exclusively: two processes starting at
    /// once end up with the same key) when absent. A file of the wrong length is refused, never
    /// replaced: a new key would silently stop pseudonyms linking across exports.
    public static func loadOrCreate(path: String) throws -> PseudonymKey {
        PseudonymKey(bytes: try SecretFile.loadOrCreate(path: path, length: length, what: "pseudonym key",
                                                        consequence: "pseudonyms would stop linking to earlier exports"))
    }

    /// HMAC-SHA-256 of `kind:value`, hex, 24 characters.
    public func pseudonym(_ kind: String, _ value: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data("\(kind):\(value)".utf8), using: key)
        return String(code.hexadecimal.prefix(24))
    }

    /// Days (1…365) a patient's dates move back in exports; the same for every export of that patient.
    public func dayShift(patientID: String) -> Int {
        let code = Array(HMAC<SHA256>.authenticationCode(for: Data("shift:\(patientID)".utf8), using: key))
        let value = (Int(code[0]) << 8) | Int(code[1])
        return value % 365 + 1
    }
}

/// A store error that names the file.
public struct StoreError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

/// Decisions out, for model monitoring: CSV, JSON Lines, or a JSON document shaped after IHE AI
/// Result Assessment. De-identified unless identifiers are asked for: keyed pseudonyms for patient
/// and study, study dates shifted per patient, free-text comments withheld. The ledger's chain
/// head is written into every export (`lightbox audit verify --head` checks it later).
public enum FeedbackExport {
    public enum Format: String, CaseIterable, Sendable {
        case csv, jsonl, airai
    }

    /// One exported row (identifiers or pseudonyms, as chosen).
    struct Row: Encodable {
        let decisionId: String
        let patient: String
        let study: String
        let series: String?
        let studyDate: String
        let finding: Int?
        let action: String
        let reason: String?
        let comment: String?
        let reader: String
        let secondsSpent: Double
        let model: String
        let modelVersion: String
        let outputHash: String
        let probability: Double?
        let tier: String?
        let decidedAt: String
        /// The IHE AIRA verdict: agree (accepted), disagree (overridden) or deferred.
        let assessment: String
        /// Whose result: "lightbox" (an embedded model) or "external" (another system's object,
        /// named by its SOP Instance UID, kind, content hash and the finding's tracking UID;
        /// the UIDs pseudonymised unless identifiers are asked for).
        let source: String
        let aiObject: String?
        let aiObjectKind: String?
        let aiObjectHash: String?
        let trackingUID: String?

        enum CodingKeys: String, CodingKey {
            case decisionId, patient, study, series, studyDate, finding, action, reason, comment, reader, secondsSpent, model, modelVersion
            case outputHash, probability, tier, decidedAt, source, aiObject, aiObjectKind, aiObjectHash, trackingUID
        }
    }

    /// A decision's IHE AI Result Assessment verdict.
    static func assessment(_ action: DecisionAction) -> String {
        switch action {
        case .accept: "agree"
        case .override: "disagree"
        case .deferred: "deferred"
        }
    }

    /// The decisions made on or after `since` (YYYY-MM-DD, UTC), all when nil.
    public static func decisions(_ decisions: [Decision], since: String?) -> [Decision] {
        guard let since else { return decisions }
        return decisions.filter { $0.decidedAt.isOnOrAfter(day: since) }
    }

    /// What the audit chain records about an export with identifiers (who, what, how many).
    public struct IdentifiedExportEvent: Encodable {
        public let format: String
        public let records: Int
        public let since: String
        public let user: String

        public init(format: String, records: Int, since: String?, user: String) {
            self.format = format
            self.records = records
            self.since = since ?? ""
            self.user = user
        }

        /// The event as canonical JSON (any text in it is escaped, a quote in a user name too).
        public var json: String { CanonicalJSON.string(self) }
    }

    /// `yyyyMMdd` moved back by `days`; empty when it is not a date (it could carry anything).
    static func shift(_ date: String, days: Int) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd"
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.locale = Locale(identifier: "en_US_POSIX")
        guard let parsed = formatter.date(from: date) else { return "" }
        return formatter.string(from: parsed.addingTimeInterval(-Double(days) * 86_400))
    }

    static func rows(_ decisions: [Decision], key: PseudonymKey, includeIdentifiers: Bool) -> [Row] {
        decisions.map { d in
            Row(decisionId: d.id,
                patient: includeIdentifiers ? d.patientID : key.pseudonym("patient", d.patientID),
                study: includeIdentifiers ? d.studyInstanceUID : key.pseudonym("study", d.studyInstanceUID),
                series: d.seriesInstanceUID.map { includeIdentifiers ? $0 : key.pseudonym("series", $0) },
                studyDate: includeIdentifiers ? d.studyDate : shift(d.studyDate, days: key.dayShift(patientID: d.patientID)),
                finding: d.finding.map { $0 + 1 }, action: d.action.rawValue, reason: d.reason?.rawValue,
                comment: includeIdentifiers ? d.comment : nil, reader: d.reader, secondsSpent: d.secondsSpent, model: d.model,
                modelVersion: d.modelVersion, outputHash: d.outputHash, probability: d.probability, tier: d.tier?.rawValue, decidedAt: d.decidedAt.text,
                assessment: Self.assessment(d.action), source: d.external == nil ? "lightbox" : "external",
                aiObject: d.external.map { includeIdentifiers ? $0.objectUID : key.pseudonym("object", $0.objectUID) },
                aiObjectKind: d.external?.objectKind, aiObjectHash: d.external?.objectHash,
                trackingUID: d.external?.trackingUID.map { includeIdentifiers ? $0 : key.pseudonym("tracking", $0) })
        }
    }

    public static func render(_ decisions: [Decision], head: LedgerReceipt?, format: Format, key: PseudonymKey,
                              includeIdentifiers: Bool) throws -> String {
        let rows = rows(decisions, key: key, includeIdentifiers: includeIdentifiers)
        let headHash = head?.hash ?? SQLiteDecisionLedger.genesis
        func json(_ value: some Encodable) -> String { CanonicalJSON.string(value) }
        switch format {
        case .csv:
            func field(_ value: String?) -> String {
                guard let value else { return "" }
                return value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : value
            }
            var lines = ["# lightbox decisions export; ledger head \(headHash) at audit row \(head?.sequence ?? 0); "
                         + (includeIdentifiers ? "WITH IDENTIFIERS" : "de-identified (pseudonyms, shifted dates, comments withheld)"),
                         "decision_id,patient,study,series,study_date,finding,action,reason,comment,reader,seconds_spent,model,model_version,output_hash,probability,tier,decided_at,source,ai_object,ai_object_kind,ai_object_hash,tracking_uid"]
            for r in rows {
                lines.append([r.decisionId, r.patient, r.study, r.series, r.studyDate, r.finding.map(String.init), r.action, r.reason, r.comment,
                              r.reader, String(format: "%.0f", r.secondsSpent), r.model, r.modelVersion, r.outputHash,
                              r.probability.map { String(format: "%.4f", $0) }, r.tier, r.decidedAt, r.source, r.aiObject, r.aiObjectKind,
                              r.aiObjectHash, r.trackingUID].map(field).joined(separator: ","))
            }
            return lines.joined(separator: "\n") + "\n"
        case .jsonl:
            struct Header: Encodable { let ledgerHead: String; let auditRow: Int; let deidentified: Bool; let records: Int }
            var lines = [json(Header(ledgerHead: headHash, auditRow: head?.sequence ?? 0, deidentified: !includeIdentifiers, records: rows.count))]
            for r in rows { lines.append(json(r)) }
            return lines.joined(separator: "\n") + "\n"
        case .airai:
            struct Assessment: Encodable {
                struct Subject: Encodable { let patient: String; let study: String; let series: String?; let studyDate: String }
                struct AssessedResult: Encodable {
                    let algorithmName: String; let algorithmVersion: String; let resultHash: String; let probability: Double?; let tier: String?; let finding: Int?
                    let source: String; let aiObject: String?; let aiObjectKind: String?; let aiObjectHash: String?; let trackingUID: String?
                }
                let assessmentId: String
                let subject: Subject
                let assessedResult: AssessedResult
                /// agree (accepted), disagree (overridden) or deferred.
                let assessment: String
                let disagreementReason: String?
                let comment: String?
                let observer: String
                let observationDateTime: String
                let secondsSpent: Double
            }
            struct Document: Encodable {
                let format = "lightbox-ai-result-assessment"
                let follows = "IHE AI Result Assessment (AIRA): one assessment per decision on an AI result"
                let ledgerHead: String
                let auditRow: Int
                let deidentified: Bool
                let assessments: [Assessment]
            }
            let assessments = rows.map { r in
                Assessment(assessmentId: r.decisionId, subject: .init(patient: r.patient, study: r.study, series: r.series, studyDate: r.studyDate),
                           assessedResult: .init(algorithmName: r.model, algorithmVersion: r.modelVersion, resultHash: r.outputHash,
                                                 probability: r.probability, tier: r.tier, finding: r.finding, source: r.source, aiObject: r.aiObject,
                                                 aiObjectKind: r.aiObjectKind, aiObjectHash: r.aiObjectHash, trackingUID: r.trackingUID),
                           assessment: r.assessment,
                           disagreementReason: r.reason, comment: r.comment, observer: r.reader, observationDateTime: r.decidedAt,
                           secondsSpent: r.secondsSpent)
            }
            let pretty = JSONEncoder()
            pretty.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            return String(decoding: try pretty.encode(Document(ledgerHead: headHash, auditRow: head?.sequence ?? 0, deidentified: !includeIdentifiers,
                                                               assessments: assessments)), as: UTF8.self) + "\n"
        }
    }
}
