import DicomReading
import Foundation
import Testing
import TestSupport

/// pydicom's own real-world test files, decoded by pydicom in a throwaway virtual environment
/// (`make test` prepares it and sets LIGHTBOX_PYDICOM_REFERENCE): stored values must be equal
/// for every file both decode; every other file gives a typed error, never a crash.
struct PydicomReferenceTests {
    struct Entry: Decodable {
        let path: String
        let status: String
        let shape: [Int]?
        let values: String?
        let error: String?
    }

    static let folder = ProcessInfo.processInfo.environment["LIGHTBOX_PYDICOM_REFERENCE"]

    @Test(.enabled(if: folder != nil, "run through `make test`, which prepares the pydicom reference"))
    func storedValuesEqualPydicom() throws {
        let folder = try #require(Self.folder)
        let manifest = try JSONDecoder().decode([Entry].self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/manifest.json")))
        #expect(manifest.count > 50, "pydicom ships far more test files than \(manifest.count)")
        var compared = 0, mismatched: [String] = [], lightboxOnly = 0, typedErrors = 0
        for entry in manifest {
            let result: (values: [Double], geometry: PixelGeometry)
            do {
                result = try DicomFile.open(entry.path).storedValues()
            } catch {
                #expect(error.path == entry.path)
                typedErrors += 1
                continue
            }
            guard entry.status == "ok", let name = entry.values else {
                lightboxOnly += 1
                continue
            }
            let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))
            let reference = data.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
            compared += 1
            if reference != result.values {
                mismatched.append("\(entry.path) (\(reference.count) vs \(result.values.count) values)")
            }
        }
        #expect(mismatched.isEmpty, "differs from pydicom: \(mismatched.joined(separator: "; "))")
        #expect(compared >= 40, "only \(compared) files compared")
        print("pydicom reference: \(compared) files equal, \(lightboxOnly) decoded by Lightbox only, \(typedErrors) typed errors, \(manifest.count) files")
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
