public import LightboxCore
internal import CPNG
import Foundation

/// Writes PNG files through libpng's simplified API (errors come back in a struct, no longjmp).
public enum PNGWriter {
    /// A PNG that could not be written.
    public struct WriteError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "\(path): cannot write PNG: \(reason)" }
    }

    /// Writes `image` as an 8-bit RGB PNG at `path`.
    public static func write(_ image: RGBImage, to path: String) throws {
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        png.width = UInt32(image.width)
        png.height = UInt32(image.height)
        png.format = UInt32(PNG_FORMAT_RGB)
        let ok = image.pixels.withUnsafeBytes { raw in
            png_image_write_to_file(&png, path, 0, raw.baseAddress, Int32(image.width * 3), nil)
        }
        defer { png_image_free(&png) }
        guard ok != 0 else {
            let message = withUnsafeBytes(of: png.message) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            throw WriteError(path: path, reason: message.isEmpty ? "libpng failed" : message)
        }
    }

    /// Reads an 8-bit RGB PNG back (for tests and snapshot comparisons).
    public static func read(_ path: String) throws -> RGBImage {
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_file(&png, path) != 0 else {
            throw WriteError(path: path, reason: "not a readable PNG")
        }
        png.format = UInt32(PNG_FORMAT_RGB)
        var pixels = [UInt8](repeating: 0, count: Int(png.width) * Int(png.height) * 3)
        let ok = pixels.withUnsafeMutableBytes { raw in
            png_image_finish_read(&png, nil, raw.baseAddress, Int32(png.width * 3), nil)
        }
        png_image_free(&png)
        guard ok != 0 else { throw WriteError(path: path, reason: "PNG decode failed") }
        return RGBImage(width: Int(png.width), height: Int(png.height), pixels: pixels)
    }
}
