import Foundation

/// Another system's TID 1500 Measurement Report, read from an SR's content tree: the device that
/// made it, and each measurement group (TID 1410/1411/1501) with its tracking identifier and UID,
/// finding and site codes, measurements with units, qualitative evaluations and the region it
/// refers to (SCOORD on an image, SCOORD3D in a frame of reference, or a segment of a SEG).
public struct MeasurementReportObject: Sendable, Equatable {
    public struct Measurement: Sendable, Equatable {
        public var concept: CodedConcept?
        public var value: Double
        public var unit: CodedConcept?

        /// The confidence it states: a measurement named Probability (DCM 122157) or, by its
        /// meaning, a probability, likelihood or confidence, unitless or in percent, scaled to
        /// 0…1; nil for any other measurement.
        public var confidence: Double? {
            guard let concept, value.isFinite else { return nil }
            let named = (concept.value == "122157" && concept.scheme == "DCM") ||
                ["probability", "likelihood", "confidence"].contains { concept.meaning.lowercased().contains($0) }
            guard named else { return nil }
            let scaled = unit?.value == "%" ? value / 100 : value
            return (0...1).contains(scaled) ? scaled : nil
        }
    }

    public struct Evaluation: Sendable, Equatable {
        public var concept: CodedConcept?
        public var value: CodedConcept?
        public var text: String?
    }

    public struct Region: Sendable, Equatable {
        /// POINT, MULTIPOINT, POLYLINE, CIRCLE, ELLIPSE (SCOORD) or those and ELLIPSOID, POLYGON (SCOORD3D).
        public var graphicType: String
        /// Column, row pairs (SCOORD, in pixels) or x, y, z triples (SCOORD3D, in mm).
        public var points: [Double]
        public var dimensions: Int
        /// SCOORD: the image it is on.
        public var image: ImageReference?
        /// SCOORD3D: the frame of reference of its points.
        public var frameOfReferenceUID: String?
    }

    public struct Group: Sendable, Equatable {
        public var trackingID: String?
        public var trackingUID: String?
        public var findingType: CodedConcept?
        public var findingSites: [CodedConcept] = []
        public var laterality: CodedConcept?
        public var algorithmName: String?
        public var algorithmVersion: String?
        public var measurements: [Measurement] = []
        public var evaluations: [Evaluation] = []
        public var region: Region?
        /// A segment of a SEG the group is about (Referenced Segment).
        public var segment: (object: String, number: Int)? {
            guard let segmentObject, let segmentNumber else { return nil }
            return (segmentObject, segmentNumber)
        }
        public var segmentObject: String?
        public var segmentNumber: Int?

        /// The confidence the source gives for this finding (its first measurement stating one).
        public var probability: Double? { measurements.lazy.compactMap(\.confidence).first }

        /// "Nodule" / "Nodule A" for display.
        public var title: String {
            trackingID ?? findingType?.meaning ?? "finding"
        }
    }

    public var sopInstanceUID: String
    public var seriesInstanceUID: String
    public var studyInstanceUID: String
    public var contentDate: String
    public var manufacturer: String
    public var deviceUID: String?
    public var deviceName: String?
    public var deviceManufacturer: String?
    public var deviceModel: String?
    public var procedure: CodedConcept?
    public var groups: [Group]
    public var evidence: [StructuredReportContent.Document.Evidence]
    /// What is wrong in the report but did not stop its reading (named, with the reason).
    public var problems: [String]

    /// Coding schemes Lightbox knows (PS3.16 8.1) beside private ones a report declares.
    public static let knownSchemes: Set<String> = [
        "DCM", "SCT", "SRT", "SNM3", "LN", "UCUM", "RADLEX", "NCIt", "NCIT", "FMA", "UMLS", "MDC", "ACR", "BI", "ICD10",
        "I10", "I9C", "ICD9CM", "NEU", "NICIP", "RXNORM", "HGNC", "ISO639_2", "RFC5646", "ISO3166_1", "DCMUID", "ITIS_TSN", "MSH",
        "LBX", "99LBX",
    ]

