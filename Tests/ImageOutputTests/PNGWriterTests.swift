import Foundation
import ImageOutput
import LightboxCore
import Testing

struct PNGWriterTests {
    @Test func writesAndReadsBackExactly() throws {
        let path = NSTemporaryDirectory() + "lightbox-png-\(UUID().uuidString).png"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let pixels: [UInt8] = (0..<(7 * 5 * 3)).map { UInt8(($0 * 13) % 256) }
        let image = RGBImage(width: 7, height: 5, pixels: pixels)
        try PNGWriter.write(image, to: path)
        let header = try Data(contentsOf: URL(fileURLWithPath: path)).prefix(8)
        #expect(Array(header) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(try PNGWriter.read(path) == image)
    }

    @Test func unwritablePathIsAnError() {
        let image = RGBImage(width: 1, height: 1, pixels: [0, 0, 0])
        #expect(throws: PNGWriter.WriteError.self) { try PNGWriter.write(image, to: "/nonexistent-folder/x.png") }
    }
}
