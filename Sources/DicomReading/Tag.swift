/// A DICOM attribute tag (group, element).
struct Tag: Sendable, Hashable {
    let group: UInt16
    let element: UInt16

    init(_ group: UInt16, _ element: UInt16) {
        self.group = group
        self.element = element
    }

    static let transferSyntaxUID = Tag(0x0002, 0x0010)
    static let mediaStorageSOPClassUID = Tag(0x0002, 0x0002)
    static let sopClassUID = Tag(0x0008, 0x0016)
    static let sopInstanceUID = Tag(0x0008, 0x0018)
    static let studyDate = Tag(0x0008, 0x0020)
    static let seriesDate = Tag(0x0008, 0x0021)
    static let studyTime = Tag(0x0008, 0x0030)
    static let accessionNumber = Tag(0x0008, 0x0050)
    static let modality = Tag(0x0008, 0x0060)
    static let manufacturer = Tag(0x0008, 0x0070)
    static let studyDescription = Tag(0x0008, 0x1030)
    static let seriesDescription = Tag(0x0008, 0x103E)
    static let manufacturerModelName = Tag(0x0008, 0x1090)
    static let imageType = Tag(0x0008, 0x0008)
    static let patientName = Tag(0x0010, 0x0010)
    static let patientID = Tag(0x0010, 0x0020)
    static let patientBirthDate = Tag(0x0010, 0x0030)
    static let patientSex = Tag(0x0010, 0x0040)
    static let bodyPartExamined = Tag(0x0018, 0x0015)
    static let sliceThickness = Tag(0x0018, 0x0050)
    static let studyInstanceUID = Tag(0x0020, 0x000D)
    static let seriesInstanceUID = Tag(0x0020, 0x000E)
    static let studyID = Tag(0x0020, 0x0010)
    static let seriesNumber = Tag(0x0020, 0x0011)
    static let instanceNumber = Tag(0x0020, 0x0013)
    static let imagePositionPatient = Tag(0x0020, 0x0032)
    static let imageOrientationPatient = Tag(0x0020, 0x0037)
    static let frameOfReferenceUID = Tag(0x0020, 0x0052)
    static let samplesPerPixel = Tag(0x0028, 0x0002)
    static let photometricInterpretation = Tag(0x0028, 0x0004)
    static let planarConfiguration = Tag(0x0028, 0x0006)
    static let numberOfFrames = Tag(0x0028, 0x0008)
    static let rows = Tag(0x0028, 0x0010)
    static let columns = Tag(0x0028, 0x0011)
    static let pixelSpacing = Tag(0x0028, 0x0030)
    static let imagerPixelSpacing = Tag(0x0018, 0x1164)
    static let bitsAllocated = Tag(0x0028, 0x0100)
    static let bitsStored = Tag(0x0028, 0x0101)
    static let highBit = Tag(0x0028, 0x0102)
    static let pixelRepresentation = Tag(0x0028, 0x0103)
    static let windowCenter = Tag(0x0028, 0x1050)
    static let windowWidth = Tag(0x0028, 0x1051)
    static let rescaleIntercept = Tag(0x0028, 0x1052)
    static let rescaleSlope = Tag(0x0028, 0x1053)
    static let rescaleType = Tag(0x0028, 0x1054)
    static let contentSequence = Tag(0x0040, 0xA730)
}
