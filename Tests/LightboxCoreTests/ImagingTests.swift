import LightboxCore
import Testing

struct WindowTests {
    @Test func linearVOIFunction() {
        let window = Window(center: 40, width: 400)
        #expect(window.normalized(-1000) == 0)
        #expect(window.normalized(1000) == 1)
        #expect(abs(window.normalized(39.5) - 0.5) < 1e-6)
        #expect(window.normalized(-159) < window.normalized(0))
    }

    @Test func parsing() {
        #expect(Window(parsing: "-600,1500") == Window(center: -600, width: 1500))
        #expect(Window(parsing: " 40 , 80 ") == Window(center: 40, width: 80))
        #expect(Window(parsing: "40") == nil)
        #expect(Window(parsing: "40,-3") == nil)
    }

    @Test func ctPresetsInKeyOrder() {
        #expect(WindowPreset.presets(for: "CT") == [.lung, .mediastinum, .bone, .brain, .abdomen, .liver])
        #expect(WindowPreset.presets(for: "MR").isEmpty)
        #expect(WindowPreset.lung.window == Window(center: -600, width: 1500))
    }

    @Test func initialWindowPrefersStoredThenPercentiles() {
        var header = ImageHeader()
        header.modality = "MR"
        let values: [Float] = (0..<1000).map { Float($0) }
        let percentile = WindowPreset.initialWindow(for: DecodedImage(width: 100, height: 10, channels: 1, frames: 1, values: values, header: header))
        #expect(abs(percentile.center - 499.5) < 1)
        #expect(abs(percentile.width - 989) < 2)
        header.windowCenters = [300]; header.windowWidths = [200]
        let stored = WindowPreset.initialWindow(for: DecodedImage(width: 100, height: 10, channels: 1, frames: 1, values: values, header: header))
        #expect(stored == Window(center: 300, width: 200))
    }

    @Test func monochrome1StoredWindowAppliesToModalityValuesAndEqualsTheSameWindowGivenExplicitly() {
        var header = ImageHeader()
        header.modality = "DX"
        header.photometricInterpretation = "MONOCHROME1"
        header.bitsStored = 15
        header.windowCenters = [15000]; header.windowWidths = [30000]
        let values: [Float] = (0..<64).map { Float($0) * 500 }
        let image = DecodedImage(width: 8, height: 8, channels: 1, frames: 1, values: values, header: header)
        let automatic = WindowPreset.initialWindow(for: image)
        #expect(automatic == Window(center: 15000, width: 30000))
        let explicit = SliceRenderer.render(image, window: Window(center: 15000, width: 30000))
        #expect(SliceRenderer.render(image, window: automatic).pixels == explicit.pixels)
        // Inverted after the window: value 0 is white, 31500 (past the window) black.
        #expect(explicit.pixels[0] == 255)
        #expect(explicit.pixels[63 * 3] == 0)
        // The same values as MONOCHROME2 are the mirror image.
        header.photometricInterpretation = "MONOCHROME2"
        let plain = SliceRenderer.render(DecodedImage(width: 8, height: 8, channels: 1, frames: 1, values: values, header: header),
                                         window: automatic)
        #expect(zip(plain.pixels, explicit.pixels).allSatisfy { Int($0) + Int($1) == 255 })
    }
}

struct ResamplingTests {
    @Test func integerReductionAveragesBlocks() {
        let source: [Float] = [1, 3, 5, 7,
                               1, 3, 5, 7,
                               2, 2, 0, 0,
                               2, 2, 0, 4]
        let reduced = Resampling.areaAverage(source[...], width: 4, height: 4, channels: 1, targetWidth: 2, targetHeight: 2)
        #expect(reduced == [2, 6, 2, 1])
    }

