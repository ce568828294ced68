import DicomReading
import Foundation
import LightboxCore
import ReviewApp
import Testing
import TerminalUI
import TestSupport

/// The bundled CT phantom in the viewer: zoomed in at 2× and 4×, zoomed to a finding, and in
/// quadrant and sextant cells, compared with recorded snapshots.
extension ScreenSnapshotTests {
    /// The bundled CT phantom (its files decoded by DCMTK) with its planted-findings overlay.
    func phantom(width: Int, height: Int, symbols: ImageCellMode = .halfBlock) throws -> ReviewApplication {
        let folder = Fixtures.samples + "/chest-ct"
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".dcm") }.sorted()
        var decoded: [String: [Float]] = [:]
        var entries: [InstanceEntry] = []
        for name in files {
            let image = try DicomFile.open(folder + "/" + name).decode()
            decoded[folder + "/" + name] = image.values
            entries.append(InstanceEntry(path: folder + "/" + name, header: image.header))
        }
        let pixels = decoded
        let studies = Study.assemble(entries)
        let terminal = VirtualTerminal(width: width, height: height)
        let app = ReviewApplication(backend: terminal, source: InMemoryStudySource(studies: studies) { key, _ in pixels[key.path]! },
                                    heatmaps: PlantedFindingsHeatmapSource(folder: Fixtures.samples), theme: .dark, symbols: symbols,
                                    makeRunner: ImmediateEffectRunner.init)
        app.apply(.resized(width: width, height: height))
        app.apply(.worklistLoaded(Worklist(studies: studies.map(\.summary))))
        return app
    }

    @Test(arguments: [2, 4])
    func phantomZoomedIn(zoom: Int) throws {
        let app = try phantom(width: 160, height: 48)
        // Slice 17 holds the first nodule (left lung); zoom in, then to the finding.
        keys(app, .enter)
        for _ in 0..<16 { keys(app, .down) }
        let whole = app.frame()
        for _ in 0..<(zoom == 2 ? 1 : 2) { keys(app, .character("z")) }
        let frame = app.frame()
        expectSnapshot(frame, named: "phantom-zoom-\(zoom)x-160x48")
        #expect(frame.textRows.last?.contains("zoom \(zoom)×") == true)
        #expect(frame != whole, "the zoomed picture differs from the whole slice")
        // The picture fills about the same cells: the region keeps the slice's aspect.
        let cells = { (buffer: ScreenBuffer) in buffer.cells.filter { $0.character == "▀" }.count }
        #expect(abs(cells(frame) - cells(whole)) < 200)
        keys(app, .character("f"))
        let finding = app.frame()
        expectSnapshot(finding, named: "phantom-zoom-\(zoom)x-finding-160x48")
        #expect(finding.textRows.last?.contains("following findings") == true)
    }

    @Test(arguments: [ImageCellMode.quadrant, .sextant])
    func phantomInSymbolCells(mode: ImageCellMode) throws {
        let app = try phantom(width: 160, height: 48, symbols: mode)
        keys(app, .enter)
        let frame = app.frame()
        expectSnapshot(frame, named: "phantom-\(mode.rawValue)-160x48")
        let symbols = frame.cells.filter { cell in cell.character.unicodeScalars.first.map { (0x2580...0x259F).contains($0.value) || (0x1FB00...0x1FB3B).contains($0.value) } ?? false }
        #expect(symbols.count > 2000, "the picture is drawn in \(mode) cells")
        if mode == .sextant {
            #expect(symbols.contains { ($0.character.unicodeScalars.first?.value ?? 0) >= 0x1FB00 }, "sextant symbols are used")
        }
        // The picture sits where the half-block picture sits: centred in the image area, the same
        // cells wide (within a cell of rounding).
        let half = try phantom(width: 160, height: 48)
        keys(half, .enter)
        func columns(_ buffer: ScreenBuffer) -> ClosedRange<Int> {
            // Picture cells: a block or sextant symbol, or a uniform cell (a space) in a colour that
            // is not the theme's background.
            let xs = (0..<110).filter { x in (1..<(buffer.height - 2)).contains { y in
                let cell = buffer[x, y]
                let value = cell.character.unicodeScalars.first?.value ?? 0
                return (0x2580...0x259F).contains(value) || (0x1FB00...0x1FB3B).contains(value)
                    || (cell.character == " " && cell.style.background != Theme.dark.textStyle.background)
            } }
            return xs.min()!...xs.max()!
        }
        let here = columns(frame), there = columns(half.frame())
        #expect(abs(here.lowerBound - there.lowerBound) <= 1 && abs(here.upperBound - there.upperBound) <= 1, "\(here) against \(there)")
    }
}
