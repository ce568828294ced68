public import LightboxCore

/// The file-to-frame path shared by `render`, the benchmarks and anything else that draws a
/// slice as text: window, fit to the cell grid keeping the physical aspect, area-average, half blocks.
public enum FrameRendering {
    /// One slice in `columns` × `rows` cells.
    public static func halfBlocks(_ image: DecodedImage, window: Window, columns: Int, rows: Int) -> String {
        let size = GridFit.fitCells(width: image.width, height: image.height, pixelAspect: image.header.pixelAspectRatio,
                                    columns: columns, rows: rows)
        let picture = SliceRenderer.render(image, window: window, targetWidth: size.width, targetHeight: size.height)
        return HalfBlockRaster.ansi24(picture)
    }

    /// One slice in `columns` × `rows` cells drawn with `mode`'s symbols (half blocks, quadrants or
    /// sextants), as 24-bit ANSI text.
    public static func cells(_ image: DecodedImage, window: Window, columns: Int, rows: Int, mode: ImageCellMode) -> String {
        guard mode == .quadrant || mode == .sextant else { return halfBlocks(image, window: window, columns: columns, rows: rows) }
        let size = mode.pictureSize(width: image.width, height: image.height, pixelAspect: image.header.pixelAspectRatio,
                                    columns: columns, rows: rows)
        let picture = SliceRenderer.render(image, window: window, targetWidth: size.width, targetHeight: size.height)
        return SymbolRaster.ansi24(SymbolRaster.cells(picture, mode: mode))
    }

    /// A series as a contact sheet in `maxWidth` × `maxHeight` pixels (for cells: columns × 2·rows,
    /// `cells` true), every image under the same window; `image(i)` decodes slice i.
    public static func contactSheet(count: Int, first: DecodedImage, window: Window, maxWidth: Int, maxHeight: Int, cells: Bool,
                                    threads: Int, image: @Sendable (Int) throws -> DecodedImage) throws -> RGBImage {
        let layout = ContactSheet.layout(count: count, imageWidth: first.width, imageHeight: first.height,
                                         pixelAspect: first.header.pixelAspectRatio, maxWidth: maxWidth, maxHeight: maxHeight,
                                         gutterX: 1, gutterY: cells ? 2 : 1, evenHeights: cells)
        let tiles = try ParallelMap.map(count, threads: threads) { index in
            let decoded = index == 0 ? first : try image(index)
            let size = GridFit.fit(width: decoded.width, height: decoded.height, pixelAspect: decoded.header.pixelAspectRatio,
                                   maxWidth: layout.tileWidth, maxHeight: layout.tileHeight)
            return SliceRenderer.render(decoded, window: window, targetWidth: size.width,
                                        targetHeight: cells ? max(2, size.height - size.height % 2) : size.height)
        }
        return ContactSheet.compose(tiles, layout: layout)
    }
}
