import Foundation
import TOMLKit

/// The user's settings from config.toml: theme, reader, identifier display, key bindings, source.
public struct Configuration: Sendable, Equatable {
    public var theme: String?
    public var reader: String?
    public var showIdentifiers = false
    public var source: String?
    /// [keys]: action name → key names.
    public var keys: [String: [String]] = [:]

    public init() {}

    /// Reads `path`; a missing file gives the defaults, a broken one throws with the file and reason.
    public static func load(path: String) throws -> Configuration {
        guard FileManager.default.fileExists(atPath: path) else { return Configuration() }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(path: path, reason: "cannot read the file")
        }
        let table: TOMLTable
        do { table = try TOMLTable(string: String(decoding: data, as: UTF8.self)) } catch {
            throw ConfigurationError(path: path, reason: "not valid TOML: \(error)")
        }
        var configuration = Configuration()
        configuration.theme = table["theme"]?.string
        configuration.reader = table["reader"]?.string
        configuration.source = table["source"]?.string
        configuration.showIdentifiers = table["show_identifiers"]?.bool ?? false
        if let keys = table["keys"]?.table {
            for (action, value) in keys {
                if let single = value.string {
                    configuration.keys[action] = [single]
                } else if let array = value.array {
                    configuration.keys[action] = array.compactMap { $0.string }
                } else {
                    throw ConfigurationError(path: path, reason: "[keys] \(action) must be a key name or a list of them")
                }
            }
        }
        return configuration
    }
}
