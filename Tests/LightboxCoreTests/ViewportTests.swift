import LightboxCore
import Testing

/// Zoom and pan as a region of the full-resolution slice; rendering and overlays of a region.
struct ViewportTests {
    @Test func zoomStepsThroughTheLevelsAndClamps() {
        var view = Viewport.whole
        #expect(view.region(width: 512, height: 512) == PixelRegion(x: 0, y: 0, width: 512, height: 512))
        let out = view.zoomOut()
        #expect(!out, "1× is the widest")
        let zoomed = view.zoomIn()
        #expect(zoomed && view.zoom == 2)
        #expect(view.region(width: 512, height: 512) == PixelRegion(x: 128, y: 128, width: 256, height: 256), "around the centre")
        view.zoomIn()
        view.zoomIn()
        #expect(view.zoom == 8)
        let closer = view.zoomIn()
        #expect(!closer, "8× is the closest")
        #expect(view.region(width: 512, height: 512) == PixelRegion(x: 224, y: 224, width: 64, height: 64))
        view.zoomOut()
        #expect(view.zoom == 4)
    }

    @Test func panMovesAQuarterViewAndStopsAtTheEdge() {
        var view = Viewport(zoom: 4)
        view.pan(dx: 0.25, dy: 0)
        #expect(view.region(width: 512, height: 512) == PixelRegion(x: 224, y: 192, width: 128, height: 128), "a quarter of a 128-pixel view: 32")
        for _ in 0..<20 { view.pan(dx: 0.25, dy: -0.25) }
        #expect(view.region(width: 512, height: 512) == PixelRegion(x: 384, y: 0, width: 128, height: 128), "clamped at the right and top edges")
        let again = view.pan(dx: 0.25, dy: -0.25)
        #expect(!again, "nothing left to pan")
        var whole = Viewport.whole
        let moved = whole.pan(dx: 0.25, dy: 0)
        #expect(!moved, "at 1× there is nothing to pan")
    }

    @Test func zoomingOutKeepsTheCentreWhereTheImageAllows() {
        var view = Viewport.centred(on: 0.9, 0.1, zoom: 8)
        #expect(view.region(width: 512, height: 512) == PixelRegion(x: 429, y: 19, width: 64, height: 64))
        view.zoomOut()
        #expect(view.region(width: 512, height: 512) == PixelRegion(x: 384, y: 0, width: 128, height: 128), "the centre clamps: the view stays inside")
    }

    @Test func tinyAndHugeImagesGiveRegionsInside() {
        let view = Viewport(zoom: 8)
        #expect(view.region(width: 1, height: 1) == PixelRegion(x: 0, y: 0, width: 1, height: 1), "a 1×1 image at 8× is its one pixel")
        #expect(view.region(width: 10_000, height: 10_000) == PixelRegion(x: 4375, y: 4375, width: 1250, height: 1250))
        #expect(view.region(width: 3, height: 700) == PixelRegion(x: 1, y: 306, width: 1, height: 88))
    }

    @Test func theLevelForABoxLeavesAMargin() {
        #expect(Viewport.level(fitting: 0.05, 0.04) == 8, "a 5%-wide box with half its size around it fits at 8× (12.5%)")
        #expect(Viewport.level(fitting: 0.1, 0.05) == 4)
        #expect(Viewport.level(fitting: 0.3, 0.2) == 2)
        #expect(Viewport.level(fitting: 0.6, 0.2) == 1)
    }

    static func ramp(width: Int, height: Int) -> DecodedImage {
        var header = ImageHeader()
        header.rows = height
        header.columns = width
        header.photometricInterpretation = "MONOCHROME2"
        let values: [Float] = (0..<(width * height)).map { (i: Int) -> Float in Float((i % width) * 3 + (i / width) * 7) }
        return DecodedImage(width: width, height: height, channels: 1, frames: 1, values: values, header: header)
    }

