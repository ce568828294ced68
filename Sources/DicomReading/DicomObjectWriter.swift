public import LightboxCore
internal import CDicomShim

/// Builds a DICOM object attribute by attribute and saves it through DCMTK in any transfer
/// syntax DCMTK encodes here. Used by the sample generator, the benchmarks and the tests.
public final class DicomObjectWriter {
    private let handle: OpaquePointer

    /// An empty object.
    public init() throws(DicomError) {
        var error = lbx_error()
        var handle: OpaquePointer?
        guard lbx_dicom_create(&handle, &error) == LBX_OK, let handle else {
            throw DicomError(path: "(new object)", reason: .writeFailed(ShimStatus.text(error.message)))
        }
        self.handle = handle
    }

    deinit { lbx_dicom_close(handle) }

    /// Sets attribute (group, element) from text; numeric VRs parse it ("512", "0.5\\0.5").
    public func set(_ group: UInt16, _ element: UInt16, _ value: String) throws(DicomError) {
        var error = lbx_error()
        guard lbx_dicom_put_string(handle, group, element, value, &error) == LBX_OK else {
            throw DicomError(path: "(new object)", reason: .writeFailed(
                "(\(hex(group)),\(hex(element))): \(ShimStatus.text(error.message))"))
        }
    }

    /// Sets a value at a path inside sequences, such as "(0010,1002)[0].(0010,0020)" (items
    /// and sequences are created as needed).
    public func set(path: String, _ value: String) throws(DicomError) {
        var error = lbx_error()
        guard lbx_dicom_put_path(handle, path, value, &error) == LBX_OK else {
            throw DicomError(path: "(new object)", reason: .writeFailed(ShimStatus.text(error.message)))
        }
    }

    /// Sets 16-bit native pixel data.
    public func setPixels(_ words: [UInt16]) throws(DicomError) {
        try putPixels(words, bits: 16)
    }

    /// Sets 8-bit native pixel data.
    public func setPixels(_ bytes: [UInt8]) throws(DicomError) {
        try putPixels(bytes, bits: 8)
    }

    private func putPixels<T>(_ values: [T], bits: UInt32) throws(DicomError) {
        var error = lbx_error()
        let status = values.withUnsafeBytes { raw in
            lbx_dicom_put_pixels(handle, raw.baseAddress, raw.count, bits, &error)
        }
        guard status == LBX_OK else {
            throw DicomError(path: "(new object)", reason: .writeFailed(ShimStatus.text(error.message)))
        }
    }

    /// Nests `depth` sequence items inside each other (ContentSequence), for robustness tests.
    public func nestSequences(depth: Int) throws(DicomError) {
        var error = lbx_error()
        guard lbx_dicom_put_nested_sequence(handle, 0x0040, 0xA730, UInt32(depth), &error) == LBX_OK else {
            throw DicomError(path: "(new object)", reason: .writeFailed(ShimStatus.text(error.message)))
        }
    }

    /// Saves a Part 10 file; `quality` applies to lossy JPEG only.
    public func save(to path: String, syntax: TransferSyntax, quality: Int = 90) throws(DicomError) {
        var error = lbx_error()
        let status = lbx_dicom_save(handle, path, syntax.rawValue, Int32(quality), &error)
        guard status == LBX_OK else { throw DicomError(path: path, reason: ShimStatus.reason(status, error)) }
    }

    private func hex(_ value: UInt16) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }
}

/// A whole synthetic image instance: identity, geometry and stored pixel values, written in one call.
public struct SyntheticInstance: Sendable {
    public var header: ImageHeader
    /// Stored values, frame after frame, samples interleaved; 8- or 16-bit per `header.bitsAllocated`.
    public var storedValues: [Int32]
    /// Free-form attributes set after the standard ones: (group, element, text).
    public var extraAttributes: [(UInt16, UInt16, String)] = []
    /// Writes the General Study and Patient modules' Type 2 attributes the header leaves empty
    /// (Patient's Name, ID, Birth Date and Sex, Referring Physician's Name, Study ID, Accession
    /// Number) as present and empty, as the
    /// image IODs require (the samples; other writers leave them out).
    public var completeType2 = false

    /// An instance from a filled header and its stored values.
    public init(header: ImageHeader, storedValues: [Int32]) {
        self.header = header
        self.storedValues = storedValues
    }

