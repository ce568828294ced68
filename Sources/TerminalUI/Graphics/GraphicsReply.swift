/// What a terminal answered to the start-up graphics query (Kitty's query, XTSMGRAPHICS for
/// the sixel colour registers, the cell size in pixels, then Primary Device Attributes — which
/// every terminal answers, so its arrival ends the wait). Garbage and partial answers are
/// ignored, never trusted.
public struct GraphicsReply: Sendable, Equatable {
    /// The bytes the app sends, in the order the answers are expected.
    public static let query = KittyGraphics.query + "\u{1B}[?1;1;0S" + "\u{1B}[16t" + "\u{1B}[c"

    public var kitty = false
    public var sixel = false
    /// Sixel colour registers (XTSMGRAPHICS), when the terminal says.
    public var colourRegisters: Int?
    public var cellPixels: CellPixels?
    /// True once the Device Attributes answer arrived (nothing more will come).
    public var complete = false

    public init() {}

    /// Reads every answer found in `bytes`.
    public static func parse(_ bytes: [UInt8]) -> GraphicsReply {
        var reply = GraphicsReply()
        var i = 0
        while i < bytes.count {
            guard bytes[i] == 0x1B, i + 1 < bytes.count else { i += 1; continue }
            if bytes[i + 1] == 0x5F {  // APC: ESC _ G ... ESC \
                guard let end = stringTerminator(in: bytes, from: i + 2) else { break }
                let body = String(decoding: bytes[(i + 2)..<end], as: UTF8.self)
                if body.hasPrefix("Gi=31;") && body.hasSuffix("OK") { reply.kitty = true }
                i = end + 2
                continue
            }
            guard bytes[i + 1] == 0x5B else { i += 1; continue }  // CSI
            var j = i + 2
            while j < bytes.count, (0x30...0x3F).contains(bytes[j]) { j += 1 }
            guard j < bytes.count else { break }
            let parameters = String(decoding: bytes[(i + 2)..<j], as: UTF8.self)
            let final = bytes[j]
            switch final {
            case 0x63 where parameters.hasPrefix("?"):  // c: Device Attributes
                let values = parameters.dropFirst().split(separator: ";").compactMap { Int($0) }
                if values.dropFirst().contains(4) { reply.sixel = true }
                reply.complete = true
            case 0x53 where parameters.hasPrefix("?"):  // S: XTSMGRAPHICS ? 1 ; status ; value
                let values = parameters.dropFirst().split(separator: ";").compactMap { Int($0) }
                if values.count == 3, values[0] == 1, values[1] == 0, values[2] > 0 { reply.colourRegisters = values[2] }
            case 0x74:  // t: 6 ; height ; width (cell size in pixels)
                let values = parameters.split(separator: ";").compactMap { Int($0) }
                if values.count == 3, values[0] == 6, (4...512).contains(values[1]), (2...512).contains(values[2]) {
                    reply.cellPixels = CellPixels(width: values[2], height: values[1])
                }
            default: break
            }
            i = j + 1
        }
        return reply
    }

    /// Where the next String Terminator (ESC \\) starts.
    static func stringTerminator(in bytes: [UInt8], from start: Int) -> Int? {
        var i = start
        while i + 1 < bytes.count {
            if bytes[i] == 0x1B && bytes[i + 1] == 0x5C { return i }
            i += 1
        }
        return nil
    }

    /// The protocol to use for a choice: `cells` never; `kitty`/`sixel` as asked (even unanswered,
    /// the user knows their terminal); `auto` what the terminal answered (Kitty first).
    public func protocolFor(_ choice: GraphicsChoice) -> GraphicsProtocol? {
        switch choice {
        case .cells: nil
        case .kitty: .kitty
        case .sixel: .sixel
        case .auto: kitty ? .kitty : (sixel ? .sixel : nil)
        }
    }
}
