import Foundation

/// Where Lightbox keeps its configuration and data: `LIGHTBOX_HOME` (config.toml and data/ inside)
/// overrides the XDG locations `$XDG_CONFIG_HOME/lightbox` and `$XDG_DATA_HOME/lightbox`.
public struct AppPaths: Sendable, Equatable {
    /// Folder of config.toml.
    public let configDirectory: String
    /// Folder of the index, decisions and caches.
    public let dataDirectory: String

    /// Paths from an environment (the process's by default).
    public init(environment: [String: String]? = nil) {
        let environment = environment ?? ProcessInfo.processInfo.environment
        let home = environment["HOME"] ?? NSHomeDirectory()
        if let portable = environment["LIGHTBOX_HOME"], !portable.isEmpty {
            configDirectory = portable
            dataDirectory = portable + "/data"
        } else {
            configDirectory = (environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.config") + "/lightbox"
            dataDirectory = (environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.local/share") + "/lightbox"
        }
    }

    /// The worklist index database.
    public var indexDatabase: String { dataDirectory + "/index.sqlite" }
    /// The decision ledger (decisions and the audit chain).
    public var ledgerDatabase: String { dataDirectory + "/decisions.sqlite" }

    /// The AI result cache (per image and model version).
    public var resultsDatabase: String { dataDirectory + "/results.sqlite" }
    /// The similar-case base.
    public var casesDatabase: String { dataDirectory + "/cases.sqlite" }
    /// config.toml.
    /// Studies retrieved from PACS sources, one folder per source and study.
    public var pacsCache: String { dataDirectory + "/pacs-cache" }
    public var configFile: String { configDirectory + "/config.toml" }

    /// Creates the data folder when missing.
    public func ensureDataDirectory() throws {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
    }
}
