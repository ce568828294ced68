/// Colour stored values to RGB in 0–255.
enum ColourConversion {
    /// Copies RGB, converts YBR_FULL (ITU-R BT.601 full range) to RGB; other colour spaces pass through.
    static func toRGB(_ stored: [Double], photometric: String, into output: inout [Float]) {
        guard photometric == "YBR_FULL" else {
            for index in 0..<stored.count { output[index] = Float(stored[index]) }
            return
        }
        var index = 0
        while index + 2 < stored.count {
            let y = stored[index], cb = stored[index + 1] - 128, cr = stored[index + 2] - 128
            output[index] = Float(min(max(y + 1.402 * cr, 0), 255))
            output[index + 1] = Float(min(max(y - 0.344136 * cb - 0.714136 * cr, 0), 255))
            output[index + 2] = Float(min(max(y + 1.772 * cb, 0), 255))
            index += 3
        }
    }
}