    /// Writes the instance as a Part 10 file.
    public func write(to path: String, syntax: TransferSyntax, quality: Int = 90) throws(DicomError) {
        let writer = try DicomObjectWriter()
        let h = header
        func put(_ tag: Tag, _ value: String) throws(DicomError) {
            if !value.isEmpty { try writer.set(tag.group, tag.element, value) }
        }
        func decimals(_ values: [Double]) -> String { values.map { formatDecimal($0) }.joined(separator: "\\") }
        try put(.sopClassUID, h.sopClassUID)
        try put(.sopInstanceUID, h.sopInstanceUID)
        try put(.studyInstanceUID, h.studyInstanceUID)
        try put(.seriesInstanceUID, h.seriesInstanceUID)
        try put(.patientName, h.patientName)
        try put(.patientID, h.patientID)
        // Type 2 in every image IOD: present, empty when unknown.
        if completeType2 {
            try writer.set(Tag.patientBirthDate.group, Tag.patientBirthDate.element, h.patientBirthDate)
            try writer.set(Tag.referringPhysicianName.group, Tag.referringPhysicianName.element, "")
            try writer.set(Tag.studyID.group, Tag.studyID.element, "")
            for (tag, value) in [(Tag.patientName, h.patientName), (Tag.patientID, h.patientID), (Tag.patientSex, h.patientSex),
                                 (Tag.accessionNumber, h.accessionNumber), (Tag.studyDate, h.studyDate), (Tag.studyTime, h.studyTime)]
                where value.isEmpty {
                try writer.set(tag.group, tag.element, "")
            }
        } else {
            try put(.patientBirthDate, h.patientBirthDate)
        }
        try put(.patientSex, h.patientSex)
        try put(.accessionNumber, h.accessionNumber)
        try put(.studyDate, h.studyDate)
        try put(.seriesDate, h.seriesDate)
        try put(.studyTime, h.studyTime)
        try put(.studyDescription, h.studyDescription)
        try put(.seriesDescription, h.seriesDescription)
        try put(.modality, h.modality)
        try put(.bodyPartExamined, h.bodyPartExamined)
        try put(.manufacturer, h.manufacturer)
        try put(.manufacturerModelName, h.manufacturerModelName)
        try put(.softwareVersions, h.softwareVersions ?? "")
        try put(.stationName, h.stationName ?? "")
        try put(.convolutionKernel, h.convolutionKernel ?? "")
        if let kvp = h.kvp { try put(.kvp, formatDecimal(kvp)) }
        if let exposure = h.exposure { try put(.exposure, String(Int(exposure.rounded()))) }
        try put(.seriesNumber, h.seriesNumber.map(String.init) ?? "")
        try put(.instanceNumber, h.instanceNumber.map(String.init) ?? "")
        try put(.rows, String(h.rows))
        try put(.columns, String(h.columns))
        if h.numberOfFrames > 1 { try put(.numberOfFrames, String(h.numberOfFrames)) }
        try put(.samplesPerPixel, String(h.samplesPerPixel))
        try put(.photometricInterpretation, h.photometricInterpretation)
        if h.samplesPerPixel > 1 { try put(.planarConfiguration, String(h.planarConfiguration)) }
        try put(.bitsAllocated, String(h.bitsAllocated))
        try put(.bitsStored, String(h.bitsStored))
        try put(.highBit, String(h.highBit))
        try put(.pixelRepresentation, String(h.pixelRepresentation))
        if let spacing = h.pixelSpacing { try put(.pixelSpacing, decimals(spacing)) }
        if let thickness = h.sliceThickness { try put(.sliceThickness, formatDecimal(thickness)) }
        if let position = h.imagePositionPatient { try put(.imagePositionPatient, decimals(position)) }
        if let orientation = h.imageOrientationPatient { try put(.imageOrientationPatient, decimals(orientation)) }
        try put(.frameOfReferenceUID, h.frameOfReferenceUID ?? "")
        if h.rescaleSlope != 1 || h.rescaleIntercept != 0 || h.modality == "CT" {
            try put(.rescaleIntercept, formatDecimal(h.rescaleIntercept))
            try put(.rescaleSlope, formatDecimal(h.rescaleSlope))
            try put(.rescaleType, h.rescaleType)
        }
        if !h.windowCenters.isEmpty {
            try put(.windowCenter, decimals(h.windowCenters))
            try put(.windowWidth, decimals(h.windowWidths))
        }
        for (group, element, value) in extraAttributes { try writer.set(group, element, value) }
        let mask = h.bitsStored >= 32 ? Int64(UInt32.max) : (Int64(1) << Int64(h.bitsStored)) - 1
        if h.bitsAllocated == 8 {
            try writer.setPixels(storedValues.map { UInt8(truncatingIfNeeded: Int64($0) & mask) })
        } else {
            try writer.setPixels(storedValues.map { UInt16(truncatingIfNeeded: (Int64($0) & mask) << Int64(h.highBit + 1 - h.bitsStored)) })
        }
        try writer.save(to: path, syntax: syntax, quality: quality)
    }
}

/// A decimal string (DS) of at most 16 characters.
func formatDecimal(_ value: Double) -> String {
    if value == value.rounded(), abs(value) < 1e12 { return String(Int64(value)) }
    var text = String(value)
    if text.count > 16 { text = String(text.prefix(16)) }
    return text
}
