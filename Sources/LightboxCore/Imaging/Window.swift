import Foundation

/// A window (VOI) in modality values: centre and width, Hounsfield units for CT.
public struct Window: Sendable, Equatable, Codable {
    /// Centre of the window.
    public var center: Double
    /// Width of the window (at least 1).
    public var width: Double

    /// A window; widths below 1 are raised to 1.
    public init(center: Double, width: Double) {
        self.center = center
        self.width = max(width, 1)
    }

    /// Maps a modality value to 0...1 with DICOM's linear VOI function (PS3.3 C.11.2.1.2.1).
    @inlinable
    public func normalized(_ value: Float) -> Float {
        let c = Float(center) - 0.5
        let w = Float(width) - 1
        if w <= 0 { return value > c ? 1 : 0 }
        let t = (value - c) / w + 0.5
        return t < 0 ? 0 : (t > 1 ? 1 : t)
    }

    /// Parses "C,W" (for example "-600,1500").
    public init?(parsing text: String) {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, let center = Double(parts[0]), let width = Double(parts[1]), width > 0 else { return nil }
        self.init(center: center, width: width)
    }
}
