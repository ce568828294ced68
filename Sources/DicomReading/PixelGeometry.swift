public import LightboxCore

/// Pixel geometry checked in Swift with overflow-checked 64-bit arithmetic before DCMTK decodes:
/// Rows × Columns × Samples × BitsAllocated × Frames (in bytes) must fit the pixel data, and the bit
/// depths must agree with each other.
public struct PixelGeometry: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    public let samplesPerPixel: Int
    public let bitsAllocated: Int
    public let bitsStored: Int
    public let highBit: Int
    public let pixelRepresentation: Int
    public let planarConfiguration: Int
    public let frames: Int

    /// Values in one frame (rows × columns × samples).
    public var samplesPerFrame: Int { rows * columns * samplesPerPixel }

    /// The largest image Lightbox will decode: 2 GiB of stored pixel data.
    public static let maximumPixelBytes: Int64 = 1 << 31

    /// Checks `header` against `pixels`; throws a `.geometry`, `.missingAttribute`,
    /// `.unsupportedPixelFormat`, `.noPixelData` or `.unsupportedTransferSyntax` error naming `path`.
    public static func validated(header: ImageHeader, pixels: PixelInfo, path: String) throws(DicomError) -> PixelGeometry {
        func failure(_ reason: DicomError.Reason) -> DicomError { DicomError(path: path, reason: reason) }
        guard pixels.hasPixelData else { throw failure(.noPixelData(sopClassUID: header.sopClassUID)) }
        guard header.rows > 0 else { throw failure(header.rows == 0 ? .missingAttribute("Rows (0028,0010)") : .geometry("Rows is \(header.rows)")) }
        guard header.columns > 0 else {
            throw failure(header.columns == 0 ? .missingAttribute("Columns (0028,0011)") : .geometry("Columns is \(header.columns)"))
        }
        guard header.bitsAllocated != 0 else { throw failure(.missingAttribute("BitsAllocated (0028,0100)")) }
        guard [1, 8, 16, 32].contains(header.bitsAllocated) else {
            throw failure(.unsupportedPixelFormat("BitsAllocated \(header.bitsAllocated)"))
        }
        guard header.bitsStored >= 1, header.bitsStored <= header.bitsAllocated else {
            throw failure(.geometry("BitsStored \(header.bitsStored) with BitsAllocated \(header.bitsAllocated)"))
        }
        guard header.highBit < header.bitsAllocated, header.highBit + 1 >= header.bitsStored else {
            throw failure(.geometry("HighBit \(header.highBit) with BitsStored \(header.bitsStored), BitsAllocated \(header.bitsAllocated)"))
        }
        guard header.samplesPerPixel == 1 || header.samplesPerPixel == 3 else {
            throw failure(.unsupportedPixelFormat("SamplesPerPixel \(header.samplesPerPixel)"))
        }
        guard header.pixelRepresentation == 0 || header.pixelRepresentation == 1 else {
            throw failure(.geometry("PixelRepresentation \(header.pixelRepresentation)"))
        }
        guard header.numberOfFrames >= 1 else { throw failure(.geometry("NumberOfFrames \(header.numberOfFrames)")) }

        // Uncompressed YBR_FULL_422 stores two luminance samples and one pair of chroma samples
        // for every two pixels: two bytes a pixel, not three.
        let subsampledChroma = !pixels.encapsulated && header.photometricInterpretation == "YBR_FULL_422"
        if subsampledChroma {
            guard header.bitsAllocated == 8, header.samplesPerPixel == 3, header.columns % 2 == 0 else {
                throw failure(.unsupportedPixelFormat("uncompressed YBR_FULL_422 needs 8 bits, 3 samples and an even number of columns"))
            }
        }
        // 1-bit data (segmentations, overlays) is packed eight pixels a byte across frames.
        var expected = Int64(header.rows)
        let bitsPerPixel = Int64(header.samplesPerPixel) * Int64(header.bitsAllocated) * (subsampledChroma ? 2 : 3) / 3
        for factor in [Int64(header.columns), bitsPerPixel, Int64(header.numberOfFrames)] {
            let (product, overflow) = expected.multipliedReportingOverflow(by: factor)
            guard !overflow else { throw failure(.geometry("Rows × Columns × Samples × Bytes × Frames overflows 64 bits")) }
            expected = product
        }
        expected = (expected + 7) / 8
        guard expected <= maximumPixelBytes else {
            throw failure(.geometry("declares \(expected) bytes of pixels, above the \(maximumPixelBytes)-byte limit"))
        }
        if pixels.encapsulated {
            guard pixels.decoderAvailable else {
                throw failure(.unsupportedTransferSyntax(uid: pixels.transferSyntaxUID, name: pixels.transferSyntaxName))
            }
            guard pixels.fragmentCount >= 1 else { throw failure(.geometry("compressed pixel data has no fragments")) }
            guard pixels.fragmentCount >= header.numberOfFrames else {
                throw failure(.geometry("\(header.numberOfFrames) frames declared, \(pixels.fragmentCount) fragments present"))
            }
        } else {
            guard UInt64(expected) <= pixels.valueLength else {
                throw failure(.geometry(
                    "pixel data holds \(pixels.valueLength) bytes; Rows \(header.rows) × Columns \(header.columns) × Samples \(header.samplesPerPixel) × \(header.bitsAllocated / 8) bytes × \(header.numberOfFrames) frames needs \(expected)"))
            }
        }
        return PixelGeometry(
            rows: header.rows, columns: header.columns, samplesPerPixel: header.samplesPerPixel,
            bitsAllocated: header.bitsAllocated, bitsStored: header.bitsStored, highBit: header.highBit,
            pixelRepresentation: header.pixelRepresentation, planarConfiguration: header.planarConfiguration,
            frames: header.numberOfFrames)
    }
}
