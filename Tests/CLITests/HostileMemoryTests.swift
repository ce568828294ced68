import DicomReading
import Foundation
import LightboxCore
import Testing
import TestSupport

/// Hostile headers (dimensions that overflow or exceed the limit, pixel data lengths of gigabytes)
/// cost no memory: each file is read by `lightbox info` in a process of its own, and that
/// process's peak resident memory (from wait4, not the test runner's shared high-water mark) stays
/// small. A control file that really needs memory shows the measurement can see it.
struct HostileMemoryTests {
    /// Runs the binary under GNU time and returns its exit status and its own peak resident
    /// memory in MB. (A child spawned straight from the test runner would report the runner's
    /// memory: it starts as a copy of it. time's own child starts from time's small process.)
    static func measured(_ arguments: [String], home: TemporaryFolder) throws -> (status: Int32, megabytes: Int) {
        let report = home.file("time-\(UUID().uuidString).txt")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/time")
        process.arguments = ["-f", "%M", "-o", report, CommandLineTests.binary] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["LIGHTBOX_HOME"] = home.path
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let kilobytes = Int((try String(contentsOfFile: report, encoding: .utf8)).split(separator: "\n").last ?? "") ?? -1
        return (process.terminationStatus, kilobytes / 1024)
    }

    @Test func hostileGeometryAndLengthsCostNoMemory() throws {
        let home = TemporaryFolder("hostile-memory"), folder = TemporaryFolder("hostile-files")
        var files: [String] = []
        for (name, frames) in [("overflow", 2_147_483_647), ("limit", 1000)] {
            try Fixtures.writeHugeGeometry(frames: frames, to: folder.file("\(name).dcm"))
            files.append(folder.file("\(name).dcm"))
        }
        try Fixtures.write(Fixtures.header(rows: 64, columns: 64), to: folder.file("valid.dcm"))
        let data = try Data(contentsOf: URL(fileURLWithPath: folder.file("valid.dcm")))
        let marker = Data([0xE0, 0x7F, 0x10, 0x00, 0x4F, 0x57, 0x00, 0x00])
        let position = try #require(data.range(of: marker)).upperBound
        for length: UInt32 in [0xFFFF_FFF0, 0x7FFF_FFFF, 0x0010_0000] {
            var patched = data
            withUnsafeBytes(of: length.littleEndian) { patched.replaceSubrange(position..<(position + 4), with: $0) }
            let path = folder.file("length-\(length).dcm")
            try patched.write(to: URL(fileURLWithPath: path))
            files.append(path)
        }
        for file in files {
            let (status, megabytes) = try Self.measured(["info", file], home: home)
            #expect(status == 1, "\(file) was accepted")
            #expect(megabytes < 200, "\(file): \(megabytes) MB")
        }
        // Control: a genuine 4,096 × 4,096 image makes the process visibly larger (64 MiB of floats).
        try Fixtures.write(Fixtures.header(rows: 4096, columns: 4096), to: folder.file("big.dcm"))
        let baseline = try Self.measured(["info", folder.file("valid.dcm")], home: home)
        let big = try Self.measured(["info", folder.file("big.dcm")], home: home)
        #expect(baseline.status == 0 && big.status == 0)
        #expect(big.megabytes - baseline.megabytes > 60, "the measurement sees memory: \(baseline.megabytes) → \(big.megabytes) MB")
    }
}
