import LightboxCore
import Testing

struct OverlayTests {
    let grey = RGBImage(width: 4, height: 4, pixels: [UInt8](repeating: 100, count: 48))

    @Test func blendsOnlyWhereTheHeatmapIsAboveTheFloorAndNeverTouchesTheInput() {
        let heat = Heatmap(width: 2, height: 2, values: [0, 0, 0, 1])
        let blended = OverlayBlender.blend(grey, heatmap: heat, colormap: .inferno, opacity: 1, contourOnly: false)
        #expect(blended[0, 0] == (100, 100, 100))
        let hot = Colormap.inferno.colour(1)
        #expect(blended[3, 3] == hot)
        #expect(grey.pixels.allSatisfy { $0 == 100 }, "the image itself is never changed")
        let half = OverlayBlender.blend(grey, heatmap: heat, colormap: .inferno, opacity: 0.5, contourOnly: false)
        #expect(half[3, 3].0 == UInt8((100 * 0.5 + Float(hot.0) * 0.5).rounded()))
    }

    @Test func contourDrawsOnlyTheEdgeOfTheRegion() {
        let size = 9
        let values: [Float] = (0..<(size * size)).map { i in (2...6).contains(i % size) && (2...6).contains(i / size) ? 1 : 0 }
        let picture = RGBImage(width: size, height: size, pixels: [UInt8](repeating: 50, count: size * size * 3))
        let contour = OverlayBlender.blend(picture, heatmap: Heatmap(width: size, height: size, values: values), colormap: .viridis, opacity: 0.5, contourOnly: true)
        #expect(contour[2, 2] != (50, 50, 50))
        #expect(contour[4, 4] == (50, 50, 50), "the inside stays clear")
        #expect(contour[0, 0] == (50, 50, 50))
    }

    @Test func colormapsRunDarkToLightAndAreNamed() {
        for map in [Colormap.inferno, .viridis, .magma, .cividis] {
            let low = map.colour(0), high = map.colour(1)
            #expect(Int(low.0) + Int(low.1) + Int(low.2) < Int(high.0) + Int(high.1) + Int(high.2))
            #expect(Colormap.named(map.name) == map)
        }
        #expect(Colormap.named("jet") == nil)
    }

    @Test func heatmapValuesAreClamped() {
        #expect(Heatmap(width: 3, height: 1, values: [-1, 2, .nan]).values == [0, 1, 0])
    }
}
