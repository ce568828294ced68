import ArgumentParser
import Foundation
import LightboxServices
import LightboxCore

/// `lightbox scan DIR`: index a folder.
struct Scan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Index a folder of DICOM files (recursively); a rescan reads only new or changed files.")

    @Argument(help: "The folder to scan.")
    var directory: String

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func run() throws {
        let result: (studies: [Study], summary: FolderIndexer.Summary)
        result = try CLI.scan(directory)
        let summary = result.summary
        if json {
            CLI.write(try CLI.json(ScanReport(summary)))
            return
        }
        var lines = [
            "Scanned \(summary.filesSeen) files (\(summary.filesRead) read, \(summary.filesSeen - summary.filesRead) unchanged\(summary.filesRemoved > 0 ? ", \(summary.filesRemoved) gone" : "")).",
            "Studies: \(summary.studies)   Series: \(summary.series)   Images: \(summary.images)   Skipped: \(summary.skipped)"
                + (summary.skipped > 0 ? " (" + summary.skippedByReason.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + ")" : ""),
        ]
        let errorCount = summary.errorsByReason.values.reduce(0, +)
        if errorCount > 0 {
            lines.append("Errors: \(errorCount)")
            for (reason, count) in summary.errorsByReason.sorted(by: { $0.key < $1.key }) { lines.append("  \(reason): \(count)") }
            for message in summary.errorMessages.prefix(20) { lines.append("  " + SafeText.sanitize(message)) }
            if summary.errorMessages.count > 20 { lines.append("  … \(summary.errorMessages.count - 20) more (see --json)") }
        } else {
            lines.append("Errors: 0")
        }
        CLI.write(lines.joined(separator: "\n") + "\n")
    }
}

/// The JSON form of a scan summary.
struct ScanReport: Encodable {
    let filesSeen, filesRead, filesUnchanged, filesRemoved, studies, series, images, skipped: Int
    let skippedByReason: [String: Int]
    let errorsByReason: [String: Int]
    let errors: [String]

    init(_ summary: FolderIndexer.Summary) {
        filesSeen = summary.filesSeen
        filesRead = summary.filesRead
        filesUnchanged = summary.filesSeen - summary.filesRead
        filesRemoved = summary.filesRemoved
        studies = summary.studies
        series = summary.series
        images = summary.images
        skipped = summary.skipped
        skippedByReason = summary.skippedByReason
        errorsByReason = summary.errorsByReason
        errors = summary.errorMessages.map(SafeText.sanitize)
    }
}
