public import Foundation

/// A UTC instant as the ledger writes it: ISO 8601 with milliseconds and `Z`
/// ("2026-11-23T19:40:00.123Z"). Encoded as that text, so hashes over decisions are what they
/// were when the time was a plain string; fixed width and UTC, so text order is time order.
public struct Timestamp: Sendable, Hashable, Comparable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The ISO 8601 text; empty for a decision not stamped yet.
    public let text: String

    /// The instant `date`, in UTC with milliseconds.
    public init(_ date: Date) {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        text = formatter.string(from: date)
    }

    /// A time as stored (read back from the ledger, or written in a test).
    public init(text: String) { self.text = text }

    public init(stringLiteral value: String) { text = value }

    /// No time yet (a decision `update` made, before the effect stamps it).
    public static let unset = Timestamp(text: "")

    /// True once a time is set.
    public var isSet: Bool { !text.isEmpty }

    /// The UTC day, YYYY-MM-DD.
    public var day: String { String(text.prefix(10)) }

    /// True on or after the start of UTC day `day` (YYYY-MM-DD).
    public func isOnOrAfter(day: String) -> Bool { text >= day }

    public var description: String { text }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.text < b.text }

    public init(from decoder: any Decoder) throws { text = try decoder.singleValueContainer().decode(String.self) }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}
