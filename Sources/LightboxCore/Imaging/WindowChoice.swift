/// The window a user asks for by name: a CT preset, "C,W" in modality units, or `auto` (the
/// image's own, as `WindowPreset.initialWindow` chooses it).
public enum WindowChoice {
    /// Why a window text was not understood (the message says what is accepted).
    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public let text: String
        public var description: String {
            "--window '\(text)': takes a preset (\(WindowPreset.allCases.map(\.rawValue).joined(separator: ", "))), 'auto', or C,W such as -600,1500"
        }
    }

    /// The window for `text` (nil or `auto`: the image's own) applied to `image`.
    public static func resolve(_ text: String?, for image: DecodedImage, frame: Int) throws(Invalid) -> Window {
        guard let text, !text.isEmpty, text != "auto" else { return WindowPreset.initialWindow(for: image, frame: frame) }
        if let preset = WindowPreset(rawValue: text.lowercased()) { return preset.window }
        if let window = Window(parsing: text) { return window }
        throw Invalid(text: text)
    }
}
