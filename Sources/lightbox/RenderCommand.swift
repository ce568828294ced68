import ArgumentParser
import DicomReading
import Foundation
import LightboxServices
import ImageOutput
import LightboxCore
import TerminalUI

/// `lightbox render FILE|DIR`: one slice to the terminal as half blocks, or to a PNG.
struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render one slice to the terminal (24-bit half blocks) or to a PNG file.",
        discussion: "For a folder, the first series of the first study is used; --grid draws all of its slices (or a file's frames) as a contact sheet. Block-character images are far below diagnostic resolution.")

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

    @Flag(help: "Draw every slice of the series (or every frame of the file) as a contact sheet.")
    var grid = false

    @Option(help: "Cell symbols: half (the default), quad (2×2) or sextant (2×3; needs a font with Unicode 13 sextants).")
    var symbols: String?

    func validate() throws {
        if slice < 1 { throw ValidationError("--slice counts from 1") }
        if let cols, cols < 1 { throw ValidationError("--cols must be at least 1") }
        if let rows, rows < 1 { throw ValidationError("--rows must be at least 1") }
        if let symbols, ImageCellMode.symbolNames[symbols] == nil { throw ValidationError("--symbols must be half, quad or sextant, not '\(symbols)'") }
        if symbols != nil && (grid || png != nil) { throw ValidationError("--symbols draws one slice in the terminal; not with --grid or --png") }
    }

    func run() throws {
        let slices = try resolveSlices()
        if grid { return try drawGrid(slices) }
        guard slice <= slices.count else {
            throw CLIFailure("\(source): slice \(slice) requested, the series has \(slices.count)")
        }
        let chosen = slices[slice - 1]
        let image: DecodedImage
        do {
            image = try DicomFile.open(chosen.key.path).decode(frames: chosen.key.frame..<(chosen.key.frame + 1))
        } catch {
            throw CLIFailure(error.description)
        }
        let chosenWindow: Window
        do { chosenWindow = try WindowChoice.resolve(window, for: image, frame: 0) } catch { throw ValidationError(error.description) }
        if let png {
            let size: (width: Int, height: Int)? = (cols != nil || rows != nil)
                ? GridFit.fitCells(width: image.width, height: image.height, pixelAspect: image.header.pixelAspectRatio,
                                   columns: cols ?? 80, rows: rows ?? 24)
                : nil
            let picture = SliceRenderer.render(image, window: chosenWindow, targetWidth: size?.width, targetHeight: size?.height)
            do { try PNGWriter.write(picture, to: png) } catch { throw CLIFailure("\(error)") }
            return
        }
        let terminal = TerminalSize.current()
        let text = FrameRendering.cells(image, window: chosenWindow, columns: cols ?? terminal.columns,
                                        rows: rows ?? max(terminal.rows - 2, 1), mode: ImageCellMode.symbolNames[symbols ?? "half"] ?? .halfBlock)
        CLI.write(text)
    }

    /// The whole series: decoded on every core, one window for all (the first image's own, or --window).
    private func drawGrid(_ slices: [SliceEntry]) throws {
        guard let first = slices.first else { throw CLIFailure("\(source): no images found") }
        @Sendable func decode(_ entry: SliceEntry) throws -> DecodedImage {
            do { return try DicomFile.open(entry.key.path).decode(frames: entry.key.frame..<(entry.key.frame + 1)) } catch {
                throw CLIFailure(error.description)
            }
        }
        let firstImage: DecodedImage
        firstImage = try decode(first)
        let chosenWindow: Window
        do { chosenWindow = try WindowChoice.resolve(window, for: firstImage, frame: 0) } catch { throw ValidationError(error.description) }
        let terminal = TerminalSize.current()
        let cells = png == nil || cols != nil || rows != nil
        let maxWidth = cells ? (cols ?? terminal.columns) : 1600
        let maxHeight = cells ? 2 * (rows ?? max(terminal.rows - 2, 1)) : 1600
        let sheet: RGBImage
        do {
            sheet = try FrameRendering.contactSheet(count: slices.count, first: firstImage, window: chosenWindow, maxWidth: maxWidth,
                                                    maxHeight: maxHeight, cells: cells, threads: ProcessInfo.processInfo.activeProcessorCount) {
                try decode(slices[$0])
            }
        }
        if let png {
            do { try PNGWriter.write(sheet, to: png) } catch { throw CLIFailure("\(error)") }
            return
        }
        CLI.write(HalfBlockRaster.ansi24(sheet))
    }

    private func resolveSlices() throws -> [SliceEntry] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
            throw CLIFailure("\(source): no such file or folder")
        }
        if isDirectory.boolValue {
            let scanned: [Study]
            scanned = try CLI.scan(source, quiet: true).studies
            guard let series = scanned.first?.series.first else { throw CLIFailure("\(source): no images found") }
            return series.slices
        }
        let header: ImageHeader
        do { header = try DicomFile.open(source).header() } catch { throw CLIFailure(error.description) }
        return (0..<max(1, header.numberOfFrames)).map { SliceEntry(key: SliceKey(path: source, frame: $0), header: header) }
    }
}

