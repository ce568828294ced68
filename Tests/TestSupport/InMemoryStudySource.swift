public import LightboxCore
import Foundation

/// A study source held in memory: studies built from headers, pixels made by a closure.
/// Counts decodes, so tests can see caching and prefetching.
public final class InMemoryStudySource: StudySource, @unchecked Sendable {
    public let name: String
    private let studies: [Study]
    private let pixels: @Sendable (SliceKey, ImageHeader) -> [Float]
    private let lock = NSLock()
    private var decodes: [SliceKey] = []
    /// Keys whose decoding fails.
    public var failing: Set<SliceKey> = []

    public init(name: String = "memory", studies: [Study], pixels: @escaping @Sendable (SliceKey, ImageHeader) -> [Float]) {
        self.name = name
        self.studies = studies
        self.pixels = pixels
    }

    /// Keys decoded so far, in order.
    public var decoded: [SliceKey] {
        lock.lock()
        defer { lock.unlock() }
        return decodes
    }

    public func loadStudies(progress: (@Sendable (Int, Int) -> Void)?) throws -> (studies: [Study], summary: FolderIndexer.Summary) {
        var summary = FolderIndexer.Summary()
        summary.studies = studies.count
        return (studies, summary)
    }

    public func decode(_ key: SliceKey) throws -> DecodedImage {
        lock.lock()
        decodes.append(key)
        lock.unlock()
        guard !failing.contains(key) else { throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: key.path]) }
        let header = studies.lazy.flatMap(\.series).flatMap(\.instances).first { $0.path == key.path }?.header ?? ImageHeader()
        return DecodedImage(width: header.columns, height: header.rows, channels: 1, frames: 1, values: pixels(key, header), header: header)
    }

    public func headerLines(_ key: SliceKey) throws -> [HeaderLine] {
        [HeaderLine(depth: 0, group: 0x0008, element: 0x0060, vr: "CS", name: "Modality", value: "CT"),
         HeaderLine(depth: 0, group: 0x0010, element: 0x0010, vr: "PN", name: "PatientName", value: "CANARY^PHI"),
         HeaderLine(depth: 0, group: 0x0010, element: 0x0020, vr: "LO", name: "PatientID", value: "CANARY123"),
         HeaderLine(depth: 0, group: 0x0008, element: 0x103e, vr: "LO", name: "SeriesDescription", value: "Evil \u{1B}]0;title\u{07}")]
    }
}

/// Small studies in memory for the reviewer's tests.
public enum ReviewFixtures {
    /// A CT study of `slices` 64×64 slices (one or two series), a 1-slice MR, and a DX.
    public static func studies(ctSlices: Int = 30, ctSeries: Int = 1) -> [Study] {
        func header(_ modality: String, study: String, series: String, index: Int, date: String, name: String, description: String) -> ImageHeader {
            var h = ImageHeader()
            h.studyInstanceUID = study
            h.seriesInstanceUID = series
            h.sopInstanceUID = "\(series).\(index)"
            h.modality = modality
            h.patientName = name
            h.patientID = "CANARY123"
            h.studyDate = date
            h.studyDescription = description
            h.seriesDescription = "Series \(series)"
            h.seriesNumber = Int(series.split(separator: ".").last ?? "1")
            h.rows = 64
            h.columns = 64
            h.bitsAllocated = 16
            h.bitsStored = 12
            h.highBit = 11
            h.photometricInterpretation = "MONOCHROME2"
            h.pixelSpacing = [0.7, 0.7]
            h.imageOrientationPatient = [1, 0, 0, 0, 1, 0]
            h.imagePositionPatient = [0, 0, Double(index) * 2.5]
            h.instanceNumber = index + 1
            h.windowCenters = [40]
            h.windowWidths = [400]
            return h
        }
        var ct: [InstanceEntry] = []
        for series in 1...ctSeries {
            for index in 0..<ctSlices {
                ct.append(InstanceEntry(path: "/ct/\(series)/\(index).dcm",
                                        header: header("CT", study: "2.25.1", series: "2.25.1.\(series)", index: index, date: "20260101",
                                                       name: "CANARY^PHI", description: "CT CHEST")))
            }
        }
        let mr = [InstanceEntry(path: "/mr/0.dcm", header: header("MR", study: "2.25.2", series: "2.25.2.1", index: 0, date: "20260102",
                                                                     name: "ZED^MR", description: "MR BRAIN"))]
        let dx = [InstanceEntry(path: "/dx/0.dcm", header: header("DX", study: "2.25.3", series: "2.25.3.1", index: 0, date: "20260103",
                                                                     name: "ABLE^DX", description: "XR CHEST \u{1B}[31mRED"))]
        return Study.assemble(ct + mr + dx)
    }

    /// A smooth test pattern in Hounsfield-like values, different per slice.
    public static let pattern: @Sendable (SliceKey, ImageHeader) -> [Float] = { key, header in
        let slice = Float(key.path.split(separator: "/").last.flatMap { Int($0.split(separator: ".")[0]) } ?? 0)
        return (0..<(header.rows * header.columns)).map { index in
            let x = Float(index % header.columns), y = Float(index / header.columns)
            return -200 + 8 * x + 4 * y + slice * 3
        }
    }
}

/// A heatmap source for tests: a blob on slices whose instance number is in `slices`.
public struct FixedHeatmapSource: HeatmapSource {
    public let label = "test overlay"
    public let slices: Set<Int>

    public init(slices: Set<Int>) { self.slices = slices }

    public func heatmap(for header: ImageHeader, frame: Int) -> Heatmap? {
        guard let number = header.instanceNumber, slices.contains(number - 1) else { return nil }
        let size = 16
        let values: [Float] = (0..<(size * size)).map { index in
            let dx = Float(index % size) - 8, dy = Float(index / size) - 8
            return max(0, 1 - (dx * dx + dy * dy) / 36)
        }
        return Heatmap(width: size, height: size, values: values)
    }
}
