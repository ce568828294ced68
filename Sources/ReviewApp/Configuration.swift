import Foundation
import LightboxCore
import TOMLKit
import TerminalUI

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
    /// Cell symbols for pictures (`symbols`: "half", "quad" or "sextant"; nil: half blocks).
    public var symbols: String?
    /// Pixel graphics (`graphics`: "auto", "kitty", "sixel" or "cells"; nil: auto).
    public var graphics: String?
    /// The site monitoring strata name (`site`; default "local"): which department or hospital.
    public var site = "local"
    /// The decision ledger: nil for this workstation's SQLite file, else a department's
    /// `postgresql://user@host:port/database[?sslmode=…]` (`ledger`); the password from
    /// PGPASSWORD, ~/.pgpass or `password_file` (readable by its owner only).
    public var ledger: String?
    public var passwordFile: String?
    /// [monitor]: the analysis window in days, the fewest studies a window needs, and the size of
    /// a model version's default reference period (its first studies).
    public var monitorWindowDays = 14
    public var monitorMinimumStudies = 150
    public var monitorReferenceStudies = 500
    /// [sources.NAME]: PACS sources by name (`lightbox NAME`).
    public var sources: [String: NamedSource] = [:]
    /// [pacs]: the local cache's size budget in MiB, whether the next studies of a worklist are
    /// fetched in the background, and this workstation's AE title.
    public var pacsCacheMegabytes = 4096
    public var pacsPrefetch = true
    /// [pacs] push_verdicts: the source each saved decision is sent to as a verdict SR (nil: none);
    /// send_comments: whether the reader's free-text comment goes into it (it may name the patient).
    public var pushVerdictsTo: String?
    public var sendComments = false
    public var callingAETitle = "LIGHTBOX"

    public init() {}

    /// What was wrong in the file, one line each naming the file and the key ("FILE: key 'reader'
    /// must be text; the default is used"). A broken key costs that setting, never the session.
    public var problems: [String] = []

    /// The settings config.toml knows, for reporting the ones it does not.
    static let knownKeys: Set<String> = ["theme", "reader", "show_identifiers", "source", "models", "fusion_temperature",
                                         "analyse_worklist", "keys", "symbols", "graphics", "site", "monitor", "ledger", "password_file",
                                         "sources", "pacs"]

    /// Reads `path`; a missing file gives the defaults. A file that is not TOML throws with the file
    /// and reason; an unknown key or a value of the wrong type is reported in `problems` and
    /// that setting keeps its default.
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
        func problem(_ key: String, _ text: String) {
            configuration.problems.append("\(path): \(key) \(text); the default is used")
        }
        func text(_ key: String) -> String? {
            guard let value = table[key] else { return nil }
            guard let string = value.string else { problem(key, "must be text in quotes"); return nil }
            return string
        }
        func flag(_ key: String) -> Bool? {
            guard let value = table[key] else { return nil }
            guard let bool = value.bool else { problem(key, "must be true or false"); return nil }
            return bool
        }
        for (key, _) in table where !knownKeys.contains(key) {
            configuration.problems.append("\(path): unknown setting '\(key)' (ignored; known: \(knownKeys.sorted().joined(separator: ", ")))")
        }
        configuration.theme = text("theme")
        configuration.reader = text("reader")
        configuration.source = text("source")
        configuration.showIdentifiers = flag("show_identifiers") ?? false
        if let symbols = text("symbols") {
            if ImageCellMode.symbolNames[symbols] != nil { configuration.symbols = symbols }
            else { problem("symbols", "must be \"half\", \"quad\" or \"sextant\"") }
        }
        if let graphics = text("graphics") {
            if ["auto", "kitty", "sixel", "cells"].contains(graphics) { configuration.graphics = graphics }
            else { problem("graphics", "must be \"auto\", \"kitty\", \"sixel\" or \"cells\"") }
        }
        configuration.analyseWorklist = flag("analyse_worklist") ?? true
        if let ledger = text("ledger") {
            if ledger.hasPrefix("postgresql://") || ledger.hasPrefix("postgres://") { configuration.ledger = ledger }
            else if ledger != "sqlite" { problem("ledger", "must be \"sqlite\" or a postgresql:// URL") }
        }
        configuration.passwordFile = text("password_file")
        if let site = text("site") {
            let clean = SafeText.sanitize(site).trimmingCharacters(in: .whitespaces)
            if clean.isEmpty { problem("site", "must not be empty") } else { configuration.site = String(clean.prefix(64)) }
        }
        if let value = table["monitor"] {
            if let monitor = value.table {
                for (key, item) in monitor {
                    guard let number = item.int, number > 0 else {
                        configuration.problems.append("\(path): [monitor] \(key) must be a whole number above 0; the default is used")
                        continue
                    }
                    switch key {
                    case "window_days": configuration.monitorWindowDays = number
                    case "minimum_studies": configuration.monitorMinimumStudies = number
                    case "reference_studies": configuration.monitorReferenceStudies = number
                    default: configuration.problems.append("\(path): [monitor] unknown setting '\(key)' (known: minimum_studies, reference_studies, window_days)")
                    }
                }
            } else {
                problem("monitor", "must be a table ([monitor])")
            }
        }
        if let value = table["pacs"] {
            if let pacs = value.table {
                for (key, item) in pacs {
                    switch key {
                    case "cache_mb":
                        if let number = item.int, number > 0 { configuration.pacsCacheMegabytes = number }
                        else { configuration.problems.append("\(path): [pacs] cache_mb must be a whole number above 0; the default is used") }
                    case "prefetch":
                        if let bool = item.bool { configuration.pacsPrefetch = bool }
                        else { configuration.problems.append("\(path): [pacs] prefetch must be true or false; the default is used") }
                    case "calling_ae_title":
                        if let title = item.string, !title.isEmpty, title.count <= 16 { configuration.callingAETitle = title }
                        else { configuration.problems.append("\(path): [pacs] calling_ae_title must be 1 to 16 characters; the default is used") }
                    case "push_verdicts":
                        if let name = item.string, !name.isEmpty { configuration.pushVerdictsTo = name }
                        else { configuration.problems.append("\(path): [pacs] push_verdicts must name a source; verdicts are not pushed") }
                    case "send_comments":
                        if let bool = item.bool { configuration.sendComments = bool }
                        else { configuration.problems.append("\(path): [pacs] send_comments must be true or false; comments are not sent") }
                    default: configuration.problems.append("\(path): [pacs] unknown setting '\(key)' (known: cache_mb, calling_ae_title, prefetch, push_verdicts, send_comments)")
                    }
                }
            } else {
                problem("pacs", "must be a table ([pacs])")
            }
        }
        if let value = table["sources"] {
            if let sources = value.table {
                for (name, item) in sources {
                    guard let entry = item.table else {
                        configuration.problems.append("\(path): [sources.\(name)] must be a table with url = \"…\"; the source is left out")
                        continue
                    }
                    var source = NamedSource(name: name)
                    var broken = false
                    for (key, field) in entry {
                        switch key {
                        case "url", "calling_ae_title", "retrieve", "username", "password_env", "password_file":
                            guard let text = field.string else {
                                configuration.problems.append("\(path): [sources.\(name)] \(key) must be text in quotes; the source is left out")
                                broken = true
                                continue
                            }
                            switch key {
                            case "url": source.url = text
                            case "calling_ae_title": source.callingAETitle = text
                            case "retrieve": source.retrieve = text
                            case "username": source.username = text
                            case "password_env": source.passwordEnvironment = text
                            default: source.passwordFile = text
                            }
                        case "move_port", "timeout":
                            guard let number = field.int ?? field.double.map({ Int($0) }), number > 0 else {
                                configuration.problems.append("\(path): [sources.\(name)] \(key) must be a number above 0; the source is left out")
                                broken = true
                                continue
                            }
                            if key == "move_port" { source.movePort = number } else { source.timeout = field.double ?? Double(number) }
                        default:
                            configuration.problems.append("\(path): [sources.\(name)] unknown setting '\(key)' (known: calling_ae_title, move_port, password_env, password_file, retrieve, timeout, url, username)")
                        }
                    }
                    if source.url.isEmpty {
                        configuration.problems.append("\(path): [sources.\(name)] has no url; the source is left out")
                        broken = true
                    }
                    if !broken { configuration.sources[name] = source }
                }
            } else {
                problem("sources", "must be tables ([sources.NAME])")
            }
        }
        if let models = table["models"] {
            if let single = models.string {
                configuration.models = [single]
            } else if let array = models.array, array.allSatisfy({ $0.string != nil }) {
                configuration.models = array.compactMap { $0.string }
            } else {
                problem("models", "must be a folder or a list of folders")
            }
        }
        if let value = table["fusion_temperature"] {
            if let number = value.double ?? value.int.map(Double.init), number > 0 {
                configuration.fusionTemperature = number
            } else {
                problem("fusion_temperature", "must be a number above 0")
            }
        }
        if let value = table["keys"] {
            if let keys = value.table {
                for (action, value) in keys {
                    if let single = value.string {
                        configuration.keys[action] = [single]
                    } else if let array = value.array, array.allSatisfy({ $0.string != nil }) {
                        configuration.keys[action] = array.compactMap { $0.string }
                    } else {
                        configuration.problems.append("\(path): [keys] \(action) must be a key name or a list of them; its default keys are kept")
                    }
                }
            } else {
                problem("keys", "must be a table ([keys])")
            }
        }
        return configuration
    }
}

/// A PACS source named in config.toml (`[sources.NAME]`): its address and where its credential is
/// (an environment variable or a file only its owner can read; never the command line).
public struct NamedSource: Sendable, Equatable {
    public var name: String
    public var url = ""
    public var callingAETitle: String?
    public var retrieve: String?
    public var movePort: Int?
    public var username: String?
    public var passwordEnvironment: String?
    public var passwordFile: String?
    public var timeout: Double?

    public init(name: String) {
        self.name = name
    }
}
