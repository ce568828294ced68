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
    /// Model folders to run (fused when several); empty: the bundled default model.
    public var models: [String] = []
    /// Temperature of the softmax over model confidences when several models are fused.
    public var fusionTemperature = 0.1
    /// Whether the reviewer runs the models over the whole worklist in the background at start
    /// (`analyse_worklist`); when false, a study is analysed when it is opened.
    public var analyseWorklist = true

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
        if let models = table["models"] {
            if let single = models.string {
                configuration.models = [single]
            } else if let array = models.array {
                configuration.models = array.compactMap { $0.string }
            } else {
                throw ConfigurationError(path: path, reason: "models must be a folder or a list of folders")
            }
        }
        if let value = table["fusion_temperature"] {
            guard let number = value.double ?? value.int.map(Double.init), number > 0 else {
                throw ConfigurationError(path: path, reason: "fusion_temperature must be a number above 0")
            }
            configuration.fusionTemperature = number
        }
        if let value = table["analyse_worklist"] {
            guard let flag = value.bool else {
                throw ConfigurationError(path: path, reason: "analyse_worklist must be true or false")
            }
            configuration.analyseWorklist = flag
        }
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
