public import LightboxCore
internal import CDicomShim

/// One DICOM file opened through DCMTK. Headers are read at once; pixel data stays on disk until
/// `decode` asks for it. Not thread-safe: use one instance per thread.
public final class DicomFile {
    /// The file's path, used in every error.
    public let path: String
    private let handle: OpaquePointer

    private init(path: String, handle: OpaquePointer) {
        self.path = path
        self.handle = handle
    }

    deinit { lbx_dicom_close(handle) }

    /// Opens and parses a file; a file that is not DICOM, or is malformed, throws a `DicomError`.
    public static func open(_ path: String) throws(DicomError) -> DicomFile {
        var error = lbx_error()
        var handle: OpaquePointer?
        let status = lbx_dicom_open(path, &handle, &error)
        guard status == LBX_OK, let handle else {
            throw DicomError(path: path, reason: ShimStatus.reason(status, error))
        }
        return DicomFile(path: path, handle: handle)
    }

    // MARK: Attributes

    /// The attribute as text (values joined by backslashes), trimmed of DICOM padding; "" when absent.
    func string(_ tag: Tag) -> String {
        var length = 0
        var buffer = [CChar](repeating: 0, count: 256)
        guard lbx_dicom_get_string(handle, tag.group, tag.element, &buffer, buffer.count, &length) == LBX_OK else { return "" }
        if length >= buffer.count {
            buffer = [CChar](repeating: 0, count: min(length + 1, 1 << 20))
            guard lbx_dicom_get_string(handle, tag.group, tag.element, &buffer, buffer.count, &length) == LBX_OK else { return "" }
        }
        let text = buffer.withUnsafeBufferPointer { pointer in
            String(decoding: UnsafeRawBufferPointer(pointer).prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return text.trimmedPadding
    }

    /// Value `index` of a numeric attribute, nil when absent or not a number.
    func number(_ tag: Tag, index: Int = 0) -> Double? {
        var value = 0.0
        guard lbx_dicom_get_number(handle, tag.group, tag.element, UInt32(index), &value) == LBX_OK, value.isFinite else {
            return nil
        }
        return value
    }

    /// All values of a numeric attribute (at most `limit`).
    func numbers(_ tag: Tag, limit: Int = 16) -> [Double] {
        var values: [Double] = []
        while values.count < limit, let value = number(tag, index: values.count) { values.append(value) }
        return values
    }

    /// An integer attribute within Int32 range, nil otherwise.
    func integer(_ tag: Tag) -> Int? {
        guard let value = number(tag), value.rounded() == value, abs(value) <= Double(Int32.max) else { return nil }
        return Int(value)
    }

    /// The UIDs that name an object and its study: what a retrieved file is checked against.
    public var identity: (study: String, series: String, sopInstance: String, sopClass: String) {
        (string(Tag(0x0020, 0x000D)), string(Tag(0x0020, 0x000E)), string(Tag(0x0008, 0x0018)), string(Tag(0x0008, 0x0016)))
    }

    /// The header summary Lightbox works with.
    public func header() -> ImageHeader {
        var header = ImageHeader()
        header.sopClassUID = string(.sopClassUID)
        if header.sopClassUID.isEmpty { header.sopClassUID = string(.mediaStorageSOPClassUID) }
        header.sopInstanceUID = string(.sopInstanceUID)
        header.studyInstanceUID = string(.studyInstanceUID)
        header.seriesInstanceUID = string(.seriesInstanceUID)
        header.patientName = string(.patientName)
        header.patientID = string(.patientID)
        header.patientBirthDate = string(.patientBirthDate)
        header.patientSex = string(.patientSex)
        header.accessionNumber = string(.accessionNumber)
        header.studyDate = string(.studyDate)
        header.studyTime = string(.studyTime)
        header.seriesDate = string(.seriesDate)
        header.studyDescription = string(.studyDescription)
        header.seriesDescription = string(.seriesDescription)
        header.modality = string(.modality)
        header.bodyPartExamined = string(.bodyPartExamined)
        header.manufacturer = string(.manufacturer)
        header.manufacturerModelName = string(.manufacturerModelName)
        func present(_ tag: Tag) -> String? { let text = string(tag); return text.isEmpty ? nil : text }
        header.softwareVersions = present(.softwareVersions)
        header.stationName = present(.stationName)
        header.convolutionKernel = present(.convolutionKernel)
        header.kvp = number(.kvp)
        header.exposure = number(.exposure)
        header.seriesNumber = integer(.seriesNumber)
        header.instanceNumber = integer(.instanceNumber)
        header.rows = integer(.rows) ?? 0
        header.columns = integer(.columns) ?? 0
        header.numberOfFrames = integer(.numberOfFrames) ?? 1
        header.samplesPerPixel = integer(.samplesPerPixel) ?? 1
        header.photometricInterpretation = string(.photometricInterpretation)
        header.bitsAllocated = integer(.bitsAllocated) ?? 0
        header.bitsStored = integer(.bitsStored) ?? header.bitsAllocated
        header.highBit = integer(.highBit) ?? max(header.bitsStored - 1, 0)
        header.pixelRepresentation = integer(.pixelRepresentation) ?? 0
        header.planarConfiguration = integer(.planarConfiguration) ?? 0
        let spacing = numbers(.pixelSpacing, limit: 2)
        let imagerSpacing = numbers(.imagerPixelSpacing, limit: 2)
        if spacing.count == 2, spacing.allSatisfy({ $0 > 0 }) {
            header.pixelSpacing = spacing
        } else if imagerSpacing.count == 2, imagerSpacing.allSatisfy({ $0 > 0 }) {
            header.pixelSpacing = imagerSpacing
        }
        header.sliceThickness = number(.sliceThickness)
        let position = numbers(.imagePositionPatient, limit: 3)
        header.imagePositionPatient = position.count == 3 ? position : nil
        let orientation = numbers(.imageOrientationPatient, limit: 6)
        header.imageOrientationPatient = orientation.count == 6 ? orientation : nil
        header.frameOfReferenceUID = present(.frameOfReferenceUID)
        if let slope = number(.rescaleSlope), slope != 0 { header.rescaleSlope = slope }
        header.rescaleIntercept = number(.rescaleIntercept) ?? 0
        header.rescaleType = string(.rescaleType)
        header.windowCenters = numbers(.windowCenter, limit: 4)
        header.windowWidths = numbers(.windowWidth, limit: 4)
        header.transferSyntaxUID = string(.transferSyntaxUID)
        return header
    }

    /// Every attribute as a structured line (meta header first, sequences walked, binary values
    /// as byte counts), for the header view: masking works on tags and VRs, not on dump text.
    public func headerLines() -> [HeaderLine] {
        var length = 0
        guard lbx_dicom_header_lines(handle, nil, 0, &length) == LBX_OK else { return [] }
        var buffer = [CChar](repeating: 0, count: min(length + 1, 16 << 20))
        guard lbx_dicom_header_lines(handle, &buffer, buffer.count, &length) == LBX_OK else { return [] }
        let text = buffer.withUnsafeBufferPointer { pointer in
            String(decoding: UnsafeRawBufferPointer(pointer).prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: "\t", maxSplits: 5, omittingEmptySubsequences: false)
            guard fields.count == 6, let depth = Int(fields[0]), let group = UInt16(fields[1], radix: 16),
                  let element = UInt16(fields[2], radix: 16) else { return nil }
            return HeaderLine(depth: depth, group: group, element: element, vr: String(fields[3]), name: String(fields[4]),
                              value: String(fields[5]).trimmedPadding)
        }
    }

    /// What the pixel data looks like without decoding it.
    public func pixelInfo() throws(DicomError) -> PixelInfo {
        var info = lbx_pixel_info()
        var error = lbx_error()
        let status = lbx_dicom_pixel_info(handle, &info, &error)
        guard status == LBX_OK else { throw DicomError(path: path, reason: ShimStatus.reason(status, error)) }
        return PixelInfo(
            hasPixelData: info.has_pixel_data != 0,
            encapsulated: info.encapsulated != 0,
            valueLength: info.value_length,
            fragmentCount: Int(info.fragment_count),
            decoderAvailable: info.decoder_available != 0,
            transferSyntaxUID: ShimStatus.text(info.transfer_syntax_uid),
            transferSyntaxName: ShimStatus.text(info.transfer_syntax_name)
        )
    }

    // MARK: Pixels

    /// Stored pixel values (before rescale, palette and colour conversion) of frames `range`,
    /// after the geometry checks. Used by `decode` and by reference comparisons.
    public func storedValues(frames range: Range<Int>? = nil) throws(DicomError) -> (values: [Float], geometry: PixelGeometry) {
        let decoded = try storedValues(frames: range, header: header(), info: pixelInfo())
        return (decoded.values, decoded.geometry)
    }

    private func storedValues(frames range: Range<Int>?, header: ImageHeader, info: PixelInfo) throws(DicomError)
        -> (values: [Float], geometry: PixelGeometry, colorModel: String) {
        let geometry = try PixelGeometry.validated(header: header, pixels: info, path: path)
        let frames = range ?? 0..<geometry.frames
        guard !frames.isEmpty, frames.lowerBound >= 0, frames.upperBound <= geometry.frames else {
            throw DicomError(path: path, reason: .geometry("frame range \(frames) outside 0..<\(geometry.frames)"))
        }
        let count = geometry.samplesPerFrame * frames.count
        var values = [Float](repeating: 0, count: count)
        var shimGeometry = lbx_geometry(
            rows: UInt32(geometry.rows), columns: UInt32(geometry.columns),
            samples_per_pixel: UInt32(geometry.samplesPerPixel), bits_allocated: UInt32(geometry.bitsAllocated),
            bits_stored: UInt32(geometry.bitsStored), high_bit: UInt32(geometry.highBit),
            pixel_representation: UInt32(geometry.pixelRepresentation),
            planar_configuration: UInt32(geometry.planarConfiguration), frames: UInt32(geometry.frames))
        var error = lbx_error()
        var colorModel = [CChar](repeating: 0, count: 32)
        let status = values.withUnsafeMutableBufferPointer { buffer in
            colorModel.withUnsafeMutableBufferPointer { model in
                lbx_dicom_decode(handle, &shimGeometry, UInt32(frames.lowerBound), UInt32(frames.count),
                                 buffer.baseAddress, buffer.count, model.baseAddress, model.count, &error)
            }
        }
        guard status == LBX_OK else { throw DicomError(path: path, reason: ShimStatus.reason(status, error)) }
        let model = colorModel.withUnsafeBufferPointer { pointer in
            String(decoding: UnsafeRawBufferPointer(pointer).prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return (values, geometry, model.trimmedPadding)
    }

    /// Decodes frames to modality values: rescale applied in floating point, YBR converted to RGB,
    /// PALETTE COLOR looked up to RGB. MONOCHROME1 values stay as stored (after rescale): windows
    /// apply to them and the grey scale is inverted when shown (VOI, then presentation LUT).
    public func decode(frames range: Range<Int>? = nil) throws(DicomError) -> DecodedImage {
        var header = header()
        let photometric = header.photometricInterpretation
        let supported = ["MONOCHROME1", "MONOCHROME2", "PALETTE COLOR", "RGB", "YBR_FULL", "YBR_FULL_422", "YBR_RCT", "YBR_ICT", ""]
        guard supported.contains(photometric) else {
            throw DicomError(path: path, reason: .unsupportedPixelFormat("photometric interpretation \(photometric)"))
        }
        let info = try pixelInfo()
        let palette = photometric == "PALETTE COLOR" ? try PaletteColorLookup.read(from: self) : nil
        let (stored, geometry, colorModel) = try storedValues(frames: range, header: header, info: info)
        let frameCount = stored.count / geometry.samplesPerFrame
        if let palette {
            guard geometry.samplesPerPixel == 1 else {
                throw DicomError(path: path, reason: .unsupportedPixelFormat("PALETTE COLOR with \(geometry.samplesPerPixel) samples per pixel"))
            }
            header.photometricInterpretation = "RGB"
            header.samplesPerPixel = 3
            return DecodedImage(width: geometry.columns, height: geometry.rows, channels: 3, frames: frameCount,
                                values: palette.rgb(stored), header: header)
        }
        // Decoders may have converted colour: the decoder says what the values now mean.
        if !colorModel.isEmpty { header.photometricInterpretation = colorModel }
        var values = stored
        if geometry.samplesPerPixel == 3 {
            ColourConversion.toRGB(&values, photometric: header.photometricInterpretation)
            if header.photometricInterpretation.hasPrefix("YBR") { header.photometricInterpretation = "RGB" }
        } else if header.rescaleSlope == 1, header.rescaleIntercept == header.rescaleIntercept.rounded(), abs(header.rescaleIntercept) < Double(1 << 23) {
            // CT's usual slope 1 with a whole intercept: integer-valued floats below 2^24 add
            // exactly in Float, so no Double round trip is needed (and the loop vectorises).
            let intercept = Float(header.rescaleIntercept)
            if intercept != 0 {
                values.withUnsafeMutableBufferPointer { output in
                    for index in output.indices { output[index] += intercept }
                }
            }
        } else {
            let slope = header.rescaleSlope, intercept = header.rescaleIntercept
            values.withUnsafeMutableBufferPointer { output in
                for index in output.indices {
                    output[index] = Float(Double(output[index]) * slope + intercept)
                }
            }
        }
        return DecodedImage(width: geometry.columns, height: geometry.rows, channels: geometry.samplesPerPixel,
                            frames: frameCount, values: values, header: header)
    }

    /// The OW values of an attribute (palette tables); nil when absent.
    func words(_ tag: Tag) -> [UInt16]? {
        var count = 0
        guard lbx_dicom_get_words(handle, tag.group, tag.element, nil, 0, &count) == LBX_OK, count > 0 else { return nil }
        var values = [UInt16](repeating: 0, count: count)
        let status = values.withUnsafeMutableBufferPointer { buffer in
            lbx_dicom_get_words(handle, tag.group, tag.element, buffer.baseAddress, buffer.count, &count)
        }
        return status == LBX_OK ? values : nil
    }

    /// The decoding libraries linked in, with their versions ("DCMTK 3.6.7, OpenJPEG 2.5.0").
    public static var libraryVersions: String { String(cString: lbx_dicom_library_versions()) }
}

/// What the pixel data looks like before decoding.
public struct PixelInfo: Sendable, Equatable {
    /// True when (7FE0,0010) is present.
    public var hasPixelData: Bool
    /// True for compressed (fragment) encoding.
    public var encapsulated: Bool
    /// Byte length of native pixel data.
    public var valueLength: UInt64
    /// Number of fragments of encapsulated data.
    public var fragmentCount: Int
    /// True when a decoder for the transfer syntax is registered.
    public var decoderAvailable: Bool
    /// The transfer syntax UID.
    public var transferSyntaxUID: String
    /// DCMTK's name of the transfer syntax.
    public var transferSyntaxName: String
}

enum ShimStatus {
    static func text<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }

    static func reason(_ status: lbx_status, _ error: lbx_error) -> DicomError.Reason {
        let message = text(error.message)
        switch status {
        case LBX_ERR_IO: return .unreadable(message)
        case LBX_ERR_NOT_DICOM: return .notDicom(message)
        case LBX_ERR_PARSE: return .malformed(message)
        case LBX_ERR_NO_PIXELS: return .noPixelData(sopClassUID: "")
        case LBX_ERR_UNSUPPORTED_SYNTAX: return .decodeFailed(message)
        case LBX_ERR_GEOMETRY: return .geometry(message)
        case LBX_ERR_WRITE: return .writeFailed(message)
        case LBX_ERR_MEMORY: return .decodeFailed("out of memory")
        default: return .decodeFailed(message)
        }
    }
}

extension String {
    /// DICOM pads values with spaces (and UIDs with NUL); drop both ends' padding.
    var trimmedPadding: String {
        var scalars = Substring(self)
        while let last = scalars.last, last == " " || last == "\0" { scalars = scalars.dropLast() }
        while let first = scalars.first, first == " " { scalars = scalars.dropFirst() }
        return String(scalars)
    }
}
