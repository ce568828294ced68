/// What Lightbox reads from one DICOM instance's header: identity, acquisition facts and pixel geometry.
/// Text fields are raw DICOM text; sanitise before display (see `SafeText`).
public struct ImageHeader: Codable, Sendable, Equatable {
    public var sopClassUID: String = ""
    public var sopInstanceUID: String = ""
    public var studyInstanceUID: String = ""
    public var seriesInstanceUID: String = ""
    public var patientName: String = ""
    public var patientID: String = ""
    public var patientBirthDate: String = ""
    public var patientSex: String = ""
    public var accessionNumber: String = ""
    public var studyDate: String = ""
    public var studyTime: String = ""
    public var seriesDate: String = ""
    public var studyDescription: String = ""
    public var seriesDescription: String = ""
    public var modality: String = ""
    public var bodyPartExamined: String = ""
    public var manufacturer: String = ""
    public var manufacturerModelName: String = ""
    /// Scanner and protocol facts for monitoring (optional, so headers indexed before still decode).
    public var softwareVersions: String?
    public var stationName: String?
    public var convolutionKernel: String?
    /// Peak kilovoltage (kV) and exposure (mAs), where the modality records them.
    public var kvp: Double?
    public var exposure: Double?
    public var seriesNumber: Int?
    public var instanceNumber: Int?
    public var rows: Int = 0
    public var columns: Int = 0
    public var numberOfFrames: Int = 1
    public var samplesPerPixel: Int = 1
    public var photometricInterpretation: String = ""
    public var bitsAllocated: Int = 0
    public var bitsStored: Int = 0
    public var highBit: Int = 0
    public var pixelRepresentation: Int = 0
    public var planarConfiguration: Int = 0
    /// Row spacing then column spacing in millimetres (DICOM order), when known.
    public var pixelSpacing: [Double]?
    public var sliceThickness: Double?
    public var imagePositionPatient: [Double]?
    public var imageOrientationPatient: [Double]?
    /// The Frame of Reference UID: images sharing it share one patient coordinate system (a
    /// segmentation is placed by plane positions in it when it names no source image).
    public var frameOfReferenceUID: String?
    public var rescaleSlope: Double = 1
    public var rescaleIntercept: Double = 0
    public var rescaleType: String = ""
    public var windowCenters: [Double] = []
    public var windowWidths: [Double] = []
    public var transferSyntaxUID: String = ""

    /// An empty header, filled field by field by a reader.
    public init() {}

    /// The stored window (first value pair), when the file declares a usable one.
    public var storedWindow: Window? {
        guard let center = windowCenters.first, let width = windowWidths.first, width >= 1 else { return nil }
        return Window(center: center, width: width)
    }

    /// Width over height of one pixel in physical space (1 when spacing is unknown).
    public var pixelAspectRatio: Double {
        guard let spacing = pixelSpacing, spacing.count == 2, spacing[0] > 0, spacing[1] > 0 else { return 1 }
        return spacing[1] / spacing[0]
    }

    /// True for MONOCHROME1 (minimum value shown white).
    public var isInvertedMonochrome: Bool { photometricInterpretation == "MONOCHROME1" }
}
