/// A 256-entry colour lookup table built from evenly spaced stops.
public struct Colormap: Sendable, Equatable {
    public let name: String
    /// 256 × 3 bytes.
    public let table: [UInt8]

    /// A colormap interpolated linearly between `stops` (0xRRGGBB, evenly spaced).
    public init(name: String, stops: [UInt32]) {
        precondition(stops.count >= 2)
        self.name = name
        var table: [UInt8] = []
        table.reserveCapacity(768)
        for index in 0..<256 {
            let position = Double(index) / 255 * Double(stops.count - 1)
            let lower = min(Int(position), stops.count - 2)
            let t = position - Double(lower)
            for shift in [16, 8, 0] {
                let a = Double((stops[lower] >> UInt32(shift)) & 0xFF), b = Double((stops[lower + 1] >> UInt32(shift)) & 0xFF)
                table.append(UInt8((a + (b - a) * t).rounded()))
            }
        }
        self.table = table
    }

    /// The colour for a value 0…1.
    @inlinable
    public func colour(_ value: Float) -> (UInt8, UInt8, UInt8) {
        let index = Int(min(max(value, 0), 1) * 255) * 3
        return (table[index], table[index + 1], table[index + 2])
    }

    /// Perceptually uniform maps (matplotlib's, sampled at 9 stops).
    public static let inferno = Colormap(name: "inferno", stops: [0x000004, 0x1F0C48, 0x550F6D, 0x88226A, 0xBA3655, 0xE35933, 0xF98C0A, 0xF9C932, 0xFCFFA4])
    public static let viridis = Colormap(name: "viridis", stops: [0x440154, 0x472D7B, 0x3B528B, 0x2C728E, 0x21918C, 0x28AE80, 0x5EC962, 0xADDC30, 0xFDE725])
    public static let magma = Colormap(name: "magma", stops: [0x000004, 0x1C1044, 0x4F127B, 0x812581, 0xB5367A, 0xE55064, 0xFB8761, 0xFEC287, 0xFCFDBF])
    /// Colour-vision-deficiency friendly (cividis).
    public static let cividis = Colormap(name: "cividis", stops: [0x00224E, 0x123570, 0x3B496C, 0x575D6D, 0x707173, 0x8A8779, 0xA69D75, 0xC4B56C, 0xFEE838])

    /// The named map, nil when unknown.
    public static func named(_ name: String) -> Colormap? {
        [inferno, viridis, magma, cividis].first { $0.name == name.lowercased() }
    }
}
