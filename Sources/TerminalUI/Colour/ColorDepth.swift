/// How many colours the terminal shows; decided once at start from terminfo and the environment.
public enum ColorDepth: String, Sendable, CaseIterable {
    /// 24-bit colour (a `*-direct` terminfo entry).
    case direct
    /// The xterm 256-colour palette.
    case palette256
    /// The 16 ANSI colours.
    case palette16
    /// The 8 basic colours.
    case palette8
    /// No colour (NO_COLOR, monochrome terminals): text attributes only; images as ASCII density.
    case monochrome
}

/// Maps 24-bit colours to what a terminal of a given depth can show.
public enum ColorQuantizer {
    /// The 16 ANSI colours as xterm draws them.
    static let ansi16: [(UInt8, UInt8, UInt8)] = [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    ]
    static let cubeLevels: [Int] = [0, 95, 135, 175, 215, 255]

    /// The xterm-256 index nearest to an RGB colour, choosing between the 6×6×6 cube and the
    /// 24-step grey ramp by squared distance.
    public static func palette256(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> Int {
        func cubeIndex(_ v: UInt8) -> Int {
            let value = Int(v)
            if value < 48 { return 0 }
            if value < 115 { return 1 }
            return min(5, (value - 35) / 40)
        }
        let ri = cubeIndex(r), gi = cubeIndex(g), bi = cubeIndex(b)
        let cube = (cubeLevels[ri], cubeLevels[gi], cubeLevels[bi])
        let average = (Int(r) + Int(g) + Int(b)) / 3
        let greyIndex = min(23, max(0, (average - 3) / 10))
        let grey = 8 + greyIndex * 10
        func distance(_ c: (Int, Int, Int)) -> Int {
            let dr = c.0 - Int(r), dg = c.1 - Int(g), db = c.2 - Int(b)
            return dr * dr + dg * dg + db * db
        }
        return distance((grey, grey, grey)) < distance(cube) ? 232 + greyIndex : 16 + 36 * ri + 6 * gi + bi
    }

    /// The nearest of the first `count` ANSI colours (16 or 8).
    public static func ansi(_ r: UInt8, _ g: UInt8, _ b: UInt8, count: Int) -> Int {
        var best = 0, bestDistance = Int.max
        for index in 0..<min(count, 16) {
            let c = ansi16[index]
            let dr = Int(c.0) - Int(r), dg = Int(c.1) - Int(g), db = Int(c.2) - Int(b)
            let d = dr * dr + dg * dg + db * db
            if d < bestDistance { bestDistance = d; best = index }
        }
        return best
    }

    /// The terminal colour number for `color` at `depth` (-1 for the default colour);
    /// for `.direct`, 0xRRGGBB.
    public static func index(_ color: TerminalColor, depth: ColorDepth) -> Int {
        guard case .rgb(let r, let g, let b) = color else { return -1 }
        switch depth {
        case .direct: return Int(r) << 16 | Int(g) << 8 | Int(b)
        case .palette256: return palette256(r, g, b)
        case .palette16: return ansi(r, g, b, count: 16)
        case .palette8: return ansi(r, g, b, count: 8)
        case .monochrome: return -1
        }
    }

    /// Characters from light to dense, for images on terminals without colour.
    public static let densityRamp: [Character] = Array(" .:-=+*#%@")

    /// The density character for a luminance 0…255.
    public static func densityCharacter(luminance: Int) -> Character {
        let index = min(densityRamp.count - 1, max(0, luminance * densityRamp.count / 256))
        return densityRamp[index]
    }
}
