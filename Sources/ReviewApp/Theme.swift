public import LightboxCore
public import TerminalUI
import Foundation
import TOMLKit

/// Colours of the interface, the heatmap colourmap and the tier colours; one TOML file per
/// theme in themes/ (format documented in themes/README.md).
public struct Theme: Sendable, Equatable {
    public var name: String
    public var background: TerminalColor
    public var text: TerminalColor
    public var dim: TerminalColor
    public var accent: TerminalColor
    public var border: TerminalColor
    public var barBackground: TerminalColor
    public var barText: TerminalColor
    public var selectionBackground: TerminalColor
    public var selectionText: TerminalColor
    public var warning: TerminalColor
    public var error: TerminalColor
    public var ok: TerminalColor
    public var tierHigh: TerminalColor
    public var tierMedium: TerminalColor
    public var tierReview: TerminalColor
    public var colormap: Colormap

    /// The built-in dark theme (also the base for keys a theme file leaves out).
    public static let dark = Theme(
        name: "dark", background: .terminalDefault, text: TerminalColor(hex: 0xD8DEE9), dim: TerminalColor(hex: 0x8A93A5),
        accent: TerminalColor(hex: 0x88C0D0), border: TerminalColor(hex: 0x4C566A), barBackground: TerminalColor(hex: 0x2E3440),
        barText: TerminalColor(hex: 0xE5E9F0), selectionBackground: TerminalColor(hex: 0x5E81AC), selectionText: TerminalColor(hex: 0xFFFFFF),
        warning: TerminalColor(hex: 0xEBCB8B), error: TerminalColor(hex: 0xBF616A), ok: TerminalColor(hex: 0xA3BE8C),
        tierHigh: TerminalColor(hex: 0xA3BE8C), tierMedium: TerminalColor(hex: 0xEBCB8B), tierReview: TerminalColor(hex: 0xD08770),
        colormap: .inferno)

    public var textStyle: CellStyle { CellStyle(foreground: text, background: background) }
    public var dimStyle: CellStyle { CellStyle(foreground: dim, background: background) }
    public var accentStyle: CellStyle { CellStyle(foreground: accent, background: background, attributes: .bold) }
    public var borderStyle: CellStyle { CellStyle(foreground: border, background: background) }
    public var barStyle: CellStyle { CellStyle(foreground: barText, background: barBackground) }
    public var selectionStyle: CellStyle { CellStyle(foreground: selectionText, background: selectionBackground, attributes: .reverse.union([])) }
    public var warningStyle: CellStyle { CellStyle(foreground: warning, background: background, attributes: .bold) }
    public var errorStyle: CellStyle { CellStyle(foreground: error, background: background, attributes: .bold) }

    /// Reads a theme file; keys it leaves out come from `base`. Throws with the file and reason.
    public static func load(path: String, base: Theme = .dark) throws -> Theme {
        guard let text = FileManager.default.contents(atPath: path).map({ String(decoding: $0, as: UTF8.self) }) else {
            throw ConfigurationError(path: path, reason: "cannot read the file")
        }
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch {
            throw ConfigurationError(path: path, reason: "not valid TOML: \(error)")
        }
        var theme = base
        theme.name = table["name"]?.string ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        func colour(_ section: String, _ key: String, _ target: WritableKeyPath<Theme, TerminalColor>) throws {
            guard let value = table[section]?.table?[key] else { return }
            guard let string = value.string else { throw ConfigurationError(path: path, reason: "[\(section)] \(key) must be a string") }
            if string == "default" { theme[keyPath: target] = .terminalDefault; return }
            guard let parsed = TerminalColor(hexString: string) else {
                throw ConfigurationError(path: path, reason: "[\(section)] \(key) = \"\(string)\" is not #rrggbb or \"default\"")
            }
            theme[keyPath: target] = parsed
        }
        let ui: [(String, WritableKeyPath<Theme, TerminalColor>)] = [
            ("background", \.background), ("text", \.text), ("dim", \.dim), ("accent", \.accent), ("border", \.border),
            ("bar_background", \.barBackground), ("bar_text", \.barText), ("selection_background", \.selectionBackground),
            ("selection_text", \.selectionText), ("warning", \.warning), ("error", \.error), ("ok", \.ok),
        ]
        for (key, path) in ui { try colour("ui", key, path) }
        for (key, path) in [("high", \Theme.tierHigh), ("medium", \.tierMedium), ("review", \.tierReview)] { try colour("tiers", key, path) }
        if let name = table["heatmap"]?.table?["colormap"]?.string {
            guard let map = Colormap.named(name) else {
                throw ConfigurationError(path: path, reason: "[heatmap] colormap '\(name)' is not one of inferno, viridis, magma, cividis")
            }
            theme.colormap = map
        }
        return theme
    }
}

/// A configuration or theme file that could not be used.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}