    @Test func fractionalReductionWeighsCoverageAndKeepsTheMean() {
        let source: [Float] = [0, 3, 6]
        let reduced = Resampling.areaAverage(source[...], width: 3, height: 1, channels: 1, targetWidth: 2, targetHeight: 1)
        // Target pixel 0 covers source 0 and half of 1: (0 + 1.5) / 1.5 = 1; pixel 1 likewise 5.
        #expect(abs(reduced[0] - 1) < 1e-5 && abs(reduced[1] - 5) < 1e-5)
        let big: [Float] = (0..<(97 * 61)).map { Float(($0 * 37) % 101) }
        let small = Resampling.areaAverage(big[...], width: 97, height: 61, channels: 1, targetWidth: 23, targetHeight: 17)
        let meanBig = big.reduce(0, +) / Float(big.count), meanSmall = small.reduce(0, +) / Float(small.count)
        #expect(abs(meanBig - meanSmall) < 0.01)
    }

    @Test func coloursAreAveragedPerChannel() {
        let source: [Float] = [1, 0, 0, 0, 1, 0]
        #expect(Resampling.areaAverage(source[...], width: 2, height: 1, channels: 3, targetWidth: 1, targetHeight: 1) == [0.5, 0.5, 0])
    }

    @Test func gridFitKeepsPhysicalAspect() {
        // 512×512 square pixels into 160×48 cells: 96 pixels high limits, 96 wide.
        #expect(GridFit.fitCells(width: 512, height: 512, pixelAspect: 1, columns: 160, rows: 48) == (96, 96))
        // Pixels twice as wide as high: the picture is twice as wide.
        #expect(GridFit.fitCells(width: 100, height: 100, pixelAspect: 2, columns: 160, rows: 48) == (160, 80))
        #expect(GridFit.fit(width: 400, height: 100, pixelAspect: 1, maxWidth: 80, maxHeight: 80) == (80, 20))
    }

    @Test func sliceRendererWindowsThenReduces() {
        var header = ImageHeader()
        header.modality = "CT"
        // A checkerboard of -1000 and +1000: windowed first it averages to mid-grey; averaged
        // first it would become 0 HU, which this window shows as white.
        let values: [Float] = [-1000, 1000, 1000, -1000]
        let image = DecodedImage(width: 2, height: 2, channels: 1, frames: 1, values: values, header: header)
        let picture = SliceRenderer.render(image, window: Window(center: -500, width: 2), targetWidth: 1, targetHeight: 1)
        #expect(picture.pixels == [128, 128, 128])
    }
}

struct SliceOrderingTests {
    func entry(_ path: String, z: Double?, number: Int?) -> InstanceEntry {
        var header = ImageHeader()
        header.instanceNumber = number
        if let z {
            header.imagePositionPatient = [0, 0, z]
            header.imageOrientationPatient = [1, 0, 0, 0, 1, 0]
        }
        return InstanceEntry(path: path, header: header)
    }

    @Test func ordersAlongTheNormalThenByInstanceNumber() {
        let byPosition = SliceOrdering.ordered([entry("a", z: 10, number: 1), entry("b", z: -5, number: 2), entry("c", z: 0, number: 3)])
        #expect(byPosition.map(\.path) == ["b", "c", "a"])
        let byNumber = SliceOrdering.ordered([entry("a", z: 10, number: 3), entry("b", z: nil, number: 1), entry("c", z: 0, number: 2)])
        #expect(byNumber.map(\.path) == ["b", "c", "a"])
    }
}

struct SafeTextTests {
    @Test func controlAndEscapeSequencesBecomeInert() {
        let hostile = "DOE^JOHN\u{1B}]0;owned\u{07}\u{1B}[2J\r\n\u{9B}31m\u{202E}evil"
        let safe = SafeText.sanitize(hostile)
        #expect(!safe.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0.value == 0x202E })
        #expect(safe.hasPrefix("DOE^JOHN\u{FFFD}]0;owned"))
    }

    @Test func personNamesAndMasking() {
        #expect(SafeText.personName("DOE^JOHN^Q") == "DOE, JOHN Q")
        #expect(IdentifierDisplay.masked.show("CANARY^PHI", personName: true) == "•••••")
        #expect(IdentifierDisplay.shown.show("CANARY^PHI", personName: true) == "CANARY, PHI")
    }
}

