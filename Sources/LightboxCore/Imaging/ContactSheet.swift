/// A whole series as a contact sheet: tiles laid out in a grid as large as the box allows,
/// each keeping its physical aspect ratio.
public enum ContactSheet {
    /// Columns × rows of tiles and their size, gutters included in the canvas.
    public struct Layout: Sendable, Equatable {
        public let columns: Int
        public let rows: Int
        public let tileWidth: Int
        public let tileHeight: Int
        public let gutterX: Int
        public let gutterY: Int

        public init(columns: Int, rows: Int, tileWidth: Int, tileHeight: Int, gutterX: Int, gutterY: Int) {
            self.columns = columns
            self.rows = rows
            self.tileWidth = tileWidth
            self.tileHeight = tileHeight
            self.gutterX = gutterX
            self.gutterY = gutterY
        }

        public var width: Int { columns * tileWidth + (columns - 1) * gutterX }
        public var height: Int { rows * tileHeight + (rows - 1) * gutterY }
    }

    /// The layout for `count` images of `imageWidth` × `imageHeight` (pixels `pixelAspect` wide per
    /// unit high) inside `maxWidth` × `maxHeight` pixels that makes the tiles largest. With
    /// `evenHeights` (half-block cells: two pixels a cell) tiles and gutters stay on whole cells.
    public static func layout(count: Int, imageWidth: Int, imageHeight: Int, pixelAspect: Double,
                              maxWidth: Int, maxHeight: Int, gutterX: Int = 1, gutterY: Int = 2, evenHeights: Bool = false) -> Layout {
        var best = Layout(columns: 1, rows: max(1, count), tileWidth: 1, tileHeight: evenHeights ? 2 : 1, gutterX: gutterX, gutterY: gutterY)
        var bestArea = 0
        for columns in 1...max(1, count) {
            let rows = (count + columns - 1) / columns
            let availableWidth = (maxWidth - (columns - 1) * gutterX) / columns
            var availableHeight = (maxHeight - (rows - 1) * gutterY) / rows
            if evenHeights { availableHeight -= availableHeight % 2 }
            guard availableWidth >= 1, availableHeight >= (evenHeights ? 2 : 1) else { continue }
            var fitted = GridFit.fit(width: imageWidth, height: imageHeight, pixelAspect: pixelAspect,
                                     maxWidth: availableWidth, maxHeight: availableHeight)
            if evenHeights { fitted.height = max(2, fitted.height - fitted.height % 2) }
            let area = fitted.width * fitted.height
            if area > bestArea {
                bestArea = area
                best = Layout(columns: columns, rows: rows, tileWidth: fitted.width, tileHeight: fitted.height, gutterX: gutterX, gutterY: gutterY)
            }
        }
        return best
    }

    /// The tiles placed row after row on a black canvas (each at most the layout's tile size).
    public static func compose(_ tiles: [RGBImage], layout: Layout) -> RGBImage {
        let width = layout.width, height = layout.height
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        pixels.withUnsafeMutableBufferPointer { canvas in
            for (index, tile) in tiles.enumerated() {
                let column = index % layout.columns, row = index / layout.columns
                guard row < layout.rows else { break }
                let x0 = column * (layout.tileWidth + layout.gutterX), y0 = row * (layout.tileHeight + layout.gutterY)
                tile.pixels.withUnsafeBufferPointer { source in
                    for y in 0..<min(tile.height, layout.tileHeight) {
                        let count = min(tile.width, layout.tileWidth) * 3
                        let target = ((y0 + y) * width + x0) * 3
                        let from = y * tile.width * 3
                        for i in 0..<count { canvas[target + i] = source[from + i] }
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }
}
