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

    /// The instant, nil when unset or not the ledger's form (YYYY-MM-DDTHH:MM:SS[.fff]Z).
    public var date: Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.last == UInt8(ascii: "Z"), bytes[4] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T") else { return nil }
        func number(_ from: Int, _ count: Int) -> Int? {
            var value = 0
            for byte in bytes[from..<(from + count)] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
              let minute = number(14, 2), let second = number(17, 2), (1...12).contains(month), (1...31).contains(day) else { return nil }
        var fraction = 0.0
        if bytes.count > 21, bytes[19] == UInt8(ascii: "."), let digits = number(20, bytes.count - 21) {
            fraction = Double(digits) / pow(10, Double(bytes.count - 21))
        }
        // Days from 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's civil-date formula).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return Date(timeIntervalSince1970: Double(days * 86_400 + hour * 3_600 + minute * 60 + second) + fraction)
    }

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
