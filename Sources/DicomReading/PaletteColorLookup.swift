import LightboxCore

/// The three lookup tables of a PALETTE COLOR image (PS3.3 C.7.6.3.1.5–6), read once per decode,
/// mapping stored values to RGB in 0–255.
struct PaletteColorLookup {
    /// The first stored value the tables map; lower values take the first entry.
    let firstMapped: Int
    /// Red, green and blue entries, already scaled to 0–255.
    let red: [Float], green: [Float], blue: [Float]

    /// Reads descriptors and data; a table that is missing, segmented or shorter than its
    /// descriptor says is an error naming the file.
    static func read(from file: DicomFile) throws(DicomError) -> PaletteColorLookup {
        func failure(_ text: String) -> DicomError { DicomError(path: file.path, reason: .unsupportedPixelFormat("PALETTE COLOR: \(text)")) }
        if file.words(.segmentedRedPaletteData) != nil, file.words(.redPaletteData) == nil {
            throw failure("segmented palette tables are not supported")
        }
        var firstMapped: Int?
        var tables: [[Float]] = []
        let names = ["red", "green", "blue"]
        for (index, (descriptorTag, dataTag)) in [(Tag.redPaletteDescriptor, Tag.redPaletteData),
                                                 (.greenPaletteDescriptor, .greenPaletteData),
                                                 (.bluePaletteDescriptor, .bluePaletteData)].enumerated() {
            let descriptor = file.numbers(descriptorTag, limit: 3)
            guard descriptor.count == 3 else { throw failure("\(names[index]) lookup table descriptor missing") }
            let declared = Int(descriptor[0])
            let entries = declared == 0 ? 65_536 : declared
            let bits = Int(descriptor[2])
            guard bits == 8 || bits == 16 else { throw failure("\(bits) bits per \(names[index]) entry") }
            guard let words = file.words(dataTag) else { throw failure("\(names[index]) lookup table data missing") }
            // The first mapped value is US or SS as the pixels are; DCMTK reads it unsigned.
            var first = Int(descriptor[1])
            if first > 32_767 && file.integer(.pixelRepresentation) == 1 { first -= 65_536 }
            firstMapped = firstMapped ?? first
            let table: [Float]
            if bits == 16 {
                guard words.count >= entries else { throw failure("\(names[index]) table has \(words.count) of \(entries) entries") }
                table = words.prefix(entries).map { Float($0) / 257 }
            } else if words.count >= entries {
                // One 8-bit entry a 16-bit word.
                table = words.prefix(entries).map { Float($0 > 255 ? $0 >> 8 : $0) }
            } else {
                // Two 8-bit entries packed in each word, low byte first.
                let bytes = words.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
                guard bytes.count >= entries else { throw failure("\(names[index]) table has \(bytes.count) of \(entries) entries") }
                table = bytes.prefix(entries).map { Float($0) }
            }
            tables.append(table)
        }
        return PaletteColorLookup(firstMapped: firstMapped ?? 0, red: tables[0], green: tables[1], blue: tables[2])
    }

    /// Interleaved RGB for `stored` indices; values outside the table take its nearest end.
    func rgb(_ stored: [Float]) -> [Float] {
        var output = [Float](repeating: 0, count: stored.count * 3)
        let last = [red.count, green.count, blue.count].min()! - 1
        output.withUnsafeMutableBufferPointer { out in
            for index in stored.indices {
                let entry = min(max(Int(stored[index]) - firstMapped, 0), last)
                out[index * 3] = red[entry]
                out[index * 3 + 1] = green[entry]
                out[index * 3 + 2] = blue[entry]
            }
        }
        return output
    }
}
