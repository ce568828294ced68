public import Foundation

/// A coded entry of DICOM SR: code value, coding scheme designator, code meaning.
public struct CodedConcept: Sendable, Equatable, Hashable, Codable {
    public var value: String
    public var scheme: String
    public var meaning: String

    public init(_ value: String, _ scheme: String, _ meaning: String) {
        self.value = value
        self.scheme = scheme
        self.meaning = meaning
    }

    /// The same code, whatever its meaning's wording.
    public func sameCode(_ other: CodedConcept?) -> Bool { other.map { $0.value == value && $0.scheme == scheme } ?? false }
}

/// Every code a verdict SR uses, in one table. IHE's AI Result Assessment profile has not fixed
/// its codes yet, so the verdict, tier, probability and reason concepts are private ones, in the
/// coding scheme `99LBX` that each SR identifies in its CodingSchemeIdentificationSequence; the
/// standard ones (DCM, SCT, UCUM) are used where one exists.
public enum VerdictCodes {
    public static let scheme = "99LBX"
    public static let schemeName = "Lightbox AI result assessment codes"
    public static let schemeOrganization = "Lightbox"

    public static let procedure = CodedConcept("363679005", "SCT", "Imaging")
    public static let finding = CodedConcept("49755003", "SCT", "Morphologically abnormal structure")
    public static let imageRegion = CodedConcept("111030", "DCM", "Image Region")
    public static let comment = CodedConcept("121106", "DCM", "Comment")
    public static let noUnits = CodedConcept("1", "UCUM", "no units")

    public static let probability = CodedConcept("LBX0001", scheme, "AI probability (calibrated, of the study)")
    public static let tier = CodedConcept("LBX0002", scheme, "AI confidence tier")
    public static let verdict = CodedConcept("LBX0003", scheme, "Reader assessment of the AI result")
    public static let reason = CodedConcept("LBX0004", scheme, "Reason for overriding the AI result")
    public static let decisionID = CodedConcept("LBX0005", scheme, "Lightbox decision identifier")
    public static let peak = CodedConcept("LBX0006", scheme, "AI heatmap peak value")

    public static func code(_ tier: ConfidenceTier) -> CodedConcept {
        switch tier {
        case .high: CodedConcept("LBX0101", scheme, "High confidence")
        case .medium: CodedConcept("LBX0102", scheme, "Medium confidence")
        case .review: CodedConcept("LBX0103", scheme, "Needs review")
        }
    }

    public static func code(_ action: DecisionAction) -> CodedConcept {
        switch action {
        case .accept: CodedConcept("LBX0201", scheme, "AI result accepted")
        case .override: CodedConcept("LBX0202", scheme, "AI result overridden")
        case .deferred: CodedConcept("LBX0203", scheme, "AI result deferred")
        }
    }

    public static func code(_ reason: OverrideReason) -> CodedConcept {
        switch reason {
        case .falsePositive: CodedConcept("LBX0301", scheme, "False positive")
        case .falseNegative: CodedConcept("LBX0302", scheme, "False negative")
        case .wrongLocation: CodedConcept("LBX0303", scheme, "Wrong location")
        case .wrongFindingType: CodedConcept("LBX0304", scheme, "Wrong finding type")
        case .imageQuality: CodedConcept("LBX0305", scheme, "Image quality")
        case .other: CodedConcept("LBX0306", scheme, "Other reason")
        }
    }

    public static func tier(_ code: CodedConcept?) -> ConfidenceTier? { ConfidenceTier.allCases.first { self.code($0).sameCode(code) } }
    public static func action(_ code: CodedConcept?) -> DecisionAction? { DecisionAction.allCases.first { self.code($0).sameCode(code) } }
    public static func reason(_ code: CodedConcept?) -> OverrideReason? { OverrideReason.allCases.first { self.code($0).sameCode(code) } }
}

/// A reader's verdict on an AI result as a TID 1500 Measurement Report: the model as device
/// observer, the reader as person observer, one measurement group per AI finding (tracking
/// identifier and UID, the finding's image region, the AI's probability and tier) and the verdict
/// as a coded qualitative evaluation — in the group of the finding decided on, or for the whole
/// report when the decision was on the whole study.
public struct VerdictReport: Sendable, Equatable {
    public struct Region: Sendable, Equatable {
        public var sopClassUID: String
        public var sopInstanceUID: String
        /// Column, row pairs in the image's pixels (a closed polyline).
        public var points: [Float]

