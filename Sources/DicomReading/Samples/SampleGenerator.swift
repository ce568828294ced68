import Foundation
public import LightboxCore

/// Writes the bundled sample studies: synthetic phantoms, real DICOM written through DCMTK.
/// Deterministic: the same code writes the same bytes.
public enum SampleGenerator {
    /// One written study and what it holds.
    public struct WrittenStudy: Codable, Sendable {
        public var folder: String
        public var description: String
        public var modality: String
        public var transferSyntax: String
        public var files: Int
        public var studyInstanceUID: String
        public var lesions: [PlantedLesion]
    }

    /// Writes every sample study below `directory` and a `ground-truth.json` manifest.
    @discardableResult
    public static func writeAll(to directory: String) throws -> [WrittenStudy] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let studies = [
            try writeChestCT(to: directory),
            try writeBrainMR(to: directory),
            try writeChestRadiograph(to: directory),
            try writeCardiacCine(to: directory),
            try writeColourCapture(to: directory),
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(studies).write(to: URL(fileURLWithPath: directory + "/ground-truth.json"))
        return studies
    }

    static func baseHeader(study: String, series: String, modality: String, patient: (String, String)) -> ImageHeader {
        var header = ImageHeader()
        header.studyInstanceUID = SampleUID.make("study/" + study)
        header.seriesInstanceUID = SampleUID.make("series/" + study + "/" + series)
        header.frameOfReferenceUID = SampleUID.make("frame/" + study)
        header.modality = modality
        header.patientName = patient.0
        header.patientID = patient.1
        header.patientSex = "O"
        header.manufacturer = "Lightbox phantom generator"
        header.manufacturerModelName = "synthetic"
        header.seriesNumber = 1
        return header
    }

