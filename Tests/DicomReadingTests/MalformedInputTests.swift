import DicomReading
import Foundation
import LightboxCore
import Testing
import TestSupport

/// Hostile and broken files: a typed error naming the file, never a crash, bounded memory.
struct MalformedInputTests {
    /// Opens and decodes; returns the error, or nil when everything succeeded.
    func failure(of path: String) -> DicomError? {
        do {
            _ = try DicomFile.open(path).decode()
            return nil
        } catch {
            #expect(error.path == path)
            #expect(error.description.hasPrefix(path + ": "))
            return error
        }
    }

    func validFile(_ folder: TemporaryFolder, syntax: TransferSyntax = .explicitLittleEndian, rows: Int = 64) throws -> (String, Data) {
        let path = folder.file("valid.dcm")
        try Fixtures.write(Fixtures.header(rows: rows, columns: rows), to: path, syntax: syntax)
        return (path, try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    @Test func emptyFile() throws {
        let folder = TemporaryFolder("bad")
        _ = FileManager.default.createFile(atPath: folder.file("empty.dcm"), contents: Data())
        #expect(failure(of: folder.file("empty.dcm"))?.reason == .notDicom("empty file"))
    }

    @Test func textFile() throws {
        let folder = TemporaryFolder("bad")
        let text = String(repeating: "This is not DICOM, just a text file.\n", count: 40)
        try text.write(toFile: folder.file("notes.dcm"), atomically: true, encoding: .utf8)
        #expect(failure(of: folder.file("notes.dcm"))?.reason.key == "not DICOM")
    }

    @Test func missingFileAndFolder() throws {
        let folder = TemporaryFolder("bad")
        #expect(failure(of: folder.file("nope.dcm"))?.reason.key == "unreadable")
        #expect(failure(of: folder.path)?.reason.key == "unreadable")
    }

    @Test("truncated at many offsets", arguments: [TransferSyntax.explicitLittleEndian, .jpegLSLossless, .rleLossless, .deflatedExplicitLittleEndian])
    func truncated(syntax: TransferSyntax) throws {
        let folder = TemporaryFolder("trunc")
        let (_, data) = try validFile(folder, syntax: syntax)
        var offsets = Array(stride(from: 0, to: data.count, by: max(1, data.count / 150)))
        offsets += (1...16).map { data.count - $0 }
        let path = folder.file("cut.dcm")
        for offset in Set(offsets).sorted() where offset < data.count {
            try data.prefix(offset).write(to: URL(fileURLWithPath: path))
            #expect(failure(of: path) != nil, "truncated at \(offset) of \(data.count) bytes decoded")
        }
    }

    @Test func pixelDataShorterThanGeometry() throws {
        let folder = TemporaryFolder("geom")
        let header = Fixtures.header(rows: 64, columns: 64)
        try SyntheticInstance(header: header, storedValues: [Int32](repeating: 5, count: 32 * 32))
            .write(to: folder.file("a.dcm"), syntax: .explicitLittleEndian)
        let error = failure(of: folder.file("a.dcm"))
        #expect(error?.reason.key == "geometry mismatch")
        #expect(error?.reason.text.contains("8192") == true)  // 64 × 64 × 2 bytes needed
    }

    @Test func framesNotMatchingPixelData() throws {
        let folder = TemporaryFolder("geom")
        var header = Fixtures.header(rows: 16, columns: 16, bitsAllocated: 8, bitsStored: 8)
        let stored = Fixtures.values(for: header)
        header.numberOfFrames = 10
        try SyntheticInstance(header: header, storedValues: stored).write(to: folder.file("a.dcm"), syntax: .explicitLittleEndian)
        #expect(failure(of: folder.file("a.dcm"))?.reason.key == "geometry mismatch")
    }

    @Test("inconsistent bit depths", arguments: [(16, 20, 19), (16, 12, 16), (16, 12, 9), (8, 9, 8)])
    func badBitDepths(allocated: Int, stored: Int, high: Int) throws {
        let folder = TemporaryFolder("bits")
        var header = Fixtures.header(rows: 8, columns: 8, bitsAllocated: allocated, bitsStored: min(stored, allocated))
        let values = Fixtures.values(for: header)
        header.bitsStored = stored
        header.highBit = high
        let writer = SyntheticInstance(header: header, storedValues: values)
        try writer.write(to: folder.file("a.dcm"), syntax: .explicitLittleEndian)
        #expect(failure(of: folder.file("a.dcm"))?.reason.key == "geometry mismatch")
    }

    @Test("unsupported BitsAllocated", arguments: [4, 12, 24])
    func unsupportedBitsAllocated(bits: Int) throws {
        let folder = TemporaryFolder("bits")
        var header = Fixtures.header(rows: 8, columns: 8, bitsAllocated: 16, bitsStored: 12)
        let values = Fixtures.values(for: header)
        header.bitsAllocated = bits
        header.bitsStored = min(bits, 12)
        header.highBit = header.bitsStored - 1
        try SyntheticInstance(header: header, storedValues: values).write(to: folder.file("a.dcm"), syntax: .explicitLittleEndian)
        #expect(failure(of: folder.file("a.dcm"))?.reason.key == "unsupported pixel format")
    }

    @Test func hugeDimensionsOverflowOrExceedTheLimit() throws {
        let folder = TemporaryFolder("huge")
        for (frames, expected) in [(2_147_483_647, "overflows"), (1000, "limit")] {
            try Fixtures.writeHugeGeometry(frames: frames, to: folder.file("a.dcm"))
            let error = failure(of: folder.file("a.dcm"))
            #expect(error?.reason.key == "geometry mismatch")
            #expect(error?.reason.text.contains(expected) == true)
        }
        // Memory: CLITests/HostileMemoryTests measures it in a process of its own.
    }

    @Test func hugeElementLength() throws {
        let folder = TemporaryFolder("len")
        let (path, data) = try validFile(folder)
        // Explicit VR LE pixel data: E0 7F 10 00 'O' 'W' 00 00 then a 4-byte length.
        let marker = Data([0xE0, 0x7F, 0x10, 0x00, 0x4F, 0x57, 0x00, 0x00])
        let position = try #require(data.range(of: marker)).upperBound
        for length: UInt32 in [0xFFFF_FFF0, 0x7FFF_FFFF, 0x0010_0000] {
            var patched = data
            withUnsafeBytes(of: length.littleEndian) { patched.replaceSubrange(position..<(position + 4), with: $0) }
            try patched.write(to: URL(fileURLWithPath: path))
            #expect(failure(of: path) != nil, "length \(length) accepted")
        }
    }

    @Test func deepNestingDoesNotCrash() throws {
        let folder = TemporaryFolder("nest")
        let header = Fixtures.header(rows: 4, columns: 4)
        let writer = try DicomObjectWriter()
        try writer.set(0x0008, 0x0016, header.sopClassUID)
        try writer.set(0x0008, 0x0018, header.sopInstanceUID)
        try writer.nestSequences(depth: 400)
        try writer.save(to: folder.file("nested.dcm"), syntax: .explicitLittleEndian)
        let error = failure(of: folder.file("nested.dcm"))
        #expect(error?.reason.key == "no pixel data")
    }

    @Test func objectWithoutPixelsIsSkippedByTheScanner() throws {
        let folder = TemporaryFolder("sr")
        let writer = try DicomObjectWriter()
        try writer.set(0x0008, 0x0016, "1.2.840.10008.5.1.4.1.1.88.11")  // Basic Text SR
        try writer.set(0x0008, 0x0018, "2.25.99")
        try writer.set(0x0008, 0x0060, "SR")
        try writer.save(to: folder.file("report.dcm"), syntax: .explicitLittleEndian)
        #expect(failure(of: folder.file("report.dcm"))?.reason == .noPixelData(sopClassUID: "1.2.840.10008.5.1.4.1.1.88.11"))
        #expect(DcmtkInstanceReader().read(path: folder.file("report.dcm")) == .skipped(reason: "no pixel data (1.2.840.10008.5.1.4.1.1.88.11)"))
    }

    @Test func unknownTransferSyntaxIsNamedAsUnsupported() throws {
        let folder = TemporaryFolder("unknown-syntax")
        var (path, data) = try validFile(folder, syntax: .jpegLSLossless)
        // Same length UID: JPEG-LS Lossless (…4.80) becomes a syntax nobody defined (…4.88).
        let old = Data("1.2.840.10008.1.2.4.80".utf8), new = Data("1.2.840.10008.1.2.4.88".utf8)
        let range = try #require(data.range(of: old))
        data.replaceSubrange(range, with: new)
        try data.write(to: URL(fileURLWithPath: path))
        let error = failure(of: path)
        #expect(error?.reason.key == "unsupported transfer syntax")
        #expect(error?.reason.text.contains("1.2.840.10008.1.2.4.88") == true)
    }

    @Test func jpegLSStreamLabelledJpeg2000IsADecodeErrorNamingTheFrame() throws {
        let folder = TemporaryFolder("j2k-label")
        var (path, data) = try validFile(folder, syntax: .jpegLSLossless)
        let old = Data("1.2.840.10008.1.2.4.80".utf8), new = Data("1.2.840.10008.1.2.4.90".utf8)
        let range = try #require(data.range(of: old))
        data.replaceSubrange(range, with: new)
        try data.write(to: URL(fileURLWithPath: path))
        let error = failure(of: path)
        #expect(error?.path == path)
        #expect(error?.reason.key == "decode failed")
        #expect(error?.reason.text.contains("JPEG 2000 frame 1") == true)
    }

    @Test("broken compressed streams", arguments: [TransferSyntax.jpegLSLossless, .rleLossless, .jpegLosslessSV1])
    func brokenStreams(syntax: TransferSyntax) throws {
        let folder = TemporaryFolder("stream")
        let (path, data) = try validFile(folder, syntax: syntax, rows: 128)
        // Destroy the middle of the compressed data (the fragments come last in the file).
        var broken = data
        let start = data.count - (data.count / 3), end = data.count - 64
        var random = SeededRandom(seed: 3)
        for index in start..<end { broken[index] = UInt8(truncatingIfNeeded: random.next()) }
        // The RLE header (segment count and offsets) sits at the start of the fragment.
        try broken.write(to: URL(fileURLWithPath: path))
        // Corrupt entropy-coded data may still decode to wrong values; it must never crash,
        // and when it fails the error is typed and names the file.
        _ = failure(of: path)
        // A stream cut in half must fail.
        try data.prefix(data.count - data.count / 4).write(to: URL(fileURLWithPath: path))
        #expect(failure(of: path) != nil)
    }

}