        public init(sopClassUID: String, sopInstanceUID: String, points: [Float]) {
            self.sopClassUID = sopClassUID
            self.sopInstanceUID = sopInstanceUID
            self.points = points
        }

        /// A box [x0, y0, x1, y1] (pixels, inclusive) as its closed outline.
        public static func box(_ box: [Int], sopClassUID: String, sopInstanceUID: String) -> Region? {
            guard box.count == 4 else { return nil }
            let (x0, y0, x1, y1) = (Float(box[0]), Float(box[1]), Float(box[2] + 1), Float(box[3] + 1))
            return Region(sopClassUID: sopClassUID, sopInstanceUID: sopInstanceUID, points: [x0, y0, x1, y0, x1, y1, x0, y1, x0, y0])
        }
    }

    public struct Group: Sendable, Equatable {
        public var trackingID: String
        public var trackingUID: String
        public var probability: Double?
        public var tier: ConfidenceTier?
        public var region: Region?
        /// The finding's highest heatmap value (a score, not a calibrated probability).
        public var peak: Double?
        /// The verdict, when the decision was on this finding.
        public var verdict: DecisionAction?
        public var reason: OverrideReason?
        public var comment: String?

        public init(trackingID: String, trackingUID: String, probability: Double?, tier: ConfidenceTier?, region: Region?,
                    verdict: DecisionAction? = nil, reason: OverrideReason? = nil, comment: String? = nil) {
            self.trackingID = trackingID
            self.trackingUID = trackingUID
            self.probability = probability
            self.tier = tier
            self.region = region
            self.verdict = verdict
            self.reason = reason
            self.comment = comment
        }
    }

    public var decisionID: String
    public var studyInstanceUID: String
    public var seriesInstanceUID: String
    public var sopInstanceUID: String
    /// DA and TM of the decision (the report's content and creation time).
    public var contentDate: String
    public var contentTime: String
    public var reader: String
    public var model: String
    public var modelVersion: String
    public var deviceUID: String
    public var groups: [Group]
    /// The other system's AI objects the verdict is on (a decision on an external result): named
    /// in the report's evidence.
    public var assessedObjects: [ExternalObjectReference] = []
    /// The verdict on the whole study (nil when it was on a finding).
    public var studyVerdict: DecisionAction?
    public var studyReason: OverrideReason?
    public var studyComment: String?
    public var studyProbability: Double?
    public var studyTier: ConfidenceTier?

    public init(decisionID: String, studyInstanceUID: String, seriesInstanceUID: String, sopInstanceUID: String, contentDate: String,
                contentTime: String, reader: String, model: String, modelVersion: String, deviceUID: String, groups: [Group],
                studyVerdict: DecisionAction?, studyReason: OverrideReason?, studyComment: String?, studyProbability: Double?,
                studyTier: ConfidenceTier?) {
        self.decisionID = decisionID
        self.studyInstanceUID = studyInstanceUID
        self.seriesInstanceUID = seriesInstanceUID
        self.sopInstanceUID = sopInstanceUID
        self.contentDate = contentDate
        self.contentTime = contentTime
        self.reader = reader
        self.model = model
        self.modelVersion = modelVersion
        self.deviceUID = deviceUID
        self.groups = groups
        self.studyVerdict = studyVerdict
        self.studyReason = studyReason
        self.studyComment = studyComment
        self.studyProbability = studyProbability
        self.studyTier = studyTier
    }
}

/// A UID under the 2.25 root (PS3.5 B.2): the decimal form of 128 bits, here taken from a digest
/// of what the object stands for, so the same thing always gets the same UID.
public enum DerivedUID {
    /// `digest` must hold at least 16 bytes; the first 16 are used.
    public static func uid(digest: [UInt8]) -> String {
        precondition(digest.count >= 16)
        // 128-bit big-endian number in four 32-bit words, divided by 10 until zero.
        var words = (0..<4).map { index in digest[index * 4..<index * 4 + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } }
        var digits: [Character] = []
        while words.contains(where: { $0 != 0 }) {
            var remainder: UInt64 = 0
            for index in words.indices {
                let current = remainder << 32 | UInt64(words[index])
                words[index] = UInt32(current / 10)
                remainder = current % 10
            }
            digits.append(Character(String(remainder)))
        }
        return "2.25." + (digits.isEmpty ? "0" : String(digits.reversed()))
    }
}

