import Foundation
public import LightboxCore
public import ReviewApp

/// Finds theme files: a path, or NAME.toml in the themes/ folders (config folder, working folder, beside the executable).
public enum ThemeLocator {
    public static func folders(paths: AppPaths) -> [String] {
        [paths.configDirectory + "/themes"] + CLI.bundledCandidates("themes")
    }

    public static func load(_ name: String, paths: AppPaths) throws -> Theme {
        if name.hasSuffix(".toml") { return try Theme.load(path: name) }
        for folder in folders(paths: paths) where FileManager.default.fileExists(atPath: "\(folder)/\(name).toml") {
            return try Theme.load(path: "\(folder)/\(name).toml")
        }
        if name == "dark" { return .dark }
        throw ConfigurationError(path: name, reason: "no theme of that name in themes/ (try dark, light, high-contrast, colour-blind-safe)")
    }
}
