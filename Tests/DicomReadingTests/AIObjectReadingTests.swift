import DicomReading
import Foundation
import LightboxCore
import Testing
import TestSupport

/// Other systems' AI objects, written by highdicom over the CT phantom (`make test` runs
/// tools/ai_objects_reference.py into a throwaway folder and sets LIGHTBOX_AI_OBJECTS), read back
/// through DCMTK and compared with what highdicom wrote: segment masks pixel for pixel, map
/// values within float tolerance, SR groups, codes and coordinates; the hostile variants each
/// reported on that object with the reason, never a crash.
struct AIObjectReadingTests {
    struct Code: Decodable, Equatable {
        let value, scheme, meaning: String
        var concept: CodedConcept { CodedConcept(value, scheme, meaning) }
    }
    struct Segment: Decodable {
        let number: Int
        let label, algorithmType, algorithmName, algorithmVersion, trackingID, trackingUID: String
        let category, type: Code
    }
    struct Frame: Decodable {
        let segment: Int
        let source: String?
        let position: [Double]
    }
    struct Mapping: Decodable {
        let label, explanation: String
        let slope, intercept: Double
        let unit: Code
    }
    struct Measurement: Decodable {
        let concept: Code
        let value: Double
        let unit: String
    }
    struct Qualitative: Decodable {
        let concept, value: Code
    }
    struct Region: Decodable {
        let graphicType: String
        let image: String?
        let frameOfReferenceUID: String?
        let points: [Double]
    }
    struct Group: Decodable {
        let trackingID, trackingUID: String
        let findingType: Code?
        let findingSites: [Code]?
        let laterality: Code?
        let measurements: [Measurement]?
        let qualitative: [Qualitative]?
        let region: Region
        let probability: Double?
    }
    struct Object: Decodable {
        let file, kind, sopInstanceUID: String
        let segmentationType: String?
        let rows: Int?
        let columns: Int?
        let segments: [Segment]?
        let frames: FramesField?
        let sources: [String]?
        let mapping: Mapping?
        let groups: [Group]?
        let pixelsPerSegment: [String: Int]?
        let device: [String: String]?
    }
    /// A SEG's frames are a list; a map's are a count.
    enum FramesField: Decodable {
        case list([Frame])
        case count(Int)
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let count = try? container.decode(Int.self) { self = .count(count) } else { self = .list(try container.decode([Frame].self)) }
        }
        var list: [Frame] { if case .list(let frames) = self { frames } else { [] } }
    }
    struct Plane: Decodable {
        let object: String
        let segment: Int?
        let source: String
        let slice: Int
    }
    struct Bad: Decodable {
        let file, why: String
    }
    struct Manifest: Decodable {
        let study: String
        let rows, columns: Int
        let objects: [Object]
        let planes: [Plane]
        let mapPlanes: [Plane]
        let bad: [Bad]
    }

    static let folder = ProcessInfo.processInfo.environment["LIGHTBOX_AI_OBJECTS"]
    static let enabled = Testing.ConditionTrait.enabled(if: folder != nil, "run through `make test`, which writes the highdicom fixtures")

    static func manifest() throws -> (String, Manifest) {
        let folder = try #require(folder)
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/manifest.json"))
        return (folder, try JSONDecoder().decode(Manifest.self, from: data))
    }

    static func object(_ manifest: Manifest, _ file: String) throws -> Object {
        try #require(manifest.objects.first { $0.file == file }, "\(file) in the manifest")
    }

    @Test(enabled, arguments: ["seg-binary.dcm", "seg-fractional.dcm", "seg-planes.dcm", "liver.dcm"])
    func segmentationsReadAsHighdicomWroteThem(file: String) throws {
        let (folder, manifest) = try Self.manifest()
        let expected = try Self.object(manifest, file)
        let seg = try SegmentationFile.open(folder + "/" + file).object
        #expect(seg.identity.sopInstanceUID == expected.sopInstanceUID)
        #expect((seg.kind == .binary) == (expected.segmentationType == "BINARY"))
        #expect(seg.geometry.rows == expected.rows && seg.geometry.columns == expected.columns)
        let segments = try #require(expected.segments)
        #expect(seg.segments.count == segments.count)
        for (read, written) in zip(seg.segments, segments) {
            #expect(read.number == written.number)
            #expect(read.label == written.label)
            #expect(read.algorithmType == written.algorithmType)
            #expect(read.algorithmName == written.algorithmName)
            #expect(read.algorithmVersion == written.algorithmVersion)
            #expect(read.category == written.category.concept)
            #expect(read.type == written.type.concept)
            #expect(read.trackingID == written.trackingID && read.trackingUID == written.trackingUID)
        }
        let frames = try #require(expected.frames).list
        #expect(seg.frames.count == frames.count)
        for (index, (read, written)) in zip(seg.frames, frames).enumerated() {
            #expect(read.segment == written.segment, "frame \(index + 1)")
            #expect(read.sources.first?.sopInstanceUID == written.source, "frame \(index + 1)")
            let position = try #require(read.position, "frame \(index + 1) has a plane position")
            #expect(zip(position, written.position).allSatisfy { abs($0 - $1) < 1e-6 }, "frame \(index + 1): \(position) vs \(written.position)")
        }
    }

    @Test(enabled, arguments: ["seg-binary.dcm", "seg-fractional.dcm"])
    func segmentMasksEqualHighdicomsPixelForPixel(file: String) throws {
        let (folder, manifest) = try Self.manifest()
        let opened = try SegmentationFile.open(folder + "/" + file)
        let masks = try Data(contentsOf: URL(fileURLWithPath: folder + "/masks.u8"))
        let planeSize = manifest.rows * manifest.columns
        var compared = 0
        for (index, plane) in manifest.planes.enumerated() where plane.object == file {
            let frame = try #require(opened.object.frames.firstIndex { $0.segment == plane.segment && $0.sources.first?.sopInstanceUID == plane.source },
                                     "a frame of segment \(plane.segment ?? 0) on slice \(plane.slice)")
            let expected = [UInt8](masks[(index * planeSize)..<((index + 1) * planeSize)])
            let read = try opened.frame(frame)
            #expect(read == expected, "segment \(plane.segment ?? 0) on slice \(plane.slice): \(zip(read, expected).filter { $0 != $1 }.count) pixel(s) differ")
            compared += 1
        }
        #expect(compared == opened.object.frames.count, "every frame compared (\(compared) of \(opened.object.frames.count))")
        #expect(compared > 10)
    }

    @Test(enabled) func realLiverSegmentationCountsTheSamePixels() throws {
        let (folder, manifest) = try Self.manifest()
        let expected = try Self.object(manifest, "liver.dcm")
        let opened = try SegmentationFile.open(folder + "/liver.dcm")
        var counts: [String: Int] = [:]
        for (index, frame) in opened.object.frames.enumerated() {
            counts[String(frame.segment ?? 0), default: 0] += try opened.frame(index).filter { $0 != 0 }.count
        }
        #expect(counts == expected.pixelsPerSegment)
        #expect(counts.values.allSatisfy { $0 > 1000 })
    }

    @Test(enabled, arguments: ["pm-float.dcm", "pm-integer.dcm"])
    func parametricMapsEqualHighdicomsValues(file: String) throws {
        let (folder, manifest) = try Self.manifest()
        let expected = try Self.object(manifest, file)
        let opened = try ParametricMapFile.open(folder + "/" + file)
        let mapping = try #require(opened.object.mappings.first)
        let written = try #require(expected.mapping)
        #expect(mapping.label == written.label && mapping.explanation == written.explanation)
        #expect(abs(mapping.slope - written.slope) < 1e-12 && abs(mapping.intercept - written.intercept) < 1e-12)
        #expect(mapping.unit == written.unit.concept)
        // highdicom orders the frames along the slice normal; each names its source image.
        #expect(Set(opened.object.frames.compactMap { $0.sources.first?.sopInstanceUID }) == Set(expected.sources ?? []))
        let values = try Data(contentsOf: URL(fileURLWithPath: folder + "/maps.f32"))
        let planeSize = manifest.rows * manifest.columns
        let all: [Float] = values.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        var compared = 0
        for (index, plane) in manifest.mapPlanes.enumerated() where plane.object == file {
            let frame = try #require(opened.object.frames.firstIndex { $0.sources.first?.sopInstanceUID == plane.source })
            let read = try opened.frame(frame)
            let reference = Array(all[(index * planeSize)..<((index + 1) * planeSize)])
            let worst = zip(read, reference).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst <= 1e-6, "slice \(plane.slice): largest difference \(worst)")
            compared += 1
        }
        #expect(compared == 8)
    }

    @Test(enabled) func measurementReportGroupsCodesAndCoordinates() throws {
        let (folder, manifest) = try Self.manifest()
        let expected = try Self.object(manifest, "sr-nodules.dcm")
        let report = try #require(MeasurementReportObject(try StructuredReportFile.read(folder + "/sr-nodules.dcm")))
        #expect(report.sopInstanceUID == expected.sopInstanceUID)
        #expect(report.deviceName == expected.device?["name"] && report.deviceModel == expected.device?["model"])
        #expect(report.deviceUID == expected.device?["uid"])
        #expect(report.sourceName == "Vendor Report AI" && report.sourceVersion == "7.0")
        #expect(report.problems.isEmpty, "\(report.problems)")
        let groups = try #require(expected.groups)
        #expect(report.groups.count == groups.count)
        for (read, written) in zip(report.groups, groups) {
            #expect(read.trackingID == written.trackingID && read.trackingUID == written.trackingUID)
            #expect(read.findingType == written.findingType?.concept)
            #expect(read.findingSites == (written.findingSites ?? []).map(\.concept))
            #expect(read.laterality == written.laterality?.concept)
            #expect(read.probability == written.probability, "\(written.trackingID): the probability, or none")
            let measurements = written.measurements ?? []
            #expect(read.measurements.count == measurements.count)
            for (m, w) in zip(read.measurements, measurements) {
                #expect(m.concept == w.concept.concept && abs(m.value - w.value) < 1e-9 && m.unit?.value == w.unit)
            }
            #expect(read.evaluations.map(\.concept) == (written.qualitative ?? []).map { Optional($0.concept.concept) })
            #expect(read.evaluations.map(\.value) == (written.qualitative ?? []).map { Optional($0.value.concept) })
            let region = try #require(read.region)
            #expect(region.graphicType == written.region.graphicType)
            #expect(region.image?.sopInstanceUID == written.region.image)
            #expect(region.frameOfReferenceUID == written.region.frameOfReferenceUID)
            #expect(region.points.count == written.region.points.count)
            #expect(zip(region.points, written.region.points).allSatisfy { abs($0 - $1) < 1e-3 }, "\(region.points) vs \(written.region.points)")
        }
        #expect(report.evidence.count == 28, "the 28 CT images as evidence")
    }

    @Test(enabled) func reportOnAnImageOutsideTheStudyStillReads() throws {
        let (folder, manifest) = try Self.manifest()
        let report = try #require(MeasurementReportObject(try StructuredReportFile.read(folder + "/sr-outside.dcm")))
        let written = try #require(try Self.object(manifest, "sr-outside.dcm").groups?.first)
        #expect(report.groups.count == 1)
        #expect(report.groups.first?.region?.image?.sopInstanceUID == written.region.image)
        #expect(report.evidence.contains { $0.sopInstanceUID == written.region.image && $0.studyInstanceUID != manifest.study },
                "the outside image is listed as evidence of another study")
    }

    @Test(enabled) func hostileObjectsAreReportedWithTheirReason() throws {
        let (folder, manifest) = try Self.manifest()
        #expect(manifest.bad.count == 9)
        func refusal(_ name: String) throws -> DicomError {
            let path = folder + "/bad/" + name
            do {
                _ = try SegmentationFile.open(path)
            } catch {
                #expect(error.path == path)
                return error
            }
            Issue.record("\(name) opened")
            throw DicomError(path: path, reason: .malformed("opened"))
        }
        #expect(try refusal("seg-cut-short.dcm").reason.text.contains("cut short"))
        #expect(try refusal("seg-frame-count.dcm").reason.text.contains("Number of Frames says"))
        // Read, with what is wrong left for the study to find: a frame naming segment 7 of 3,
        // frames of another size, sources that are nowhere.
        let stray = try SegmentationFile.open(folder + "/bad/seg-segment-number.dcm").object
        #expect(stray.frames.first?.segment == 7 && stray.segments.count == 3)
        let small = try SegmentationFile.open(folder + "/bad/seg-other-size.dcm").object
        #expect(small.geometry.rows == manifest.rows / 2)
        #expect(try ParametricMapFile.open(folder + "/bad/pm-other-size.dcm").object.geometry.columns == manifest.columns / 2)
        let scheme = try #require(MeasurementReportObject(try StructuredReportFile.read(folder + "/bad/sr-unknown-scheme.dcm")))
        #expect(scheme.problems.contains { $0.contains("ZZNOSUCH") }, "\(scheme.problems)")
        #expect(scheme.groups.count == 2, "the groups still read")
        let cycle = try #require(MeasurementReportObject(try StructuredReportFile.read(folder + "/bad/sr-cycle.dcm")))
        #expect(cycle.problems.contains { $0.contains("references its own ancestor") }, "\(cycle.problems)")
        // Each variant, whatever it is, through every reader: an answer or a typed error naming it.
        for bad in manifest.bad {
            let path = folder + "/" + bad.file
            for read in [{ _ = try SegmentationFile.open(path) }, { _ = try ParametricMapFile.open(path) },
                         { _ = MeasurementReportObject(try StructuredReportFile.read(path)) }] as [() throws -> Void] {
                do { try read() } catch let error as DicomError { #expect(error.path == path, "\(bad.file)") }
            }
        }
    }

    @Test func aReportTenThousandLevelsDeepIsAnErrorNotACrash() throws {
        let folder = TemporaryFolder("deep-sr")
        let writer = try DicomObjectWriter()
        try writer.set(0x0008, 0x0016, "1.2.840.10008.5.1.4.1.1.88.34")
        try writer.set(0x0008, 0x0018, "2.25.1")
        try writer.set(0x0008, 0x0060, "SR")
        try writer.set(0x0040, 0xA040, "CONTAINER")
        try writer.nestSequences(depth: 10_000)
        let path = folder.file("deep.dcm")
        try writer.save(to: path, syntax: .explicitLittleEndian)
        for read in [{ _ = try StructuredReportFile.read(path) }, { _ = try SegmentationFile.open(path) },
                     { _ = try ParametricMapFile.open(path) }, { _ = try DicomFile.open(path) }] as [() throws -> Void] {
            do {
                try read()
                Issue.record("a 10,000-level tree was accepted")
            } catch let error as DicomError {
                #expect(error.path == path)
                #expect(error.reason.text.contains("nested more than 500 levels"), "\(error)")
            }
        }
    }
}