/// The content tree of any SR, as the DICOM shim reads it: the document's identity and its items
/// in depth-first order with their level.
public struct StructuredReportContent: Sendable, Equatable, Codable {
    public struct Document: Sendable, Equatable, Codable {
        public var sopClassUID: String
        public var sopInstanceUID: String
        public var seriesInstanceUID: String
        public var studyInstanceUID: String
        public var contentDate: String
        public var contentTime: String
        public var seriesDescription: String
        public var manufacturer: String
        public var modality: String
        /// The instances the report names as its evidence (this study's and others').
        public var evidence: [Evidence]?

        public struct Evidence: Sendable, Equatable, Codable {
            public var studyInstanceUID: String
            public var sopInstanceUID: String
            public var sopClassUID: String
        }

        public init(sopClassUID: String, sopInstanceUID: String, seriesInstanceUID: String, studyInstanceUID: String, contentDate: String,
                    contentTime: String, seriesDescription: String, manufacturer: String, modality: String, evidence: [Evidence]? = nil) {
            self.evidence = evidence
            self.sopClassUID = sopClassUID
            self.sopInstanceUID = sopInstanceUID
            self.seriesInstanceUID = seriesInstanceUID
            self.studyInstanceUID = studyInstanceUID
            self.contentDate = contentDate
            self.contentTime = contentTime
            self.seriesDescription = seriesDescription
            self.manufacturer = manufacturer
            self.modality = modality
        }
    }

    public struct Item: Sendable, Equatable, Codable {
        public var level: String
        public var relationship: String
        public var type: String
        public var concept: CodedConcept?
        public var code: CodedConcept?
        public var number: String?
        public var unit: CodedConcept?
        public var text: String?
        public var graphicType: String?
        public var points: String?
        public var sopClassUID: String?
        public var sopInstanceUID: String?
        /// The item's position in the tree ("1.2.3").
        public var position: String?
        /// SCOORD3D: the frame of reference its points are in.
        public var frameOfReferenceUID: String?
        /// IMAGE: referenced frame numbers and segment numbers, space-separated.
        public var frames: String?
        public var segments: String?
        /// A by-reference item: the position of the item it points at (never followed).
        public var target: String?

        public var depth: Int { Int(level) ?? 0 }

        public init(level: String, relationship: String, type: String, concept: CodedConcept? = nil, code: CodedConcept? = nil,
                    number: String? = nil, unit: CodedConcept? = nil, text: String? = nil, graphicType: String? = nil,
                    points: String? = nil, sopClassUID: String? = nil, sopInstanceUID: String? = nil) {
            self.level = level
            self.relationship = relationship
            self.type = type
            self.concept = concept
            self.code = code
            self.number = number
            self.unit = unit
            self.text = text
            self.graphicType = graphicType
            self.points = points
            self.sopClassUID = sopClassUID
            self.sopInstanceUID = sopInstanceUID
        }
    }

    public var document: Document
    public var items: [Item]

    public init(document: Document, items: [Item]) {
        self.document = document
        self.items = items
    }

    public static func decode(_ json: Data) throws -> StructuredReportContent {
        try JSONDecoder().decode(StructuredReportContent.self, from: json)
    }
}

/// What a verdict SR says, read back from its content (Lightbox's own, or any TID 1500 report
/// using the same codes).
public struct VerdictReadBack: Sendable, Equatable {
    public struct Group: Sendable, Equatable {
        public var trackingID: String?
        public var trackingUID: String?
        public var probability: Double?
        public var peak: Double?
        public var tier: ConfidenceTier?
        public var verdict: DecisionAction?
        public var reason: OverrideReason?
        public var comment: String?
        public var regionImage: String?
        public var regionPoints: [Float]
    }

    public var sopInstanceUID: String
    public var studyInstanceUID: String
    public var decisionID: String?
    public var reader: String?
    /// The device observer's UID (one per model and version).
    public var device: String?
    public var model: String?
    public var modelVersion: String?
    public var contentDate: String
    public var groups: [Group]
    public var studyVerdict: DecisionAction?
    public var studyReason: OverrideReason?
    public var studyComment: String?

    /// The verdict and where it applies: ("accept", nil) for the whole study, or on group N.
    public var verdict: (action: DecisionAction, reason: OverrideReason?, finding: Int?)? {
        if let studyVerdict { return (studyVerdict, studyReason, nil) }
        for (index, group) in groups.enumerated() {
            if let action = group.verdict { return (action, group.reason, index) }
        }
        return nil
    }

