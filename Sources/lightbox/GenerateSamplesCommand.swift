import ArgumentParser
import DicomReading
import Foundation
import LightboxServices

/// `lightbox generate-samples`: rewrite the bundled synthetic phantoms.
struct GenerateSamples: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate-samples",
        abstract: "Write the bundled sample studies (synthetic phantoms) as real DICOM through DCMTK.")

    @Option(help: "Folder to write (default: the bundled samples/ folder).")
    var output: String?

    func run() throws {
        guard let folder = output ?? CLI.defaultSource() else {
            throw ValidationError("no samples/ folder found: pass --output DIR")
        }
        let written = try SampleGenerator.writeAll(to: folder)
        for study in written {
            CLI.write("\(study.folder): \(study.files) file(s), \(study.transferSyntax), \(study.lesions.count) planted finding(s)\n")
        }
    }
}
