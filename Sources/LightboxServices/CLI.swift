import DicomReading
import Foundation
public import LightboxCore
public import ReviewApp
import Store
import TerminalUI

/// Printing and locating helpers shared by the subcommands.
public enum CLI {
    public static func printError(_ message: String) {
        FileHandle.standardError.write(Data((SafeText.sanitize(message) + "\n").utf8))
    }

    public static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// Whether the locale's character set is UTF-8 (LC_ALL, LC_CTYPE, LANG), so symbols can be printed.
    public static var unicodeOutput: Bool {
        let env = ProcessInfo.processInfo.environment
        let locale = [env["LC_ALL"], env["LC_CTYPE"], env["LANG"]].compactMap { $0 }.first { !$0.isEmpty } ?? ""
        return locale.uppercased().contains("UTF-8") || locale.uppercased().contains("UTF8")
    }

    public static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Instants as ISO 8601 (the monitor's windows), never a number of seconds since 2001.
        encoder.dateEncodingStrategy = .iso8601
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
    }

    /// Where a folder shipped with Lightbox may be: `name` in the working folder, then beside the
    /// executable and up to four folders above it (a build folder inside the checkout).
    public static func bundledCandidates(_ name: String) -> [String] {
        var candidates = [FileManager.default.currentDirectoryPath + "/" + name]
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(folder.appendingPathComponent(name).path)
            folder.deleteLastPathComponent()
        }
        return candidates
    }

    /// The bundled samples: the first candidate folder holding ground-truth.json.
    public static func defaultSource() -> String? {
        bundledCandidates("samples").first { FileManager.default.fileExists(atPath: $0 + "/ground-truth.json") }
    }

    /// config.toml, the one way every command reads it: a file that is not TOML gives the
    /// defaults, a broken key costs that setting; either is told (on stderr, or in `problems` for
    /// the reviewer to show), never fatal.
    public static func configuration(_ paths: AppPaths, printProblems: Bool = true) -> Configuration {
        var configuration = Configuration()
        do { configuration = try Configuration.load(path: paths.configDirectory + "/config.toml") } catch {
            configuration.problems = ["\(error) — using the defaults"]
        }
        if printProblems { for problem in configuration.problems { printError("warning: \(problem)") } }
        return configuration
    }

    /// Scans a folder into the index in the data directory, with progress on stderr.
    public static func scan(_ source: String, quiet: Bool = false) throws -> (studies: [Study], summary: FolderIndexer.Summary) {
        let paths = AppPaths()
        try paths.ensureDataDirectory()
        let index = try SQLiteWorklistIndex(path: paths.indexDatabase)
        let reporter: ProgressReporter? = quiet ? nil : ProgressReporter(label: "Scanning")
        let indexer = FolderIndexer(reader: DcmtkInstanceReader(), index: index)
        guard FileManager.default.fileExists(atPath: source) else {
            throw CLIFailure("\(source): no such file or folder")
        }
        var progress: (@Sendable (Int, Int) -> Void)?
        if let reporter {
            progress = { done, total in reporter.update(done, of: total) }
        }
        return try indexer.scan(root: source, progress: progress)
    }
}

/// A failure reported on stderr with exit code 1: commands throw it, and `lightbox`'s main is
/// the one place that prints it and exits.
public struct CLIFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}