    /// "accept on finding 1 by alice (model 1.1.0), 2026-12-01".
    public var summary: String {
        var words: String
        if let (action, reason, finding) = verdict {
            words = action == .override ? "override (\(reason?.label ?? "no reason"))" : action.rawValue
            words += finding.map { " on finding \($0 + 1)" } ?? " on the whole study"
        } else {
            words = "no verdict"
        }
        if let reader { words += " by \(reader)" }
        if let model { words += " (\(model)\(modelVersion.map { " \($0)" } ?? ""))" }
        if contentDate.count == 8 {
            words += ", " + contentDate.prefix(4) + "-" + contentDate.dropFirst(4).prefix(2) + "-" + contentDate.suffix(2)
        }
        return words
    }

    /// Reads `content` as a verdict report: nil when it holds no assessment in these codes.
    public init?(_ content: StructuredReportContent) {
        sopInstanceUID = content.document.sopInstanceUID
        studyInstanceUID = content.document.studyInstanceUID
        contentDate = content.document.contentDate
        groups = []
        var groupDepth: Int?
        var found = false
        let items = content.items
        for (index, item) in items.enumerated() {
            let depth = item.depth
            if let open = groupDepth, depth <= open { groupDepth = nil }
            let concept = item.concept
            if item.type == "CONTAINER", concept?.value == "125007", concept?.scheme == "DCM" {
                groups.append(Group(regionPoints: []))
                groupDepth = depth
                continue
            }
            // Observers: the item after "Observer Type" names the person or the device.
            if concept?.value == "121008", concept?.scheme == "DCM" { reader = item.text }      // Person Observer Name
            // The device observer is the model: its name, and its version as the model name.
            if concept?.value == "121013", concept?.scheme == "DCM" { model = item.text }       // Device Observer Name
            if concept?.value == "121015", concept?.scheme == "DCM" { modelVersion = item.text } // Device Observer Model Name
            if concept?.value == "121012", concept?.scheme == "DCM" { device = item.text }      // Device Observer UID
            if VerdictCodes.decisionID.sameCode(concept) { decisionID = item.text }
            let inGroup = groupDepth != nil && !groups.isEmpty
            func update(_ body: (inout Group) -> Void) { if inGroup { body(&groups[groups.count - 1]) } }
            if item.type == "UIDREF", concept?.value == "112040", concept?.scheme == "DCM" { update { $0.trackingUID = item.text } }
            if item.type == "TEXT", concept?.value == "112039", concept?.scheme == "DCM" { update { $0.trackingID = item.text } }
            if VerdictCodes.probability.sameCode(concept), let number = item.number.flatMap(Double.init) { update { $0.probability = number } }
            if VerdictCodes.peak.sameCode(concept), let number = item.number.flatMap(Double.init) { update { $0.peak = number } }
            if VerdictCodes.tier.sameCode(concept) { update { $0.tier = VerdictCodes.tier(item.code) } }
            if VerdictCodes.verdict.sameCode(concept), let action = VerdictCodes.action(item.code) {
                found = true
                if inGroup { update { $0.verdict = action } } else { studyVerdict = action }
            }
            if VerdictCodes.reason.sameCode(concept), let reason = VerdictCodes.reason(item.code) {
                if inGroup { update { $0.reason = reason } } else { studyReason = reason }
            }
            if VerdictCodes.comment.sameCode(concept), let text = item.text {
                if inGroup { update { $0.comment = text } } else { studyComment = text }
            }
            if item.type == "SCOORD", let points = item.points {
                let values = points.split(separator: " ").compactMap { Float(String($0)) }
                let image = index + 1 < items.count && items[index + 1].type == "IMAGE" ? items[index + 1].sopInstanceUID : nil
                update {
                    $0.regionPoints = values
                    $0.regionImage = image
                }
            }
        }
        guard found else { return nil }
    }
}

/// What one push of pending verdict SRs did.
public struct VerdictPushSummary: Sendable, Equatable {
    public var stored: Int
    public var pending: Int
    public var failure: String?

    public init(stored: Int, pending: Int, failure: String?) {
        self.stored = stored
        self.pending = pending
        self.failure = failure
    }
}

/// Verdict SRs and the PACS (port): the ones a study holds, read back, and this installation's
/// pending ones sent to the configured destination.
public protocol VerdictExchange: Sendable {
    /// Where saved decisions are sent (nil: nowhere; reading back still works).
    var pushDestination: String? { get }
    /// The verdict reports among the study's objects (as fetched from its PACS), oldest first.
    func verdicts(in study: Study) throws -> [VerdictReadBack]
    /// Sends every decision whose SR the destination has not confirmed.
    func pushPending() throws -> VerdictPushSummary
}
