public import DicomReading
public import LightboxCore
import Foundation

/// A fresh temporary folder, removed when the value is released.
public final class TemporaryFolder: @unchecked Sendable {
    /// The folder's path.
    public let path: String

    /// Creates a new empty folder under the system temporary directory.
    public init(_ label: String = "test") {
        path = NSTemporaryDirectory() + "lightbox-\(label)-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// A path inside the folder.
    public func file(_ name: String) -> String { path + "/" + name }
}

/// Builders of small synthetic instances with known stored values.
public enum Fixtures {
    /// The repository's root (for the bundled samples).
    public static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The bundled samples folder.
    public static var samples: String { repositoryRoot + "/samples" }

    /// Runs a program to its end: its exit status and its output (stdout and stderr together).
    public static func program(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Runs SQL on an SQLite file with the sqlite3 program (what a person with the file could
    /// do): its exit status and output.
    public static func sqliteRun(_ database: String, _ sql: String) throws -> (status: Int32, output: String) {
        let (status, output) = try program("/usr/bin/sqlite3", [database, sql])
        return (status, output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The same, throwing when sqlite3 fails.
    public static func sqlite(_ database: String, _ sql: String) throws {
        let (status, output) = try sqliteRun(database, sql)
        guard status == 0 else { throw FixtureError("sqlite3 \(database): \(output)") }
    }

    /// A program the package builds (`lightbox`, `lightbox-ledger-writer`), found beside the test bundle.
    public static func builtProgram(_ name: String) -> String {
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [folder, folder.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return repositoryRoot + "/.build/debug/" + name
    }

    /// A greyscale header of the given geometry with fresh UIDs.
    public static func header(rows: Int = 32, columns: Int = 24, bitsAllocated: Int = 16, bitsStored: Int = 12,
                              signed: Bool = false, frames: Int = 1, modality: String = "CT",
                              study: String = "2.25.1", series: String = "2.25.2", instance: Int = 1) -> ImageHeader {
        var header = ImageHeader()
        header.sopClassUID = "1.2.840.10008.5.1.4.1.1.2"
        header.sopInstanceUID = "2.25.\(1000 + instance)"
        header.studyInstanceUID = study
        header.seriesInstanceUID = series
        header.modality = modality
        header.patientName = "TEST^PATIENT"
        header.patientID = "T0001"
        header.studyDate = "20260101"
        header.rows = rows
        header.columns = columns
        header.numberOfFrames = frames
        header.bitsAllocated = bitsAllocated
        header.bitsStored = bitsStored
        header.highBit = bitsStored - 1
        header.pixelRepresentation = signed ? 1 : 0
        header.photometricInterpretation = "MONOCHROME2"
        header.instanceNumber = instance
        return header
    }

    /// Deterministic stored values covering the whole range of the header's bit depth, with
    /// smooth regions (for lossy codecs) and the extremes present.
    public static func values(for header: ImageHeader, seed: UInt64 = 7) -> [Int32] {
        let count = header.rows * header.columns * header.numberOfFrames * header.samplesPerPixel
        let low: Int64 = header.pixelRepresentation == 1 ? -(Int64(1) << Int64(header.bitsStored - 1)) : 0
        let high: Int64 = header.pixelRepresentation == 1 ? (Int64(1) << Int64(header.bitsStored - 1)) - 1 : (Int64(1) << Int64(header.bitsStored)) - 1
        var random = SeededRandom(seed: seed)
        var values = [Int32](repeating: 0, count: count)
        for index in 0..<count {
            let t = Double(index % (header.columns * max(header.samplesPerPixel, 1))) / Double(header.columns * max(header.samplesPerPixel, 1))
            let smooth = Double(low) + (Double(high - low)) * (0.5 + 0.4 * sin(t * 6 + Double(index / header.columns) * 0.2))
            let noise = (random.uniform() - 0.5) * Double(high - low) * 0.02
            values[index] = Int32(min(max(Int64((smooth + noise).rounded()), low), high))
        }
        values[0] = Int32(low)
        values[count - 1] = Int32(high)
        return values
    }

    /// Writes an instance and returns its path and stored values.
    @discardableResult
    public static func write(_ header: ImageHeader, to path: String, syntax: TransferSyntax = .explicitLittleEndian,
                             values: [Int32]? = nil, quality: Int = 90) throws -> [Int32] {
        let stored = values ?? Self.values(for: header)
        try SyntheticInstance(header: header, storedValues: stored).write(to: path, syntax: syntax, quality: quality)
        return stored
    }

    /// A file whose header declares 65535 × 65535 RGB pixels in `frames` frames over a few bytes
    /// of pixel data: Rows × Columns × Samples × Frames overflows 64 bits (2,147,483,647 frames)
    /// or passes the size limit (1,000).
    public static func writeHugeGeometry(frames: Int, to path: String) throws {
        var header = Self.header(rows: 8, columns: 8)
        let values = Self.values(for: header)
        header.rows = 65535
        header.columns = 65535
        header.samplesPerPixel = 3
        header.numberOfFrames = frames
        header.photometricInterpretation = "RGB"
        try SyntheticInstance(header: header, storedValues: values).write(to: path, syntax: .explicitLittleEndian)
    }
}

/// A fixture that could not be made, and why.
public struct FixtureError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
