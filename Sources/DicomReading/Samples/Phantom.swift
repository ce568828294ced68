import Foundation

/// Deterministic DICOM UIDs under the 2.25 (UUID-derived) root, from a name.
enum SampleUID {
    static func make(_ name: String) -> String {
        var first: UInt64 = 0xCBF2_9CE4_8422_2325, second: UInt64 = 0x8422_2325_CBF2_9CE4
        for byte in name.utf8 {
            first = (first ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            second = (second ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 &+ 7
        }
        let high = (first % 9_000_000_000_000_000_000) + 1_000_000_000_000_000_000
        let low = String(second % 10_000_000_000_000_000_000)
        return "2.25.\(high)\(String(repeating: "0", count: 19 - low.count))\(low)"
    }
}

/// A lesion planted in a phantom, written to the samples' ground truth.
public struct PlantedLesion: Codable, Sendable, Equatable {
    /// What it is ("nodule", "lesion").
    public var kind: String
    /// First and last slice (0-based, display order) or frame it appears on.
    public var firstSlice: Int
    public var lastSlice: Int
    /// Centre in pixels (column, row) on its middle slice.
    public var centerX: Double
    public var centerY: Double
    /// Radius in millimetres.
    public var radiusMillimetres: Double
    /// The centre's ImagePositionPatient z (mm), for volumes; nil for single images.
    public var positionZ: Double?
}

/// Ellipse membership: (x-cx)²/rx² + (y-cy)²/ry² ≤ 1.
@inline(__always)
func inEllipse(_ x: Double, _ y: Double, _ cx: Double, _ cy: Double, _ rx: Double, _ ry: Double) -> Bool {
    let dx = (x - cx) / rx, dy = (y - cy) / ry
    return dx * dx + dy * dy <= 1
}
