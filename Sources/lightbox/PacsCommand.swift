import ArgumentParser
import Foundation
import LightboxCore
import LightboxServices
import ReviewApp
import Store
import TerminalUI

/// `lightbox pacs …`: talk to a PACS (DICOMweb or DIMSE) from the command line.
struct PacsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pacs", abstract: "Check, query and retrieve from a PACS (a DICOMweb URL, dicom://AET@host:port, or a [sources.NAME]).",
        subcommands: [PacsEcho.self, PacsFind.self, PacsRetrieve.self])

    /// The PACS named by `source` (a folder is refused here).
    static func pacs(_ source: String) throws -> (SourceResolver.Pacs, AppPaths, Configuration) {
        let paths = AppPaths()
        let configuration = CLI.configuration(paths)
        let resolved: SourceResolver.Pacs?
        do { resolved = try SourceResolver.pacs(source, configuration: configuration) } catch { throw CLIFailure("\(error)") }
        guard let resolved else {
            throw CLIFailure("\(source): not a PACS (give http(s)://host:port/dicom-web, dicom://CALLED_AET@host:port, or a name from config.toml's [sources])")
        }
        return (resolved, paths, configuration)
    }
}

struct PacsEcho: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "echo", abstract: "Check that the PACS answers (C-ECHO, or a one-row QIDO-RS query).")

    @Argument(help: "The PACS: a DICOMweb URL, dicom://CALLED_AET@host:port, or a [sources.NAME] in config.toml.")
    var source: String

    func run() throws {
        let (pacs, _, _) = try PacsCommand.pacs(source)
        let started = Date()
        do { try pacs.connection.echo() } catch { throw CLIFailure("\(error)") }
        CLI.write(String(format: "%@: answers (%.0f ms)\n", pacs.connection.displayName, Date().timeIntervalSince(started) * 1000))
    }
}

struct PacsFind: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "find", abstract: "List studies on the PACS (QIDO-RS in pages, or C-FIND).")

    @Argument(help: "The PACS: a DICOMweb URL, dicom://CALLED_AET@host:port, or a [sources.NAME] in config.toml.")
    var source: String

    @Option(help: "Study date or range: 20260101, 20260101-20260131, 2026-01-01..2026-01-31, 2026-01-01.., today, yesterday.")
    var date: String?

    @Option(help: "Modality in the study (repeat, or separate with commas, for any of several).")
    var modality: [String] = []

    @Option(help: "Patient's name (DICOM wildcards: DOE^*).")
    var patient: String?

    @Option(help: "Accession number.")
    var accession: String?

    @Option(help: "At most this many studies.")
    var limit: Int?

    @Flag(name: .customLong("show-identifiers"), help: "Show patient names and IDs (masked by default).")
    var showIdentifiers = false

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be 1 or more") }
        if let date, StudyQuery.dicomDateRange(date) == nil {
            throw ValidationError("--date must be a date or range (20260101, 20260101-20260131, 2026-01-01..2026-01-31, today), not '\(date)'")
        }
    }

    func run() throws {
        let (pacs, _, _) = try PacsCommand.pacs(source)
        let query = StudyQuery(dateRange: date.flatMap { StudyQuery.dicomDateRange($0) },
                               modalities: modality.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).uppercased() } },
                               patientName: patient, accessionNumber: accession, limit: limit)
        var rows: [StudySummary] = []
        do {
            try pacs.connection.findStudies(query) { page in
                rows += page.map(\.studySummary)
                return true
            }
        } catch { throw CLIFailure("\(error)") }
        rows.sort { ($0.studyDate, $0.studyTime, $0.studyInstanceUID) < ($1.studyDate, $1.studyTime, $1.studyInstanceUID) }
        let display: IdentifierDisplay = showIdentifiers ? .shown : .masked
        if json {
            let masked = rows.map { row -> StudySummary in
                var row = row
                if !showIdentifiers {
                    row.patientName = display.show(row.patientName)
                    row.patientID = display.show(row.patientID)
                }
                return row
            }
            CLI.write(try CLI.json(masked))
            return
        }
        var lines = ["\(rows.count) stud\(rows.count == 1 ? "y" : "ies") on \(pacs.connection.displayName)"]
        for row in rows {
            let date = row.studyDate.count == 8 ? "\(row.studyDate.prefix(4))-\(row.studyDate.dropFirst(4).prefix(2))-\(row.studyDate.suffix(2))" : row.studyDate
            lines.append([date, row.modalities.joined(separator: "/"), "\(row.seriesCount) series", "\(row.imageCount) images",
                          display.show(row.patientName, personName: true), SafeText.sanitize(row.studyDescription),
                          SafeText.sanitize(row.accessionNumber), row.studyInstanceUID].joined(separator: "  "))
        }
        CLI.write(lines.joined(separator: "\n") + "\n")
    }
}

struct PacsRetrieve: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrieve",
        abstract: "Retrieve a study into the local cache (WADO-RS or C-GET; only what is not cached yet, so an interrupted retrieve resumes).")

    @Argument(help: "The PACS: a DICOMweb URL, dicom://CALLED_AET@host:port, or a [sources.NAME] in config.toml.")
    var source: String

    @Argument(help: "The Study Instance UID.")
    var study: String

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let (pacs, paths, configuration) = try PacsCommand.pacs(source)
        try paths.ensureDataDirectory()
        let index = try SQLiteWorklistIndex(path: paths.indexDatabase)
        let cache = SourceResolver.cache(paths, configuration: configuration)
        let pacsSource = PacsStudySource(connection: pacs.connection, cache: cache, cacheKey: pacs.cacheKey, index: index)
        let reporter = json ? nil : ProgressReporter(label: "Retrieving")
        let started = Date()
        let fetched = Fetched()
        pacsSource.onProgress = { _, stored, total in
            fetched.add()
            reporter?.update(stored, of: total)
        }
        let opened: Study
        do { opened = try pacsSource.study(study) } catch { throw CLIFailure("\(error)") }
        let folder = pacsSource.folder(of: study)
        let seconds = Date().timeIntervalSince(started)
        let bytes = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).reduce(Int64(0)) { total, name in
            total + (((try? FileManager.default.attributesOfItem(atPath: folder + "/" + name))?[.size] as? NSNumber)?.int64Value ?? 0)
        }
        let report = RetrieveReport(studyInstanceUID: study, folder: folder, instances: opened.instanceCount, series: opened.series.count,
                                    images: opened.imageCount, fetched: fetched.count, seconds: seconds, bytes: bytes)
        if json {
            CLI.write(try CLI.json(report))
        } else {
            CLI.write(String(format: "%@: %d instance(s) in %d series (%d fetched now, %@) in %.2f s\n  %@\n", study, report.instances,
                             report.series, report.fetched, ByteCountFormatter.string(fromByteCount: bytes, countStyle: .binary),
                             seconds, folder))
        }
    }

    /// Instances fetched now (one progress report each).
    final class Fetched: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func add() { lock.withLock { value += 1 } }
        var count: Int { lock.withLock { value } }
    }

    struct RetrieveReport: Encodable {
        let studyInstanceUID: String
        let folder: String
        let instances, series, images, fetched: Int
        let seconds: Double
        let bytes: Int64
    }
}