struct ContactSheetTests {
    @Test func theLayoutMakesTheLargestTilesThatFit() {
        // 100 square slices in 160 × 96 half-block pixels: 16 columns of 9-pixel tiles beat 10 × 10 of 8.
        let layout = ContactSheet.layout(count: 100, imageWidth: 512, imageHeight: 512, pixelAspect: 1, maxWidth: 160, maxHeight: 96,
                                         gutterX: 1, gutterY: 2, evenHeights: true)
        #expect(layout.columns * layout.rows >= 100)
        #expect(layout.width <= 160 && layout.height <= 96)
        #expect(layout.tileHeight % 2 == 0 && layout.gutterY == 2, "tiles stay on whole cells")
        // No other column count gives a larger tile (worked out by brute force here).
        var bestArea = 0
        for columns in 1...100 {
            let rows = (100 + columns - 1) / columns
            let w = (160 - (columns - 1)) / columns
            var h = (96 - (rows - 1) * 2) / rows
            h -= h % 2
            guard w >= 1, h >= 2 else { continue }
            let side = min(w, h - h % 2)
            bestArea = max(bestArea, side * (side - side % 2))
        }
        #expect(layout.tileWidth * layout.tileHeight == bestArea)
    }

    @Test func tilesArePlacedRowAfterRowWithGutters() {
        let red = RGBImage(width: 2, height: 2, pixels: [UInt8](repeating: 200, count: 12))
        let layout = ContactSheet.Layout(columns: 2, rows: 2, tileWidth: 2, tileHeight: 2, gutterX: 1, gutterY: 1)
        let sheet = ContactSheet.compose([red, red, red], layout: layout)
        #expect(sheet.width == 5 && sheet.height == 5)
        #expect(sheet[0, 0].r == 200 && sheet[2, 0].r == 0 && sheet[3, 1].r == 200, "gutter between the first two tiles")
        #expect(sheet[0, 3].r == 200 && sheet[3, 3].r == 0, "the fourth place stays empty")
    }
}

struct ResamplingAgainstBruteForceTests {
    /// The area average worked out pixel by pixel (the overlap area of each source pixel with each
    /// target pixel), to check both orders of the separable passes.
    static func bruteForce(_ values: [Float], width: Int, height: Int, targetWidth: Int, targetHeight: Int) -> [Float] {
        let sx = Double(width) / Double(targetWidth), sy = Double(height) / Double(targetHeight)
        var out = [Float](repeating: 0, count: targetWidth * targetHeight)
        for ty in 0..<targetHeight {
            for tx in 0..<targetWidth {
                let (x0, x1, y0, y1) = (Double(tx) * sx, Double(tx + 1) * sx, Double(ty) * sy, Double(ty + 1) * sy)
                var sum = 0.0, area = 0.0
                for y in Int(y0)..<min(height, Int(y1.rounded(.up))) {
                    let h = min(y1, Double(y + 1)) - max(y0, Double(y))
                    for x in Int(x0)..<min(width, Int(x1.rounded(.up))) {
                        let w = min(x1, Double(x + 1)) - max(x0, Double(x))
                        guard w > 0, h > 0 else { continue }
                        sum += Double(values[y * width + x]) * w * h
                        area += w * h
                    }
                }
                out[ty * targetWidth + tx] = Float(sum / area)
            }
        }
        return out
    }

    @Test("reductions of every shape equal the pixel-by-pixel area average", arguments: [
        (512, 512, 9, 8), (37, 101, 5, 7), (64, 64, 40, 40), (100, 30, 33, 11), (17, 300, 17, 4),
    ])
    func reductions(width: Int, height: Int, targetWidth: Int, targetHeight: Int) {
        var state = UInt64(width * 1000 + height)
        let values = (0..<(width * height)).map { _ -> Float in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float((state >> 40) % 5000) - 1000
        }
        let fast = Resampling.areaAverage(values[...], width: width, height: height, channels: 1, targetWidth: targetWidth, targetHeight: targetHeight)
        let slow = Self.bruteForce(values, width: width, height: height, targetWidth: targetWidth, targetHeight: targetHeight)
        let worst = zip(fast, slow).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst < 0.01, "\(width)×\(height) → \(targetWidth)×\(targetHeight): off by \(worst)")
    }
}
