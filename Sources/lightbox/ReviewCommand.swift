import ArgumentParser
import DicomReading
import Foundation
import LightboxCore
import TerminalUI

/// `lightbox [SOURCE]`: until the interactive reviewer lands, scans the source and draws the
/// first slice of each study.
struct Review: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Open the worklist of a source (default: the bundled samples).")

    @Argument(help: "A folder of DICOM files (default: the bundled samples/).")
    var source: String?

    @Flag(name: .customLong("show-identifiers"), help: "Show patient identifiers (masked by default).")
    var showIdentifiers = false

    func run() throws {
        guard let folder = source ?? CLI.defaultSource() else {
            CLIFailure("no source given and no samples/ folder found; run `lightbox generate-samples --output samples` or pass a folder").exit()
        }
        let result: (studies: [Study], summary: FolderIndexer.Summary)
        do { result = try CLI.scan(folder) } catch let failure as CLIFailure { failure.exit() }
        let terminal = TerminalSize.current()
        let identifiers: IdentifierDisplay = showIdentifiers ? .shown : .masked
        CLI.write("Lightbox — \(result.summary.studies) studies, \(result.summary.images) images in \(SafeText.sanitize(folder))\n")
        CLI.write("Research and triage tool; block-character images are far below diagnostic resolution.\n\n")
        for study in result.studies {
            guard let series = study.series.first, let first = SliceReference.slices(of: series).first else { continue }
            let h = study.header
            CLI.write("▌ \(SafeText.sanitize(h.modality))  \(SafeText.sanitize(h.studyDate))  \(identifiers.show(h.patientName, personName: true))  \(SafeText.sanitize(h.studyDescription))  — \(study.imageCount) images\n")
            do {
                let image = try DicomFile.open(first.path).decode(frames: first.frame..<(first.frame + 1))
                let window = WindowPreset.initialWindow(for: image)
                CLI.write(FrameRendering.halfBlocks(image, window: window, columns: min(terminal.columns, 100),
                                                   rows: max(min(terminal.rows - 4, 22), 4)))
            } catch {
                CLI.printError(error.description)
            }
            CLI.write("\n")
        }
        let errors = result.summary.errorsByReason.values.reduce(0, +)
        if errors > 0 { CLI.write("\(errors) file(s) could not be read; `lightbox scan \(folder)` lists them.\n") }
    }
}
