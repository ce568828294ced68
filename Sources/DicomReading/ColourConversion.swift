/// Colour stored values to RGB in 0–255.
enum ColourConversion {
    /// Converts YBR_FULL and YBR_FULL_422 (ITU-R BT.601 full range; the shim has already given
    /// every pixel its chroma pair) to RGB in place; RGB and colour spaces a decoder already
    /// converted pass through.
    static func toRGB(_ values: inout [Float], photometric: String) {
        guard photometric == "YBR_FULL" || photometric == "YBR_FULL_422" else { return }
        values.withUnsafeMutableBufferPointer { v in
            var index = 0
            while index + 2 < v.count {
                let y = v[index], cb = v[index + 1] - 128, cr = v[index + 2] - 128
                v[index] = min(max(y + 1.402 * cr, 0), 255)
                v[index + 1] = min(max(y - 0.344136 * cb - 0.714136 * cr, 0), 255)
                v[index + 2] = min(max(y + 1.772 * cb, 0), 255)
                index += 3
            }
        }
    }
}
