import DicomReading
import Foundation
import LightboxCore
import LightboxServices
import NcursesTerminal
import ReviewApp
import TerminalUI

/// The picture's figures on a 300-slice 512×512 CT at 160×48 cells: frame time while scrolling at
/// 1×, 4× and 8× zoom (warm and cold), the picture's error against the full-resolution window and
/// the frame time for each symbol mode, and the bytes written per frame for cells, Kitty and Sixel.
struct PictureBenchmark {
    let folder: String

    func run() throws {
        let ct = folder + "/ct300"
        try Benchmark.writeSeries(to: ct, count: 300, perSeries: 300)
        let reviewer = ReviewerBenchmark(folder: folder, repeats: 1)
        var lines = ["Lightbox picture benchmark — \(ProcessInfo.processInfo.activeProcessorCount) cores, 300-slice 512×512 CT, 160×48 cells"]
        for zoom in [1, 4, 8] {
            for warm in [true, false] {
                let app = try reviewer.openApp(ct, width: 160, height: 48)
                for _ in 0..<[1, 4, 8].firstIndex(of: zoom)! { app.apply(.key(.character("z"))) }
                let times = try steps(app, warm: warm)
                lines.append(String(format: "zoom %d×, %@ cache: frame while scrolling (median / p95) %6.2f / %6.2f ms", zoom, warm ? "warm" : "cold",
                                    Benchmark.percentile(times, 0.5), Benchmark.percentile(times, 0.95)))
            }
        }
        // Each symbol mode: its picture against the window of the full-resolution slice, both on
        // one grid of 2×6 points a cell (the least common multiple of the modes' pixels).
        let files = try FileManager.default.contentsOfDirectory(atPath: ct).filter { $0.hasSuffix(".dcm") }.sorted()
        let image = try DicomFile.open(ct + "/" + files[150]).decode()
        let window = WindowPreset.initialWindow(for: image)
        let columns = 96, rows = 48
        let reference = SliceRenderer.render(image, window: window, targetWidth: columns * 2, targetHeight: rows * 6)
        for mode in [ImageCellMode.halfBlock, .quadrant, .sextant] {
            let picture = SliceRenderer.render(image, window: window, targetWidth: columns * mode.pixelsPerColumn, targetHeight: rows * mode.pixelsPerRow)
            let shown = mode == .halfBlock ? SymbolRaster.reconstruct(halfBlocks: picture, subColumns: 2, subRows: 6)
                : SymbolRaster.reconstruct(SymbolRaster.cells(picture, mode: mode), mode: mode, subColumns: 2, subRows: 6)
            let error = zip(shown.pixels, reference.pixels).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }
            let app = try reviewer.openApp(ct, width: 160, height: 48, symbols: mode)
            let times = try steps(app, warm: true)
            lines.append(String(format: "%@ cells: mean error %.2f (0–255) against the full-resolution window on a 2×6-per-cell grid; frame (median / p95) %6.2f / %6.2f ms",
                                mode.rawValue, Double(error) / Double(reference.pixels.count), Benchmark.percentile(times, 0.5), Benchmark.percentile(times, 0.95)))
        }
        let cell = CellPixels(width: 10, height: 20)
        let runs: [(String, GraphicsDetection?, ImageCellMode)] = [
            ("cells (half blocks, xterm-direct)", nil, .halfBlock),
            ("cells (sextants, xterm-direct)", nil, .sextant),
            ("Kitty (10×20-pixel cells)", GraphicsDetection(protocolInUse: .kitty, cellPixels: cell, colourRegisters: 256, reason: "benchmark"), .halfBlock),
            ("Sixel (10×20-pixel cells, 256 registers)", GraphicsDetection(protocolInUse: .sixel, cellPixels: cell, colourRegisters: 256, reason: "benchmark"), .halfBlock),
        ]
        for (name, graphics, symbols) in runs {
            var times: [Double] = []
            let bytes = try reviewer.bytesPerStep(ct, terminalName: "xterm-direct", width: 160, height: 48, graphics: graphics, symbols: symbols,
                                                  frameTimes: &times)
            lines.append(String(format: "%@: bytes written per frame while scrolling (median / max) %.0f / %.0f; key to frame written (median / p95) %.1f / %.1f ms",
                                name, Benchmark.percentile(bytes, 0.5), bytes.max() ?? 0, Benchmark.percentile(times, 0.5), Benchmark.percentile(times, 0.95)))
        }
        let sixelTimes = try encodeTimes(.sixel), kittyTimes = try encodeTimes(.kitty)
        lines.append(String(format: "encoding one 1,100×900 grey picture (median): Sixel %.1f ms, Kitty (base64, not deflated) %.1f ms", Benchmark.percentile(sixelTimes, 0.5),
                            Benchmark.percentile(kittyTimes, 0.5)))
        CLI.write(lines.joined(separator: "\n") + "\n")
    }

    /// Milliseconds from a key to a finished frame. Warm: the visited slices decoded beforehand;
    /// cold: jumps of 10 past what prefetching decoded.
    func steps(_ app: ReviewApplication, warm: Bool) throws -> [Double] {
        if warm {
            for _ in 0..<60 { app.apply(.key(.down)); app.awaitSlice(seconds: 10) }
            app.apply(.key(.home)); app.awaitSlice(seconds: 10)
        }
        var times: [Double] = []
        for step in 0..<(warm ? 60 : 25) {
            let start = DispatchTime.now()
            app.apply(.key(warm ? (step < 30 ? .down : .up) : .character("}")))
            app.awaitSlice(seconds: 10)
            _ = app.frame()
            times.append(Benchmark.milliseconds(since: start))
        }
        return times
    }

    func encodeTimes(_ graphics: GraphicsProtocol) throws -> [Double] {
        var bytes = [UInt8](repeating: 0, count: 1100 * 900 * 3)
        for i in 0..<(1100 * 900) { let v = UInt8((i % 1100 + i / 1100) % 256); bytes[i * 3] = v; bytes[i * 3 + 1] = v; bytes[i * 3 + 2] = v }
        let picture = PlacedPicture(cells: Rect(x: 0, y: 0, width: 110, height: 45), picture: RGBImage(width: 1100, height: 900, pixels: bytes), key: "b")
        return (0..<5).map { _ in
            let start = DispatchTime.now()
            _ = graphics.encode(picture, id: 1, colourRegisters: 256)
            return Benchmark.milliseconds(since: start)
        }
    }
}