    static func folder(_ root: String, _ name: String) throws -> String {
        let path = root + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    // MARK: Chest CT

    /// The chest CT phantom: one axial slice in Hounsfield units at height `z` (mm, 0 at apex).
    public static func chestSlice(size: Int, spacing: Double, z: Double, lesions: [(x: Double, y: Double, z: Double, r: Double)],
                                  random: inout SeededRandom) -> [Double] {
        var hu = [Double](repeating: -1000, count: size * size)
        let c = Double(size) / 2
        let mm = 1 / spacing  // pixels per millimetre
        let lungScale = 0.6 + 0.4 * min(1, z / 60)            // lungs widen from the apex
        let heart = z > 35                                      // heart below the carina
        for row in 0..<size {
            for col in 0..<size {
                let x = Double(col) + 0.5, y = Double(row) + 0.5
                var value = -1000.0
                if inEllipse(x, y, c, c + 8 * mm, 165 * mm, 115 * mm) { value = -100 }          // fat
                if inEllipse(x, y, c, c + 8 * mm, 155 * mm, 105 * mm) { value = 40 }            // muscle, soft tissue
                let lungRX = 62 * mm * lungScale, lungRY = 80 * mm * lungScale
                let left = inEllipse(x, y, c - 72 * mm, c + 2 * mm, lungRX, lungRY)
                let right = inEllipse(x, y, c + 72 * mm, c + 2 * mm, lungRX, lungRY)
                if left || right {
                    value = -860
                    // Vessels: a few bright branching strands.
                    let angle = atan2(y - c, x - c)
                    if abs(sin(angle * 9 + z * 0.05)) > 0.985 { value = -300 }
                }
                if heart && inEllipse(x, y, c + 18 * mm, c + 5 * mm, 55 * mm, 48 * mm) { value = 45 }
                if inEllipse(x, y, c, c - 20 * mm, 14 * mm, 14 * mm) { value = 35 }            // aorta
                if inEllipse(x, y, c, c + 85 * mm, 18 * mm, 16 * mm) { value = 700 }           // vertebra
                if inEllipse(x, y, c, c + 85 * mm, 12 * mm, 10 * mm) { value = 250 }           // marrow
                if inEllipse(x, y, c, c - 95 * mm, 14 * mm, 6 * mm) { value = 600 }            // sternum
                for k in 0..<8 {                                                                 // ribs
                    let a = Double(k) * .pi / 4 + .pi / 8 + z * 0.004
                    let rx = c + cos(a) * 150 * mm, ry = c + 8 * mm + sin(a) * 100 * mm
                    if inEllipse(x, y, rx, ry, 7 * mm, 5 * mm) { value = 800 }
                }
                if y > c + 130 * mm && y < c + 136 * mm && abs(x - c) < 170 * mm { value = 300 } // table
                for lesion in lesions {
                    let dz = z - lesion.z
                    let radius2 = lesion.r * lesion.r - dz * dz
                    if radius2 > 0 {
                        let dx = (x - lesion.x) / mm, dy = (y - lesion.y) / mm
                        if dx * dx + dy * dy <= radius2 { value = 30 }
                    }
                }
                hu[row * size + col] = value
            }
        }
        for i in 0..<hu.count { hu[i] += random.gaussian() * 12 }
        return hu
    }

    static func writeChestCT(to root: String) throws -> WrittenStudy {
        let size = 256, slices = 28, spacing = 1.4, thickness = 2.5
        let directory = try folder(root, "chest-ct")
        let c = Double(size) / 2, mm = 1 / spacing
        // Nodules: (column, row, z in mm, radius in mm).
        let nodules: [(x: Double, y: Double, z: Double, r: Double)] = [
            (c - 80 * mm, c - 20 * mm, 25, 6),
            (c + 60 * mm, c + 30 * mm, 45, 4.5),
            (c - 55 * mm, c + 40 * mm, 55, 8),
        ]
        var random = SeededRandom(seed: 0xC7)
        var header = baseHeader(study: "chest-ct", series: "axial", modality: "CT", patient: ("PHANTOM^CHEST", "LBX-0001"))
        header.sopClassUID = "1.2.840.10008.5.1.4.1.1.2"
        header.studyDate = "20260112"; header.seriesDate = "20260112"; header.studyTime = "083000"
        header.accessionNumber = "ACC-CT-0001"
        header.studyDescription = "CT CHEST (synthetic phantom, 3 nodules)"
        header.seriesDescription = "Axial 2.5 mm lung"
        header.bodyPartExamined = "CHEST"
        header.rows = size; header.columns = size
        header.bitsAllocated = 16; header.bitsStored = 12; header.highBit = 11; header.pixelRepresentation = 0
        header.photometricInterpretation = "MONOCHROME2"
        header.pixelSpacing = [spacing, spacing]
        header.sliceThickness = thickness
        header.imageOrientationPatient = [1, 0, 0, 0, 1, 0]
        header.rescaleIntercept = -1024; header.rescaleSlope = 1; header.rescaleType = "HU"
        header.windowCenters = [-600]; header.windowWidths = [1500]
        for index in 0..<slices {
            let z = Double(index) * thickness
            let hu = chestSlice(size: size, spacing: spacing, z: z, lesions: nodules, random: &random)
            header.instanceNumber = index + 1
            header.sopInstanceUID = SampleUID.make("chest-ct/\(index)")
            // Feet-first listing: z decreases in patient coordinates as slices go down.
            header.imagePositionPatient = [-c * spacing, -c * spacing, -z]
            let stored = hu.map { Int32(min(max(($0 + 1024).rounded(), 0), 4095)) }
            // Names follow the apex-to-base drawing order, the reverse of the order along the slice
            // normal, so that ordering by position, not by name, is exercised.
            let name = String(format: "%@/IM%04d.dcm", directory, index + 1)
            try SyntheticInstance.sample(header, stored).write(to: name, syntax: .explicitLittleEndian)
        }
        let lesions = nodules.map { n in
            // Display order runs along the slice normal, base to apex: the reverse of drawing order.
            PlantedLesion(kind: "nodule", firstSlice: slices - 1 - Int(((n.z + n.r) / thickness).rounded(.down)),
                          lastSlice: slices - 1 - Int(((n.z - n.r) / thickness).rounded(.up)),
                          centerX: n.x, centerY: n.y, radiusMillimetres: n.r, positionZ: -n.z)
        }
        return WrittenStudy(folder: "chest-ct", description: header.studyDescription, modality: "CT",
                            transferSyntax: "Explicit VR Little Endian", files: slices,
                            studyInstanceUID: header.studyInstanceUID, lesions: lesions)
    }

    // MARK: Brain MR

    static func writeBrainMR(to root: String) throws -> WrittenStudy {
        let size = 192, slices = 20, spacing = 1.2, thickness = 5.0
        let directory = try folder(root, "brain-mr")
        let c = Double(size) / 2, mm = 1 / spacing
        let lesion = (x: c + 28 * mm, y: c - 18 * mm, z: 52.0, r: 9.0)
        var random = SeededRandom(seed: 0xB7)
        var header = baseHeader(study: "brain-mr", series: "t2-axial", modality: "MR", patient: ("PHANTOM^BRAIN", "LBX-0002"))
        header.sopClassUID = "1.2.840.10008.5.1.4.1.1.4"
        header.studyDate = "20260113"; header.seriesDate = "20260113"; header.studyTime = "101500"
        header.accessionNumber = "ACC-MR-0002"
        header.studyDescription = "MR BRAIN (synthetic phantom, 1 lesion)"
        header.seriesDescription = "T2 axial (JPEG-LS lossless)"
        header.bodyPartExamined = "HEAD"
        header.rows = size; header.columns = size
        header.bitsAllocated = 16; header.bitsStored = 12; header.highBit = 11
        header.photometricInterpretation = "MONOCHROME2"
        header.pixelSpacing = [spacing, spacing]
        header.sliceThickness = thickness
        header.imageOrientationPatient = [1, 0, 0, 0, 1, 0]
        for index in 0..<slices {
            let z = Double(index) * thickness
            let scale = sin(.pi * (z + 10) / 120)  // head narrows at the top and bottom
            var values = [Double](repeating: 0, count: size * size)
            for row in 0..<size {
                for col in 0..<size {
                    let x = Double(col) + 0.5, y = Double(row) + 0.5
                    var v = 0.0
                    let rx = 72 * mm * scale, ry = 88 * mm * scale
                    if inEllipse(x, y, c, c, rx, ry) { v = 1300 }                            // scalp fat
                    if inEllipse(x, y, c, c, rx - 5 * mm, ry - 5 * mm) { v = 80 }            // skull
                    if inEllipse(x, y, c, c, rx - 10 * mm, ry - 10 * mm) { v = 1500 }        // CSF
                    if inEllipse(x, y, c, c, rx - 13 * mm, ry - 13 * mm) {
                        v = 700                                                                 // grey matter
                        let gyri = sin(atan2(y - c, x - c) * 14) * 3 * mm
                        if inEllipse(x, y, c, c, rx - 20 * mm + gyri, ry - 20 * mm + gyri) { v = 450 }  // white matter
                    }
                    if z > 30 && z < 75 {
                        if inEllipse(x, y, c - 9 * mm, c - 8 * mm, 5 * mm, 22 * mm) || inEllipse(x, y, c + 9 * mm, c - 8 * mm, 5 * mm, 22 * mm) {
                            v = 1500                                                            // ventricles
                        }
                    }
                    let dz = z - lesion.z, r2 = lesion.r * lesion.r - dz * dz
                    if r2 > 0 {
                        let dx = (x - lesion.x) / mm, dy = (y - lesion.y) / mm
                        if dx * dx + dy * dy <= r2 { v = 1150 }
                    }
                    values[row * size + col] = v
                }
            }
            header.instanceNumber = index + 1
            header.sopInstanceUID = SampleUID.make("brain-mr/\(index)")
            header.imagePositionPatient = [-c * spacing, -c * spacing, z]
            let stored = values.map { Int32(min(max(($0 + random.gaussian() * 20).rounded(), 0), 4095)) }
            let name = String(format: "%@/MR%04d.dcm", directory, index + 1)
            try SyntheticInstance.sample(header, stored).write(to: name, syntax: .jpegLSLossless)
        }
        let planted = PlantedLesion(kind: "lesion", firstSlice: Int(((lesion.z - lesion.r) / thickness).rounded(.up)),
                                    lastSlice: Int(((lesion.z + lesion.r) / thickness).rounded(.down)),
                                    centerX: lesion.x, centerY: lesion.y, radiusMillimetres: lesion.r, positionZ: lesion.z)
        return WrittenStudy(folder: "brain-mr", description: header.studyDescription, modality: "MR",
                            transferSyntax: "JPEG-LS Lossless", files: slices,
                            studyInstanceUID: header.studyInstanceUID, lesions: [planted])
    }

    // MARK: Chest radiograph

    static func writeChestRadiograph(to root: String) throws -> WrittenStudy {
        let width = 400, height = 480, spacing = 0.8
        let directory = try folder(root, "chest-xray")
        var random = SeededRandom(seed: 0xD7)
        let cx = Double(width) / 2, mm = 1 / spacing
        let nodule = (x: cx + 70 * mm, y: 150 * mm, r: 9.0)
        var header = baseHeader(study: "chest-xray", series: "pa", modality: "DX", patient: ("PHANTOM^RADIOGRAPH", "LBX-0003"))
        header.sopClassUID = "1.2.840.10008.5.1.4.1.1.1.1"
        header.studyDate = "20260114"; header.seriesDate = "20260114"; header.studyTime = "141000"
        header.accessionNumber = "ACC-DX-0003"
        header.studyDescription = "XR CHEST PA (synthetic phantom, 1 nodule)"
        header.seriesDescription = "PA (MONOCHROME1, RLE)"
        header.bodyPartExamined = "CHEST"
        header.rows = height; header.columns = width
        header.bitsAllocated = 16; header.bitsStored = 12; header.highBit = 11
        header.photometricInterpretation = "MONOCHROME1"
        header.pixelSpacing = [spacing, spacing]
        header.windowCenters = [2048]; header.windowWidths = [4096]
        header.instanceNumber = 1
        header.sopInstanceUID = SampleUID.make("chest-xray/0")
        // Attenuation: higher = more material. The detector sees exposure, the inverse; MONOCHROME1
        // shows the lowest stored value as white, so dense bone (low exposure) comes out white.
        var stored = [Int32](repeating: 0, count: width * height)
        for row in 0..<height {
            for col in 0..<width {
                let x = Double(col) + 0.5, y = Double(row) + 0.5
                var attenuation = 200.0
                if inEllipse(x, y, cx, 270 * mm, 170 * mm, 230 * mm) { attenuation = 2600 }             // body
                let left = inEllipse(x, y, cx - 70 * mm, 170 * mm, 55 * mm, 120 * mm)
                let right = inEllipse(x, y, cx + 70 * mm, 170 * mm, 55 * mm, 120 * mm)
                if left || right { attenuation = 1100 }                                               // lungs
                if inEllipse(x, y, cx + 15 * mm, 230 * mm, 55 * mm, 50 * mm) { attenuation = 2400 }   // heart
                if abs(x - cx) < 12 * mm && y > 40 * mm { attenuation = 3000 }                        // spine
                for k in 0..<9 {                                                                      // ribs
                    let ribY = 80 * mm + Double(k) * 24 * mm + abs(x - cx) * 0.25
                    if abs(y - ribY) < 4 * mm && abs(x - cx) > 14 * mm && abs(x - cx) < 120 * mm {
                        attenuation += 500
                    }
                }
                let dx = (x - nodule.x) / mm, dy = (y - nodule.y) / mm
                if dx * dx + dy * dy <= nodule.r * nodule.r { attenuation += 600 }
                stored[row * width + col] = Int32(min(max((4095 - attenuation + random.gaussian() * 30).rounded(), 0), 4095))
            }
        }
        try SyntheticInstance.sample(header, stored).write(to: directory + "/DX0001.dcm", syntax: .rleLossless)
        let planted = PlantedLesion(kind: "nodule", firstSlice: 0, lastSlice: 0, centerX: nodule.x, centerY: nodule.y,
                                    radiusMillimetres: nodule.r, positionZ: nil)
        return WrittenStudy(folder: "chest-xray", description: header.studyDescription, modality: "DX",
                            transferSyntax: "RLE Lossless", files: 1, studyInstanceUID: header.studyInstanceUID,
                            lesions: [planted])
    }

    // MARK: Multi-frame cine

    static func writeCardiacCine(to root: String) throws -> WrittenStudy {
        let size = 160, frames = 16
        let directory = try folder(root, "cardiac-xa-multiframe")
        var random = SeededRandom(seed: 0xE7)
        var header = baseHeader(study: "cardiac-xa", series: "cine", modality: "XA", patient: ("PHANTOM^CINE", "LBX-0004"))
        header.sopClassUID = "1.2.840.10008.5.1.4.1.1.12.1"
        header.studyDate = "20260115"; header.seriesDate = "20260115"; header.studyTime = "090500"
        header.accessionNumber = "ACC-XA-0004"
        header.studyDescription = "XA CARDIAC CINE (synthetic phantom, 16 frames)"
        header.seriesDescription = "Cine, multi-frame (deflated)"
        header.rows = size; header.columns = size; header.numberOfFrames = frames
        header.bitsAllocated = 8; header.bitsStored = 8; header.highBit = 7
        header.photometricInterpretation = "MONOCHROME2"
        header.pixelSpacing = [0.3, 0.3]
        header.instanceNumber = 1
        header.sopInstanceUID = SampleUID.make("cardiac-xa/0")
        var stored: [Int32] = []
        stored.reserveCapacity(size * size * frames)
        let c = Double(size) / 2
        for frame in 0..<frames {
            let beat = 1 + 0.18 * sin(2 * .pi * Double(frame) / Double(frames))
            for row in 0..<size {
                for col in 0..<size {
                    let x = Double(col) + 0.5, y = Double(row) + 0.5
                    var v = 170.0 - 30 * (y / Double(size))
                    if inEllipse(x, y, c, c, 38 * beat, 46 * beat) { v = 120 }
                    // A contrast-filled vessel winding across.
                    let vesselY = c + 30 * sin(x / 18 + Double(frame) * 0.2)
                    if abs(y - vesselY) < 3.5 { v = 40 }
                    stored.append(Int32(min(max((v + random.gaussian() * 6).rounded(), 0), 255)))
                }
            }
        }
        try SyntheticInstance.sample(header, stored)
            .write(to: directory + "/XA0001.dcm", syntax: .deflatedExplicitLittleEndian)
        return WrittenStudy(folder: "cardiac-xa-multiframe", description: header.studyDescription, modality: "XA",
                            transferSyntax: "Deflated Explicit VR Little Endian", files: 1,
                            studyInstanceUID: header.studyInstanceUID, lesions: [])
    }

    // MARK: Colour secondary capture

    static func writeColourCapture(to root: String) throws -> WrittenStudy {
        let width = 160, height = 120
        let directory = try folder(root, "colour-sc")
        var header = baseHeader(study: "colour-sc", series: "capture", modality: "OT", patient: ("PHANTOM^COLOUR", "LBX-0005"))
        header.sopClassUID = "1.2.840.10008.5.1.4.1.1.7"
        header.studyDate = "20260116"; header.seriesDate = "20260116"; header.studyTime = "160000"
        header.accessionNumber = "ACC-SC-0005"
        header.studyDescription = "SECONDARY CAPTURE (synthetic RGB test pattern)"
        header.seriesDescription = "RGB, planar configuration 1"
        header.rows = height; header.columns = width; header.samplesPerPixel = 3; header.planarConfiguration = 1
        header.bitsAllocated = 8; header.bitsStored = 8; header.highBit = 7
        header.photometricInterpretation = "RGB"
        header.instanceNumber = 1
        header.sopInstanceUID = SampleUID.make("colour-sc/0")
        // Planar: all red, then all green, then all blue.
        var planes = [Int32](repeating: 0, count: width * height * 3)
        for row in 0..<height {
            for col in 0..<width {
                let bar = col * 8 / width
                let rgb: (Int32, Int32, Int32) = row < height * 2 / 3
                    ? [(255, 255, 255), (255, 255, 0), (0, 255, 255), (0, 255, 0), (255, 0, 255), (255, 0, 0), (0, 0, 255), (0, 0, 0)][bar]
                    : (Int32(col * 255 / (width - 1)), Int32(col * 255 / (width - 1)), Int32(col * 255 / (width - 1)))
                let i = row * width + col
                planes[i] = rgb.0
                planes[width * height + i] = rgb.1
                planes[2 * width * height + i] = rgb.2
            }
        }
        try SyntheticInstance.sample(header, planes).write(to: directory + "/SC0001.dcm", syntax: .explicitLittleEndian)
        return WrittenStudy(folder: "colour-sc", description: header.studyDescription, modality: "OT",
                            transferSyntax: "Explicit VR Little Endian", files: 1,
                            studyInstanceUID: header.studyInstanceUID, lesions: [])
    }
}

extension SyntheticInstance {
    /// A sample instance: every Type 2 attribute of its IOD present.
    static func sample(_ header: ImageHeader, _ storedValues: [Int32]) -> SyntheticInstance {
        var instance = SyntheticInstance(header: header, storedValues: storedValues)
        instance.completeType2 = true
        return instance
    }
}
