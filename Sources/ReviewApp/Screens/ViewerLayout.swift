import Foundation
import LightboxCore
import TerminalUI

/// Where the viewer puts the picture: shared by the screen that draws it and the update that
/// moves the probe by one picture pixel, so both agree on the grid.
enum ViewerLayout {
    /// The cells the image gets (left of the side panel, between the title and the two bars).
    static func imageRect(width: Int, height: Int) -> Rect {
        Rect(x: 1, y: 1, width: width - ViewerScreen.panelWidth(width) - 2, height: height - 3)
    }

    /// The picture size (in the mode's pixels) that fits `rect` keeping the physical aspect of
    /// `region` of the image: whole cells, each mode's pixels as wide and high as they show.
    static func pictureSize(_ image: DecodedImage, region: PixelRegion, in rect: Rect, mode: ImageCellMode) -> (width: Int, height: Int) {
        mode.pictureSize(width: region.width, height: region.height, pixelAspect: image.header.pixelAspectRatio,
                         columns: rect.width, rows: rect.height)
    }

    /// With pixel graphics: the picture's size in screen pixels (square) that fits `rect`, and
    /// the cells it covers. Capped at 2048 pixels a side (a frame stays a few megabytes).
    static func graphicsPicture(_ image: DecodedImage, region: PixelRegion, in rect: Rect, cell: CellPixels)
        -> (width: Int, height: Int, columns: Int, rows: Int) {
        let fitted = GridFit.fit(width: region.width, height: region.height, pixelAspect: image.header.pixelAspectRatio,
                                 maxWidth: min(2048, rect.width * cell.width), maxHeight: min(2048, rect.height * cell.height))
        // Whole six-pixel bands (Sixel draws six rows at a time; a band reaching into the row below
        // would erase that row's text in xterm).
        let height = max(6, fitted.height - fitted.height % 6)
        return (fitted.width, height, (fitted.width + cell.width - 1) / cell.width, (height + cell.height - 1) / cell.height)
    }

    /// Image pixels per picture pixel of the view on screen (at least one): the probe's step.
    static func probeStep(_ state: AppState, image: DecodedImage) -> (x: Int, y: Int) {
        guard let viewer = state.viewer else { return (1, 1) }
        let region = viewer.viewport.region(width: image.width, height: image.height)
        var rect = imageRect(width: state.width, height: state.height)
        if state.compare != nil { rect.width = rect.width / 2 - 1 }
        var size = pictureSize(image, region: region, in: rect, mode: state.cellMode)
        if let cell = state.pixelPictureCell {
            let picture = graphicsPicture(image, region: region, in: rect, cell: cell)
            size = (picture.width, picture.height)
        }
        return (max(1, Int((Double(region.width) / Double(size.width)).rounded())),
                max(1, Int((Double(region.height) / Double(size.height)).rounded())))
    }
}
