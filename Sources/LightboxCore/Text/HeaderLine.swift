/// One attribute of a DICOM object as the header view shows it: where it sits (depth inside
/// sequences), its tag, VR, name and value as text. Values are untrusted: `text` sanitises them.
public struct HeaderLine: Sendable, Equatable {
    public var depth: Int
    public var group: UInt16
    public var element: UInt16
    public var vr: String
    public var name: String
    public var value: String

    public init(depth: Int, group: UInt16, element: UInt16, vr: String, name: String, value: String) {
        self.depth = depth
        self.group = group
        self.element = element
        self.vr = vr
        self.name = name
        self.value = value
    }

    /// "(0010,0010)".
    public var tag: String { "(" + hex(group) + "," + hex(element) + ")" }

    /// True when the value identifies the patient, a person or the visit (`IdentifyingAttributes`).
    public var identifies: Bool { IdentifyingAttributes.identifies(group: group, element: element, vr: vr) }

    /// The line for the screen: indented by depth, the value masked (its length too) when it
    /// identifies someone and identifiers are not shown, control characters made inert.
    public func text(showIdentifiers: Bool) -> String {
        let shown = identifies && !showIdentifiers && !value.isEmpty ? "•••••" : SafeText.sanitize(value)
        let indent = String(repeating: "  ", count: max(0, min(depth, 32)))
        return "\(indent)\(tag) \(vr) [\(shown)]  \(SafeText.sanitize(name))"
    }

    private func hex(_ value: UInt16) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}

/// Which attributes identify a patient, another person or the visit, decided here once for every
/// view and export: every person name (VR PN, wherever it sits, inside sequences too), the
/// whole Patient group (0010,xxxx) and the attributes of DICOM PS3.15's Basic Application Level
/// Confidentiality Profile that name people, places or visits.
public enum IdentifyingAttributes {
    /// (group << 16 | element) of identifying attributes outside group 0010.
    static let tags: Set<UInt32> = [
        0x0008_0050, // Accession Number
        0x0008_0080, 0x0008_0081, 0x0008_0082, // Institution Name, Address, Code Sequence
        0x0008_0090, 0x0008_0092, 0x0008_0094, 0x0008_0096, // Referring Physician and contacts
        0x0008_1010, // Station Name
        0x0008_1040, // Institutional Department Name
        0x0008_1048, 0x0008_1049, 0x0008_1050, 0x0008_1052, 0x0008_1060, 0x0008_1062, 0x0008_1070, 0x0008_1072, // physicians, operators
        0x0020_0010, // Study ID
        0x0032_1032, 0x0032_1033, // Requesting Physician, Service
        0x0038_0010, 0x0038_0300, 0x0038_0400, // Admission ID, Current Patient Location, Patient's Institution Residence
        0x0040_0006, 0x0040_0244, 0x0040_0253, 0x0040_A123, // Scheduled Performing Physician, procedure start, step ID, Person Name
        0x4008_0114, // Physician Approving Interpretation
    ]

    /// True for an attribute whose value identifies someone.
    public static func identifies(group: UInt16, element: UInt16, vr: String) -> Bool {
        vr == "PN" || group == 0x0010 || tags.contains(UInt32(group) << 16 | UInt32(element))
    }
}
