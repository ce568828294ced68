/// Fits an image into a pixel box keeping its physical aspect ratio (pixel spacing included).
public enum GridFit {
    /// The largest size within maxWidth × maxHeight target pixels (assumed square) that keeps
    /// the physical aspect of a width × height image whose pixels are `pixelAspect` wide per unit high.
    public static func fit(width: Int, height: Int, pixelAspect: Double, maxWidth: Int, maxHeight: Int) -> (width: Int, height: Int) {
        guard width > 0, height > 0, maxWidth > 0, maxHeight > 0 else { return (max(maxWidth, 1), max(maxHeight, 1)) }
        let physicalWidth = Double(width) * (pixelAspect > 0 && pixelAspect.isFinite ? pixelAspect : 1)
        let physicalHeight = Double(height)
        let scale = min(Double(maxWidth) / physicalWidth, Double(maxHeight) / physicalHeight)
        let fittedWidth = min(maxWidth, max(1, Int((physicalWidth * scale).rounded())))
        let fittedHeight = min(maxHeight, max(1, Int((physicalHeight * scale).rounded())))
        return (fittedWidth, fittedHeight)
    }

    /// The half-block pixel box of a cell grid: one pixel wide and two high per cell.
    public static func fitCells(width: Int, height: Int, pixelAspect: Double, columns: Int, rows: Int) -> (width: Int, height: Int) {
        let fitted = fit(width: width, height: height, pixelAspect: pixelAspect, maxWidth: columns, maxHeight: rows * 2)
        // An even height fills whole cells.
        return (fitted.width, max(2, fitted.height + fitted.height % 2))
    }
}
