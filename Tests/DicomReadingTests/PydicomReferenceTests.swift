import DicomReading
import Foundation
import Testing
import TestSupport

/// pydicom's own real-world test files, decoded by pydicom (with pylibjpeg-openjpeg for JPEG 2000)
/// in a throwaway virtual environment (`make test` prepares it and sets
/// LIGHTBOX_PYDICOM_REFERENCE): stored values must be equal for every file both decode; a file
/// pydicom decodes and Lightbox refuses fails the test unless its refusal is one of the few listed
/// below with the reason; every other file gives a typed error naming it, never a crash.
struct PydicomReferenceTests {
    struct Entry: Decodable {
        let path: String
        let status: String
        let shape: [Int]?
        let values: String?
        let rgb: String?
        let error: String?
    }

    static func manifest(_ folder: String) throws -> [Entry] {
        try JSONDecoder().decode([Entry].self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/manifest.json")))
    }

    static func floats(_ folder: String, _ name: String) throws -> [Float] {
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))
        return data.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }.map { Float($0) }
    }

    static let folder = ProcessInfo.processInfo.environment["LIGHTBOX_PYDICOM_REFERENCE"]

    /// Files pydicom decodes that Lightbox refuses on purpose, each with the reason it gives.
    static let knownRefusals: [String: String] = [:]

    @Test(.enabled(if: folder != nil, "run through `make test`, which prepares the pydicom reference"))
    func storedValuesEqualPydicom() throws {
        let folder = try #require(Self.folder)
        let manifest = try Self.manifest(folder)
        #expect(manifest.count > 50, "pydicom ships far more test files than \(manifest.count)")
        var compared = 0, mismatched: [String] = [], lightboxOnly = 0, typedErrors = 0, refused: [String] = []
        for entry in manifest {
            let name = (entry.path as NSString).lastPathComponent
            let result: (values: [Float], geometry: PixelGeometry)
            do {
                result = try DicomFile.open(entry.path).storedValues()
            } catch {
                #expect(error.path == entry.path)
                typedErrors += 1
                if entry.status == "ok", Self.knownRefusals[name] == nil {
                    refused.append("\(name): \(error.reason.text)")
                }
                continue
            }
            guard entry.status == "ok", let values = entry.values else {
                lightboxOnly += 1
                continue
            }
            let reference = try Self.floats(folder, values)
            compared += 1
            if reference != result.values {
                let differing = zip(reference, result.values).filter { $0 != $1 }.count
                mismatched.append("\(name) (\(reference.count) vs \(result.values.count) values, \(differing) differ)")
            }
        }
        #expect(mismatched.isEmpty, "differs from pydicom: \(mismatched.joined(separator: "; "))")
        #expect(refused.isEmpty, "pydicom decodes, Lightbox refuses: \(refused.joined(separator: "; "))")
        #expect(compared >= 60, "only \(compared) files compared")
        print("pydicom reference: \(compared) files equal, \(lightboxOnly) decoded by Lightbox only, \(typedErrors) typed errors (\(Self.knownRefusals.count) known refusals), \(manifest.count) files")
    }

    @Test("palette colour equals pydicom's apply_color_lut", .enabled(if: folder != nil, "run through `make test`"))
    func paletteColourEqualsPydicom() throws {
        let folder = try #require(Self.folder)
        let palettes = try Self.manifest(folder).filter { $0.rgb != nil }
        // pydicom's 8-bit example, and generated 8- and 16-bit multi-frame ones.
        #expect(palettes.count >= 3)
        for entry in palettes {
            let reference = try Self.floats(folder, try #require(entry.rgb))
            let image = try DicomFile.open(entry.path).decode()
            #expect(image.channels == 3 && image.header.photometricInterpretation == "RGB")
            #expect(image.values.count == reference.count, "\(entry.path)")
            let worst = zip(image.values, reference).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst < 1e-3, "\(entry.path): largest difference \(worst)")
        }
    }

    @Test("multi-frame objects decode frame by frame to the same values", .enabled(if: folder != nil, "run through `make test`"))
    func framesOneByOneEqualTheReference() throws {
        let folder = try #require(Self.folder)
        var checked: [String] = []
        for entry in try Self.manifest(folder) where entry.status == "ok" {
            guard let values = entry.values, let file = try? DicomFile.open(entry.path),
                  let whole = try? file.storedValues(), whole.geometry.frames > 1 else { continue }
            let reference = try Self.floats(folder, values)
            let size = whole.geometry.samplesPerFrame
            // Last frame first: a frame is found without decoding the ones before it.
            for frame in (0..<whole.geometry.frames).reversed() {
                let single = try DicomFile.open(entry.path).storedValues(frames: frame..<(frame + 1)).values
                #expect(single == Array(reference[(frame * size)..<((frame + 1) * size)]), "\(entry.path) frame \(frame + 1)")
            }
            checked.append((entry.path as NSString).lastPathComponent)
        }
        #expect(checked.contains("j2k_lossless_5frames.dcm") && checked.contains("j2k_lossy_3frames.dcm"), "\(checked)")
        #expect(checked.count >= 6, "only \(checked) are multi-frame")
    }

    @Test("JPEG 2000 cut short or corrupted is a typed error, never a crash", .enabled(if: folder != nil, "run through `make test`"))
    func brokenJpeg2000() throws {
        let folder = try #require(Self.folder)
        let source = try #require(try Self.manifest(folder).first { $0.path.hasSuffix("j2k_lossless_5frames.dcm") }).path
        let original = try Data(contentsOf: URL(fileURLWithPath: source))
        let scratch = TemporaryFolder("j2k-broken")
        var outcomes: [String: Int] = [:]
        // Cut at 60 offsets through the codestreams, and flip bytes inside them.
        let cuts = stride(from: original.count / 3, to: original.count, by: max(1, original.count / 90))
        for (index, cut) in cuts.enumerated() {
            var variants = [original.prefix(cut)]
            var flipped = original
            flipped[cut] ^= 0xA5
            flipped[min(cut + 17, original.count - 1)] ^= 0x3C
            variants.append(flipped[...])
            for (kind, bytes) in variants.enumerated() {
                let path = scratch.file("\(index)-\(kind).dcm")
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                do {
                    _ = try DicomFile.open(path).decode()
                    outcomes["decoded", default: 0] += 1
                } catch {
                    #expect(error.path == path)
                    outcomes[error.reason.key, default: 0] += 1
                }
            }
        }
        #expect(outcomes.values.reduce(0, +) >= 100)
        #expect(outcomes.keys.contains { $0 != "decoded" }, "no variant failed: \(outcomes)")
    }

    @Test("text in other character sets becomes UTF-8", .enabled(if: folder != nil, "run through `make test`"), arguments: [
        ("chrFren.dcm", "Buc^Jérôme"), ("chrGerm.dcm", "Äneas^Rüdiger"), ("chrRuss.dcm", "Люкceмбypг"), ("chrGreek.dcm", "Διονυσιος"),
    ])
    func characterSets(file: String, name: String) throws {
        let folder = try #require(Self.folder)
        let manifest = try JSONDecoder().decode([Entry].self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/manifest.json")))
        // pydicom keeps them beside its test files: …/pydicom/data/charset_files/.
        let testFile = try #require(manifest.first { $0.path.contains("/pydicom/data/test_files/") }?.path)
        let data = testFile.components(separatedBy: "/pydicom/data/test_files/")[0] + "/pydicom/data/"
        let path = data + "charset_files/" + file
        #expect(try DicomFile.open(path).header().patientName == name)
    }
}
