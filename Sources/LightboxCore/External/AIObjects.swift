import Foundation

/// Other systems' AI results as DICOM objects beside the images (IHE AI Results): segmentations,
/// parametric maps and TID 1500 measurement reports, as read (DicomReading fills these through
/// DCMTK's dcmseg, dcmpmap, dcmfg and dcmsr).

/// Who made an object and what it is.
public struct AIObjectIdentity: Sendable, Equatable, Codable {
    public var sopClassUID: String
    public var sopInstanceUID: String
    public var seriesInstanceUID: String
    public var studyInstanceUID: String
    public var frameOfReferenceUID: String
    public var modality: String
    public var seriesDescription: String
    public var manufacturer: String
    public var modelName: String
    public var softwareVersions: String
    public var contentLabel: String
    public var contentDescription: String
    public var contentDate: String

    public init(sopClassUID: String = "", sopInstanceUID: String = "", seriesInstanceUID: String = "", studyInstanceUID: String = "",
                frameOfReferenceUID: String = "", modality: String = "", seriesDescription: String = "", manufacturer: String = "",
                modelName: String = "", softwareVersions: String = "", contentLabel: String = "", contentDescription: String = "",
                contentDate: String = "") {
        self.sopClassUID = sopClassUID
        self.sopInstanceUID = sopInstanceUID
        self.seriesInstanceUID = seriesInstanceUID
        self.studyInstanceUID = studyInstanceUID
        self.frameOfReferenceUID = frameOfReferenceUID
        self.modality = modality
        self.seriesDescription = seriesDescription
        self.manufacturer = manufacturer
        self.modelName = modelName
        self.softwareVersions = softwareVersions
        self.contentLabel = contentLabel
        self.contentDescription = contentDescription
        self.contentDate = contentDate
    }
}

/// A reference to one image (and frame, from 1, of a multi-frame one).
public struct ImageReference: Sendable, Equatable, Hashable, Codable {
    public var sopInstanceUID: String
    public var sopClassUID: String
    public var frame: Int?

    public init(sopInstanceUID: String, sopClassUID: String = "", frame: Int? = nil) {
        self.sopInstanceUID = sopInstanceUID
        self.sopClassUID = sopClassUID
        self.frame = frame
    }
}

/// One frame of a SEG or map: the segment it belongs to, the images it was derived from, and
/// where its plane lies in the patient (Image Position (Patient)).
public struct AIObjectFrame: Sendable, Equatable, Codable {
    public var segment: Int?
    public var sources: [ImageReference]
    public var position: [Double]?

    public init(segment: Int? = nil, sources: [ImageReference] = [], position: [Double]? = nil) {
        self.segment = segment
        self.sources = sources
        self.position = position
    }
}

/// The shared plane geometry of a multi-frame object.
public struct AIObjectGeometry: Sendable, Equatable, Codable {
    public var rows: Int
    public var columns: Int
    /// Row spacing, column spacing (mm).
    public var pixelSpacing: [Double]?
    public var orientation: [Double]?

    public init(rows: Int, columns: Int, pixelSpacing: [Double]? = nil, orientation: [Double]? = nil) {
        self.rows = rows
        self.columns = columns
        self.pixelSpacing = pixelSpacing
        self.orientation = orientation
    }
}

/// A DICOM Segmentation.
public struct SegmentationObject: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case binary
        /// PROBABILITY or OCCUPANCY, stored 0…maximum.
        case fractional(probability: Bool, maximum: Int)

        public var label: String {
            switch self {
            case .binary: "binary"
            case .fractional(let probability, let maximum): "fractional (\(probability ? "probability" : "occupancy"), 0–\(maximum))"
            }
        }
    }

    public struct Segment: Sendable, Equatable {
        public var number: Int
        public var label: String
        public var description: String
        /// AUTOMATIC, SEMIAUTOMATIC or MANUAL.
        public var algorithmType: String
        public var algorithmName: String
        public var algorithmVersion: String
        public var algorithmFamily: CodedConcept?
        public var category: CodedConcept?
        public var type: CodedConcept?
        public var trackingID: String
        public var trackingUID: String

        public init(number: Int, label: String, description: String = "", algorithmType: String = "", algorithmName: String = "",
                    algorithmVersion: String = "", algorithmFamily: CodedConcept? = nil, category: CodedConcept? = nil,
                    type: CodedConcept? = nil, trackingID: String = "", trackingUID: String = "") {
            self.number = number
            self.label = label
            self.description = description
            self.algorithmType = algorithmType
            self.algorithmName = algorithmName
            self.algorithmVersion = algorithmVersion
            self.algorithmFamily = algorithmFamily
            self.category = category
            self.type = type
            self.trackingID = trackingID
            self.trackingUID = trackingUID
        }
    }

    public var identity: AIObjectIdentity
    public var kind: Kind
    public var geometry: AIObjectGeometry
    public var segments: [Segment]
    public var frames: [AIObjectFrame]

    public init(identity: AIObjectIdentity, kind: Kind, geometry: AIObjectGeometry, segments: [Segment], frames: [AIObjectFrame]) {
        self.identity = identity
        self.kind = kind
        self.geometry = geometry
        self.segments = segments
        self.frames = frames
    }

    /// Stored value that means "fully in the segment" (1 for binary).
    public var maximumValue: Int {
        if case .fractional(_, let maximum) = kind { return max(1, maximum) }
        return 1
    }
}

/// A DICOM Parametric Map.
public struct ParametricMapObject: Sendable, Equatable {
    /// Real-world value mapping: value = stored × slope + intercept (or through a table).
    public struct Mapping: Sendable, Equatable {
        public var label: String
        public var explanation: String
        public var slope: Double
        public var intercept: Double
        public var unit: CodedConcept?
        public var firstValue: Double?
        public var lastValue: Double?
        /// Entries of a lookup table, when the mapping is one (not applied: slope and intercept are).
        public var tableEntries: Int?

        public init(label: String, explanation: String, slope: Double, intercept: Double, unit: CodedConcept?,
                    firstValue: Double? = nil, lastValue: Double? = nil, tableEntries: Int? = nil) {
            self.label = label
            self.explanation = explanation
            self.slope = slope
            self.intercept = intercept
            self.unit = unit
            self.firstValue = firstValue
            self.lastValue = lastValue
            self.tableEntries = tableEntries
        }

        public func value(_ stored: Float) -> Float { Float(Double(stored) * slope + intercept) }
    }

    public var identity: AIObjectIdentity
    public var geometry: AIObjectGeometry
    public var bitsAllocated: Int
    public var mappings: [Mapping]
    public var frames: [AIObjectFrame]

    public init(identity: AIObjectIdentity, geometry: AIObjectGeometry, bitsAllocated: Int, mappings: [Mapping], frames: [AIObjectFrame]) {
        self.identity = identity
        self.geometry = geometry
        self.bitsAllocated = bitsAllocated
        self.mappings = mappings
        self.frames = frames
    }
}