    /// Reads `content` as a TID 1500 report; nil when it holds no Imaging Measurements container
    /// and no measurement group (not a measurement report).
    public init?(_ content: StructuredReportContent) {
        let document = content.document
        sopInstanceUID = document.sopInstanceUID
        seriesInstanceUID = document.seriesInstanceUID
        studyInstanceUID = document.studyInstanceUID
        contentDate = document.contentDate
        manufacturer = document.manufacturer
        evidence = document.evidence ?? []
        groups = []
        problems = []
        let items = content.items
        var groupDepth: Int?
        var found = false
        var unknownSchemes: Set<String> = []
        func check(_ code: CodedConcept?) {
            guard let code, !code.scheme.isEmpty else { return }
            if !Self.knownSchemes.contains(code.scheme), !code.scheme.hasPrefix("99"), unknownSchemes.insert(code.scheme).inserted {
                problems.append("code \(code.value) \"\(code.meaning)\": unknown coding scheme \(code.scheme)")
            }
        }
        for (index, item) in items.enumerated() {
            let depth = item.depth
            if let open = groupDepth, depth <= open { groupDepth = nil }
            let concept = item.concept
            check(concept)
            check(item.code)
            check(item.unit)
            func isConcept(_ value: String, _ scheme: String) -> Bool { concept?.value == value && concept?.scheme == scheme }
            if item.type == "CONTAINER", isConcept("126010", "DCM") { found = true }
            if item.type == "CONTAINER", isConcept("125007", "DCM") {
                groups.append(Group())
                groupDepth = depth
                found = true
                continue
            }
            if let target = item.target, let position = item.position, position.hasPrefix(target + ".") || position == target {
                problems.append("content item \(position) references its own ancestor \(target) (not followed)")
            }
            // Observer context (outside groups): the device.
            if groupDepth == nil {
                if isConcept("121012", "DCM") { deviceUID = item.text }
                if isConcept("121013", "DCM") { deviceName = item.text }
                if isConcept("121014", "DCM") { deviceManufacturer = item.text }
                if isConcept("121015", "DCM") { deviceModel = item.text }
                if isConcept("121058", "DCM") { procedure = item.code }
                continue
            }
            guard let open = groupDepth, !groups.isEmpty else { continue }
            let last = groups.count - 1
            let direct = depth == open + 1
            switch item.type {
            case "UIDREF" where isConcept("112040", "DCM"): groups[last].trackingUID = item.text
            case "TEXT" where isConcept("112039", "DCM"): groups[last].trackingID = item.text
            case "TEXT" where isConcept("111001", "DCM"): groups[last].algorithmName = item.text
            case "TEXT" where isConcept("111003", "DCM"): groups[last].algorithmVersion = item.text
            case "CODE" where isConcept("121071", "DCM"): groups[last].findingType = item.code
            case "CODE" where isConcept("363698007", "SCT") || isConcept("G-C0E3", "SRT"):
                if let code = item.code { groups[last].findingSites.append(code) }
            case "CODE" where isConcept("272741003", "SCT") || isConcept("G-C171", "SRT"): groups[last].laterality = item.code
            case "NUM" where direct:
                if let number = item.number.flatMap(Double.init) {
                    groups[last].measurements.append(Measurement(concept: concept, value: number, unit: item.unit))
                } else {
                    problems.append("group \(groups.count): measurement \"\(concept?.meaning ?? "?")\" has no number")
                }
            case "CODE" where direct && !isConcept("111050", "DCM"):
                groups[last].evaluations.append(Evaluation(concept: concept, value: item.code, text: nil))
            case "TEXT" where direct && (item.relationship == "CONTAINS"):
                groups[last].evaluations.append(Evaluation(concept: concept, value: nil, text: item.text))
            case "SCOORD":
                let points = Self.numbers(item.points)
                let next = index + 1 < items.count && items[index + 1].type == "IMAGE" && items[index + 1].depth == depth + 1 ? items[index + 1] : nil
                let image = next.flatMap { image in
                    image.sopInstanceUID.map {
                        ImageReference(sopInstanceUID: $0, sopClassUID: image.sopClassUID ?? "", frame: Self.numbers(image.frames).first.map { Int($0) })
                    }
                }
                if points.count < 2 || points.count % 2 != 0 {
                    problems.append("group \(groups.count): its \(item.graphicType ?? "SCOORD") region has \(points.count) coordinate(s)")
                } else {
                    groups[last].region = Region(graphicType: item.graphicType ?? "", points: points, dimensions: 2, image: image,
                                                 frameOfReferenceUID: nil)
                }
            case "SCOORD3D":
                let points = Self.numbers(item.points)
                if points.count < 3 || points.count % 3 != 0 {
                    problems.append("group \(groups.count): its \(item.graphicType ?? "SCOORD3D") region has \(points.count) coordinate(s)")
                } else {
                    groups[last].region = Region(graphicType: item.graphicType ?? "", points: points, dimensions: 3, image: nil,
                                                 frameOfReferenceUID: item.frameOfReferenceUID)
                }
            case "IMAGE" where isConcept("121191", "DCM"):
                groups[last].segmentObject = item.sopInstanceUID
                groups[last].segmentNumber = Self.numbers(item.segments).first.map { Int($0) }
            default: break
            }
        }
        guard found else { return nil }
    }

    /// The report's source: its device observer's name and model (version), else its manufacturer.
    public var sourceName: String {
        groups.lazy.compactMap(\.algorithmName).first ?? deviceName ?? (manufacturer.isEmpty ? "external report" : manufacturer)
    }

    public var sourceVersion: String {
        groups.lazy.compactMap(\.algorithmVersion).first ?? deviceModel ?? ""
    }

    static func numbers(_ text: String?) -> [Double] {
        (text ?? "").split(separator: " ").compactMap { Double(String($0)) }
    }
}
