import LightboxCore
import ReviewApp
import Testing
import TerminalUI
import TestSupport
import Store

/// The viewer on a terminal with pixel graphics: the image as a placed picture over blank
/// cells, cells again under a dialog.
struct PixelGraphicsViewTests {
    let folder = TemporaryFolder("graphics")

    func app(graphics: GraphicsProtocol = .sixel) -> ReviewApplication {
        let capabilities = TerminalCapabilities(colorDepth: .direct, unicode: true, graphics: graphics, cellPixels: CellPixels(width: 6, height: 13))
        let terminal = VirtualTerminal(width: 160, height: 48, capabilities: capabilities)
        let source = InMemoryStudySource(studies: ReviewFixtures.studies(), pixels: ReviewFixtures.pattern)
        let ledger = try? SQLiteDecisionLedger(path: folder.file("ledger-\(graphics.rawValue).sqlite"))
        let app = ReviewApplication(backend: terminal, source: source, heatmaps: FixedHeatmapSource(slices: [3]), decisions: ledger,
                                    theme: .dark, makeRunner: ImmediateEffectRunner.init)
        app.apply(.worklistLoaded(Worklist(studies: ReviewFixtures.studies().map(\.summary))))
        return app
    }

    @Test func theSliceIsPlacedInPixelsOverBlankCells() throws {
        let app = app()
        app.apply(.key(.enter))
        let frame = app.frame()
        let placed = try #require(frame.pictures.first)
        #expect(frame.pictures.count == 1)
        // The image area is 112×45 cells of 6×13 pixels: a square 64×64 slice fits at 582 (bands of 6) by 585.
        #expect(placed.picture.width == 585 && placed.picture.height == 582)
        #expect(placed.cells.width == 98 && placed.cells.height == 45)
        #expect(!frame.textRows.joined().contains("▀"), "no half blocks under the picture")
        // The picture is the slice rendered at that size from its full-resolution values.
        let entry = app.state.currentSlice!
        let image = DecodedImage(width: 64, height: 64, channels: 1, frames: 1, values: ReviewFixtures.pattern(entry.key, entry.header), header: entry.header)
        let expected = SliceRenderer.render(image, window: app.state.viewer!.window!, targetWidth: 585, targetHeight: 582)
        #expect(placed.picture == expected)
        #expect(frame.textRows[46].contains("a accept"))
    }

    @Test func zoomAndProbeChangeThePictureAndTheBarSaysWhere() throws {
        let app = app()
        app.apply(.key(.enter))
        let first = try #require(app.frame().pictures.first)
        app.apply(.key(.character("z")))
        let zoomed = try #require(app.frame().pictures.first)
        #expect(zoomed.key != first.key && zoomed.picture != first.picture)
        app.apply(.key(.character("v")))
        app.apply(.key(.right))
        #expect(app.state.viewer?.probe?.x == 33, "one screen pixel is less than an image pixel: the probe moves by one")
        let frame = app.frame()
        #expect(frame.textRows[46].contains("probe (33, 32) px"), "\(frame.textRows[46])")
        #expect(frame.pictures.first?.key.contains("probe 33,32") == true)
    }

    @Test func aDialogOverTheImageDrawsItInCells() {
        let app = app(graphics: .kitty)
        app.apply(.key(.enter))
        app.apply(.studyAnalysed(StudyResult(studyInstanceUID: "2.25.1", model: "m", modelVersion: "1", probability: 0.4, rawProbability: 0.4,
                                             tier: .review, reason: nil, findings: [], imagesAnalysed: 30, imagesSkipped: 0)))
        app.apply(.key(.character("o")))
        let frame = app.frame()
        #expect(frame.pictures.isEmpty, "the override dialog covers the image: no picture over it")
        #expect(frame.textRows.joined().contains("▀") && frame.textRows.joined().contains("Override the AI result"))
        app.apply(.key(.escape))
        #expect(app.frame().pictures.count == 1, "back in pixels once the dialog closes")
    }
}
