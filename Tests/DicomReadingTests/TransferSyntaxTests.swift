import DicomReading
import Foundation
import LightboxCore
import Testing
import TestSupport

/// Every transfer syntax DCMTK decodes here, written by DCMTK and read back.
struct TransferSyntaxTests {
    static let lossless: [TransferSyntax] = [
        .implicitLittleEndian, .explicitLittleEndian, .explicitBigEndian, .deflatedExplicitLittleEndian,
        .rleLossless, .jpegLosslessSV1, .jpegLSLossless,
    ]

    struct Depth: Sendable, CustomStringConvertible {
        let bitsAllocated: Int, bitsStored: Int, signed: Bool
        var description: String { "\(bitsAllocated)/\(bitsStored)\(signed ? " signed" : "")" }
    }

    static let depths = [
        Depth(bitsAllocated: 16, bitsStored: 12, signed: false),
        Depth(bitsAllocated: 16, bitsStored: 16, signed: true),
        Depth(bitsAllocated: 16, bitsStored: 16, signed: false),
        Depth(bitsAllocated: 8, bitsStored: 8, signed: false),
    ]

    @Test("lossless syntaxes are bit-exact", arguments: lossless, depths)
    func losslessRoundTrip(syntax: TransferSyntax, depth: Depth) throws {
        let folder = TemporaryFolder("ts")
        let header = Fixtures.header(rows: 37, columns: 29, bitsAllocated: depth.bitsAllocated,
                                     bitsStored: depth.bitsStored, signed: depth.signed, frames: 2)
        let path = folder.file("image.dcm")
        let written = try Fixtures.write(header, to: path, syntax: syntax)
        let file = try DicomFile.open(path)
        #expect(try file.pixelInfo().transferSyntaxUID == syntax.rawValue)
        let decoded = try file.storedValues()
        #expect(decoded.values == written.map(Float.init))
    }

    @Test("JPEG-LS near-lossless stays within its NEAR bound of 2")
    func jpegLSNearLossless() throws {
        let folder = TemporaryFolder("ts")
        let header = Fixtures.header(rows: 64, columns: 64, bitsAllocated: 16, bitsStored: 12)
        let written = try Fixtures.write(header, to: folder.file("a.dcm"), syntax: .jpegLSNearLossless)
        let decoded = try DicomFile.open(folder.file("a.dcm")).storedValues().values
        let worst = zip(decoded, written).map { abs(Double($0) - Double($1)) }.max() ?? .infinity
        #expect(worst <= 2)
        #expect(worst > 0, "a near-lossless codec that changed nothing was not exercised")
    }

    @Test("lossy JPEG stays within a stated tolerance", arguments: [
        (TransferSyntax.jpegBaseline, 8), (TransferSyntax.jpegExtended, 12),
    ])
    func lossyJPEG(syntax: TransferSyntax, bits: Int) throws {
        let folder = TemporaryFolder("ts")
        let header = Fixtures.header(rows: 64, columns: 64, bitsAllocated: bits == 8 ? 8 : 16, bitsStored: bits)
        let written = try Fixtures.write(header, to: folder.file("a.dcm"), syntax: syntax, quality: 90)
        let decoded = try DicomFile.open(folder.file("a.dcm")).storedValues().values
        let range = Double((1 << bits) - 1)
        let errors = zip(decoded, written).map { abs(Double($0) - Double($1)) / range }
        let mean = errors.reduce(0, +) / Double(errors.count)
        // Stated tolerance: mean absolute error under 1.5% of the range, worst pixel under 15%.
        #expect(mean < 0.015)
        #expect((errors.max() ?? 1) < 0.15)
    }

    @Test("RGB, planar and interleaved, is kept as RGB", arguments: [0, 1], [TransferSyntax.explicitLittleEndian, .rleLossless])
    func colour(planar: Int, syntax: TransferSyntax) throws {
        let folder = TemporaryFolder("rgb")
        var header = Fixtures.header(rows: 8, columns: 6, bitsAllocated: 8, bitsStored: 8)
        header.samplesPerPixel = 3
        header.photometricInterpretation = "RGB"
        header.planarConfiguration = planar
        // Pixel (x, y) has colour (x*40, y*30, 200); written in the requested layout.
        var interleaved: [Int32] = []
        for y in 0..<8 { for x in 0..<6 { interleaved += [Int32(x * 40), Int32(y * 30), 200] } }
        var stored = interleaved
        if planar == 1 {
            stored = (0..<3).flatMap { channel in stride(from: channel, to: interleaved.count, by: 3).map { interleaved[$0] } }
        }
        try Fixtures.write(header, to: folder.file("rgb.dcm"), syntax: syntax, values: stored)
        let image = try DicomFile.open(folder.file("rgb.dcm")).decode()
        #expect(image.channels == 3)
        #expect(image.values == interleaved.map(Float.init))
    }
}
