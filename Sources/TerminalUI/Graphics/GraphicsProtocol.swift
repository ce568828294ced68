/// Pixel graphics a terminal may draw for the image area, while the cells keep the chrome.
public enum GraphicsProtocol: String, Sendable, Equatable, CaseIterable {
    /// The Kitty graphics protocol (APC `_G`): kitty, WezTerm, Konsole, Ghostty.
    case kitty
    /// DEC Sixel (DCS `q`): xterm -ti vt340, foot, mlterm, WezTerm, Windows Terminal.
    case sixel

    /// The escape bytes that show `picture` with its top left at the cursor, over `columns` ×
    /// `rows` cells.
    public func encode(_ picture: PlacedPicture, id: Int, colourRegisters: Int, deflate: (([UInt8]) -> [UInt8]?)? = nil) -> [UInt8] {
        switch self {
        case .kitty: KittyGraphics.place(picture.picture, id: id, columns: picture.cells.width, rows: picture.cells.height, deflate: deflate)
        case .sixel: SixelEncoder.encode(picture.picture, colourRegisters: colourRegisters)
        }
    }
}

/// What `--graphics` and config `graphics` ask for.
public enum GraphicsChoice: String, Sendable, Equatable, CaseIterable {
    case auto, kitty, sixel, cells
}
