public import Foundation

/// A data set in the DICOM JSON model (PS3.18 F.2), as QIDO-RS answers and as DCMTK writes a
/// C-FIND match: one decoder for both kinds of PACS.
public struct DicomJSONDataset: Sendable, Equatable {
    /// One attribute: its VR and its values (strings; a person name's alphabetic group; numbers as
    /// text; nested data sets for SQ).
    public struct Element: Sendable, Equatable {
        public var vr: String
        public var values: [String]
        public var items: [DicomJSONDataset]
    }

    /// Attributes by tag (group << 16 | element).
    public var elements: [UInt32: Element]

    public init(elements: [UInt32: Element] = [:]) {
        self.elements = elements
    }

    /// The first value of an attribute, or "" when absent or empty.
    public func string(_ group: UInt16, _ element: UInt16) -> String {
        elements[UInt32(group) << 16 | UInt32(element)]?.values.first ?? ""
    }

    /// Every value of an attribute.
    public func strings(_ group: UInt16, _ element: UInt16) -> [String] {
        elements[UInt32(group) << 16 | UInt32(element)]?.values ?? []
    }

    /// Every value of a decimal attribute (DS: numbers or text), nil when absent or any is not a number.
    public func doubles(_ group: UInt16, _ element: UInt16) -> [Double]? {
        // DCMTK's JSON keeps a multi-valued DS as one backslash-separated string.
        let values = strings(group, element).flatMap { $0.split(separator: "\\").map(String.init) }
        guard !values.isEmpty else { return nil }
        let numbers = values.compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        return numbers.count == values.count && numbers.allSatisfy(\.isFinite) ? numbers : nil
    }

    /// A whole number attribute (IS, US, UL…), nil when absent or not a number.
    public func integer(_ group: UInt16, _ element: UInt16) -> Int? {
        let text = string(group, element).trimmingCharacters(in: .whitespaces)
        return Int(text) ?? Double(text).flatMap { $0.isFinite ? Int(exactly: $0.rounded()) : nil }
    }
}

/// Why a DICOM JSON document could not be read.
public struct DicomJSONError: Error, CustomStringConvertible, Equatable {
    public let reason: String
    public var description: String { reason }
}

public enum DicomJSON {
    /// The data sets of a JSON array (QIDO-RS), or of one object (a C-FIND match). Data that is not
    /// JSON, is cut short, or is not an array of objects keyed by eight hex digits throws.
    public static func datasets(from data: Data) throws -> [DicomJSONDataset] {
        if data.isEmpty { return [] }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) } catch {
            let start = String(decoding: data.prefix(60), as: UTF8.self)
            throw DicomJSONError(reason: "the answer is not JSON (it starts \(SafeText.sanitize(start).debugDescription), \(data.count) bytes)")
        }
        if let array = object as? [Any] {
            return try array.enumerated().map { index, item in
                guard let dictionary = item as? [String: Any] else {
                    throw DicomJSONError(reason: "item \(index + 1) of the answer is not a DICOM JSON object")
                }
                return try dataset(dictionary, depth: 0)
            }
        }
        if let dictionary = object as? [String: Any] { return [try dataset(dictionary, depth: 0)] }
        throw DicomJSONError(reason: "the answer is JSON but neither a list nor an object of DICOM attributes")
    }

    static func dataset(_ dictionary: [String: Any], depth: Int) throws -> DicomJSONDataset {
        guard depth < 32 else { throw DicomJSONError(reason: "sequences nested more than 32 deep") }
        var elements: [UInt32: DicomJSONDataset.Element] = [:]
        for (key, value) in dictionary {
            guard key.count == 8, let tag = UInt32(key, radix: 16) else {
                throw DicomJSONError(reason: "'\(SafeText.sanitize(String(key.prefix(20))))' is not a DICOM tag (eight hex digits)")
            }
            guard let attribute = value as? [String: Any], let vr = attribute["vr"] as? String else {
                throw DicomJSONError(reason: "attribute \(key) has no VR")
            }
            var values: [String] = []
            var items: [DicomJSONDataset] = []
            for item in (attribute["Value"] as? [Any]) ?? [] {
                switch item {
                case let text as String: values.append(text)
                case let number as NSNumber: values.append(number.stringValue)
                case let name as [String: Any] where vr == "PN":
                    values.append((name["Alphabetic"] as? String) ?? "")
                case let nested as [String: Any] where vr == "SQ":
                    items.append(try dataset(nested, depth: depth + 1))
                case is NSNull: values.append("")
                default: break
                }
            }
            elements[tag] = .init(vr: vr, values: values, items: items)
        }
        return DicomJSONDataset(elements: elements)
    }
}

extension DicomJSONDataset {
    /// The worklist row a study-level match describes (QIDO-RS or C-FIND).
    public var studySummary: StudySummary {
        StudySummary(studyInstanceUID: string(0x0020, 0x000D), patientName: string(0x0010, 0x0010),
                     patientID: string(0x0010, 0x0020), accessionNumber: string(0x0008, 0x0050),
                     studyDate: string(0x0008, 0x0020), studyTime: string(0x0008, 0x0030),
                     studyDescription: string(0x0008, 0x1030), bodyPartExamined: string(0x0018, 0x0015),
                     modalities: imagesFirst(strings(0x0008, 0x0061).filter { !$0.isEmpty }),
                     seriesDescriptions: [], seriesCount: integer(0x0020, 0x1206) ?? 0,
                     imageCount: integer(0x0020, 0x1208) ?? 0)
    }

    /// Image modalities before reports, segmentations and presentation states (the first is what
    /// presets and the model's domain go by).
    func imagesFirst(_ modalities: [String]) -> [String] {
        let derived: Set<String> = ["SR", "SEG", "PR"]
        return modalities.filter { !derived.contains($0) } + modalities.filter { derived.contains($0) }
    }

    /// An instance-level match: what a retrieve needs to ask for and check.
    public var instanceMatch: InstanceMatch {
        InstanceMatch(studyInstanceUID: string(0x0020, 0x000D), seriesInstanceUID: string(0x0020, 0x000E),
                      sopInstanceUID: string(0x0008, 0x0018), sopClassUID: string(0x0008, 0x0016),
                      instanceNumber: integer(0x0020, 0x0013), modality: string(0x0008, 0x0060),
                      seriesNumber: integer(0x0020, 0x0011), imagePosition: doubles(0x0020, 0x0032), imageOrientation: doubles(0x0020, 0x0037))
    }
}

/// DICOM's matching rules where a client must apply them itself.
public enum DicomMatching {
    /// Wildcard matching (PS3.4 C.2.2.2.4): `*` any run, `?` one character; case-insensitive, as
    /// PACS match names; an empty pattern matches everything.
    public static func wildcard(_ pattern: String, matches value: String) -> Bool {
        let p = Array(pattern.uppercased()), v = Array(value.uppercased())
        if p.isEmpty { return true }
        var pi = 0, vi = 0, star = -1, mark = 0
        while vi < v.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == v[vi]) {
                pi += 1
                vi += 1
            } else if pi < p.count && p[pi] == "*" {
                star = pi
                mark = vi
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                vi = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
