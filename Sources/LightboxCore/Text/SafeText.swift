import Foundation

/// Makes untrusted text (from DICOM files) inert for a terminal: control characters, escape
/// sequences and bidirectional overrides become U+FFFD, so nothing can move the cursor or recolour.
public enum SafeText {
    /// The text with every control, escape and bidi-override scalar replaced.
    public static func sanitize(_ text: String) -> String {
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let value = scalar.value
            let isControl = value < 0x20 || (value >= 0x7F && value <= 0x9F)
            let isBidi = (0x202A...0x202E).contains(value) || (0x2066...0x2069).contains(value)
                || value == 0x200E || value == 0x200F || value == 0x061C
            result.append(isControl || isBidi ? "\u{FFFD}" : scalar)
        }
        return String(result)
    }

    /// A DICOM person name ("Family^Given^Middle") for display: sanitised, carets as separators.
    public static func personName(_ name: String) -> String {
        let parts = sanitize(name).split(separator: "=").first.map(String.init) ?? ""
        let components = parts.split(separator: "^", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }
        guard let family = components.first else { return "" }
        return components.count > 1 ? "\(family), \(components.dropFirst().joined(separator: " "))" : family
    }
}

/// How patient identifiers are shown: masked unless the user asks otherwise.
public enum IdentifierDisplay: Sendable {
    case masked, shown

    /// The name or ID for display under this setting.
    public func show(_ value: String, personName: Bool = false) -> String {
        switch self {
        case .shown: personName ? SafeText.personName(value) : SafeText.sanitize(value)
        case .masked: value.isEmpty ? "" : "•••••"
        }
    }
}