    @Test func aRegionRendersFromTheFullResolutionValues() {
        let image = Self.ramp(width: 64, height: 48)
        let window = Window(center: 200, width: 400)
        let region = PixelRegion(x: 16, y: 8, width: 16, height: 12)
        // The zoomed picture equals rendering a cropped copy of the slice: the region is cut from
        // the decoded values, never from a downsampled picture.
        let cropValues: [Float] = (0..<(16 * 12)).map { (i: Int) -> Float in image.values[(8 + i / 16) * 64 + 16 + i % 16] }
        var header = image.header
        header.rows = 12
        header.columns = 16
        let crop = DecodedImage(width: 16, height: 12, channels: 1, frames: 1, values: cropValues, header: header)
        for size in [(16, 12), (64, 48), (5, 4)] {
            let zoomed = SliceRenderer.render(image, window: window, region: region, targetWidth: size.0, targetHeight: size.1)
            let reference = SliceRenderer.render(crop, window: window, targetWidth: size.0, targetHeight: size.1)
            #expect(zoomed == reference, "region rendered at \(size)")
        }
        // Enlarged 4×: each source pixel becomes a 4×4 block of its own windowed value.
        let big = SliceRenderer.render(image, window: window, region: region, targetWidth: 64, targetHeight: 48)
        let value = image.values[(8 + 2) * 64 + 16 + 3]
        let expected = UInt8(window.normalized(value) * 255 + 0.5)
        #expect(big[3 * 4 + 1, 2 * 4 + 2].r == expected)
    }

    @Test func theOverlayIsCutToTheSameRegion() {
        // A heatmap at a quarter of the slice's resolution, hot in one 4×4-cell square.
        let hot: [Float] = (0..<256).map { (i: Int) -> Float in (4..<8).contains(i % 16) && (8..<12).contains(i / 16) ? 1 : 0 }
        let heatmap = Heatmap(width: 16, height: 16, values: hot)
        // The region holding exactly that square (x 0.25–0.5, y 0.5–0.75), enlarged: hot everywhere inside.
        let inside = heatmap.resampled(region: NormalisedRegion(x: 0.25, y: 0.5, width: 0.25, height: 0.25), width: 32, height: 32)
        #expect(inside[16 * 32 + 16] == 1 && inside[3 * 32 + 3] > 0.5)
        // The region to its left: cold except where bilinear sampling meets the square's edge.
        let left = heatmap.resampled(region: NormalisedRegion(x: 0, y: 0.5, width: 0.25, height: 0.25), width: 32, height: 32)
        #expect(left[16 * 32 + 8] == 0 && left[16 * 32 + 31] > 0)
        // Downsampling a region of many cells averages them.
        let ramp: [Float] = (0..<65536).map { (i: Int) -> Float in Float(i % 256) / 255 }
        let fine = Heatmap(width: 256, height: 256, values: ramp)
        let cut = fine.resampled(region: NormalisedRegion(x: 0.5, y: 0, width: 0.5, height: 1), width: 2, height: 1)
        #expect(abs(cut[0] - Float(128 + 191) / 2 / 255) < 0.01 && abs(cut[1] - Float(192 + 255) / 2 / 255) < 0.01)
        #expect(abs(heatmap.value(atX: 0.375, y: 0.625) - 1) < 1e-6)
        #expect(heatmap.value(atX: 0.05, y: 0.05) == 0)
    }

    @Test func theHottestRegionIsTheBoxOfThePeaksComponent() {
        var values = [Float](repeating: 0, count: 100)
        for (x, y) in [(2, 2), (3, 2), (3, 3)] { values[y * 10 + x] = 0.7 }
        for (x, y) in [(7, 6), (8, 6), (8, 7), (8, 8)] { values[y * 10 + x] = 0.9 }
        let box = Heatmap(width: 10, height: 10, values: values).hottestRegion()
        #expect(box == NormalisedRegion(x: 0.7, y: 0.6, width: 0.2, height: 0.3))
        #expect(Heatmap(width: 2, height: 1, values: [0.2, 0.4]).hottestRegion() == nil)
    }

    @Test func patientPositionsFollowTheImagePlane() {
        var h = ImageHeader()
        h.imagePositionPatient = [-100, -50, 20]
        h.imageOrientationPatient = [1, 0, 0, 0, 1, 0]
        h.pixelSpacing = [0.5, 0.8]  // rows 0.5 mm apart, columns 0.8 mm apart
        #expect(PixelGeometryMath.patientPosition(h, x: 10, y: 4) == [-92, -48, 20])
        // 3 columns and 4 rows: 2.4 mm by 2 mm.
        let d = PixelGeometryMath.inPlaneDistance(h, from: (0, 0), to: (3, 4))!
        #expect(abs(d - (2.4 * 2.4 + 2.0 * 2.0).squareRoot()) < 1e-12)
        h.imageOrientationPatient = [0, 1, 0, 0, 0, -1]  // sagittal
        #expect(PixelGeometryMath.patientPosition(h, x: 10, y: 4) == [-100, -42, 18])
        h.pixelSpacing = nil
        #expect(PixelGeometryMath.patientPosition(h, x: 1, y: 1) == nil)
        #expect(PixelGeometryMath.inPlaneDistance(h, from: (0, 0), to: (1, 1)) == nil)
    }
}
