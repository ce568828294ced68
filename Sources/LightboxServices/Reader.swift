import Foundation
public import ReviewApp

/// Who is reading: config.toml's `reader`, else $USER.
public enum Reader {
    public static func name(_ configuration: Configuration) -> String {
        configuration.reader ?? ProcessInfo.processInfo.environment["USER"].flatMap { $0.isEmpty ? nil : $0 } ?? "unknown"
    }
}
