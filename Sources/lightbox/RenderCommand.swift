import ArgumentParser
import DicomReading
import Foundation
import ImageOutput
import LightboxCore
import TerminalUI

/// `lightbox render FILE|DIR`: one slice to the terminal as half blocks, or to a PNG.
struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render one slice to the terminal (24-bit half blocks) or to a PNG file.",
        discussion: "For a folder, the first series of the first study is used. Block-character images are far below diagnostic resolution.")

    @Argument(help: "A DICOM file, or a folder (its first study).")
    var source: String

    @Option(help: "Slice (or frame) number, 1 = first.")
    var slice: Int = 1

    // Unconditional: "-600,1500" after a space is the value, not an unknown option.
    @Option(parsing: .unconditional, help: "Window: a preset (lung, mediastinum, bone, brain, abdomen, liver), 'auto', or C,W in modality units (HU for CT).")
    var window: String?

    @Option(help: "Write a PNG here instead of drawing to the terminal.")
    var png: String?

    @Option(help: "Width in terminal cells (default: the terminal's).")
    var cols: Int?

    @Option(help: "Height in terminal cells (default: the terminal's, less two lines).")
    var rows: Int?

    func validate() throws {
        if slice < 1 { throw ValidationError("--slice counts from 1") }
        if let cols, cols < 1 { throw ValidationError("--cols must be at least 1") }
        if let rows, rows < 1 { throw ValidationError("--rows must be at least 1") }
    }

    func run() throws {
        let slices = try resolveSlices()
        guard slice <= slices.count else {
            CLIFailure("\(source): slice \(slice) requested, the series has \(slices.count)").exit()
        }
        let chosen = slices[slice - 1]
        let image: DecodedImage
        do {
            image = try DicomFile.open(chosen.key.path).decode(frames: chosen.key.frame..<(chosen.key.frame + 1))
        } catch {
            CLIFailure(error.description).exit()
        }
        let chosenWindow = try WindowChoice.resolve(window, for: image, frame: 0)
        if let png {
            let size: (width: Int, height: Int)? = (cols != nil || rows != nil)
                ? GridFit.fitCells(width: image.width, height: image.height, pixelAspect: image.header.pixelAspectRatio,
                                   columns: cols ?? 80, rows: rows ?? 24)
                : nil
            let picture = SliceRenderer.render(image, window: chosenWindow, targetWidth: size?.width, targetHeight: size?.height)
            do { try PNGWriter.write(picture, to: png) } catch { CLIFailure("\(error)").exit() }
            return
        }
        let terminal = TerminalSize.current()
        let text = FrameRendering.halfBlocks(image, window: chosenWindow, columns: cols ?? terminal.columns,
                                             rows: rows ?? max(terminal.rows - 2, 1))
        CLI.write(text)
    }

    private func resolveSlices() throws -> [SliceEntry] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
            CLIFailure("\(source): no such file or folder").exit()
        }
        if isDirectory.boolValue {
            let scanned: [Study]
            do { scanned = try CLI.scan(source, quiet: true).studies } catch let failure as CLIFailure { failure.exit() }
            guard let series = scanned.first?.series.first else { CLIFailure("\(source): no images found").exit() }
            return series.slices
        }
        let header: ImageHeader
        do { header = try DicomFile.open(source).header() } catch { CLIFailure(error.description).exit() }
        return (0..<max(1, header.numberOfFrames)).map { SliceEntry(key: SliceKey(path: source, frame: $0), header: header) }
    }
}

/// The file-to-frame path shared by `render`, the pre-reviewer and the benchmark.
enum FrameRendering {
    /// Window, fit to `columns` × `rows` cells keeping the physical aspect, area-average, half blocks.
    static func halfBlocks(_ image: DecodedImage, window: Window, columns: Int, rows: Int) -> String {
        let size = GridFit.fitCells(width: image.width, height: image.height, pixelAspect: image.header.pixelAspectRatio,
                                    columns: columns, rows: rows)
        let picture = SliceRenderer.render(image, window: window, targetWidth: size.width, targetHeight: size.height)
        return HalfBlockRaster.ansi24(picture)
    }
}
