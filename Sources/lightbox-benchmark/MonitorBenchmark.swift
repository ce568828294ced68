import Foundation
import LightboxCore
import LightboxServices
import Store

/// `lightbox-benchmark monitor`: `lightbox monitor` over `studies` analysed studies and `verdicts`
/// verdicts (wall time and peak memory of the process, median of three), beside Evidently's
/// data-drift preset on the same features, reference and weekly windows (tools/monitor_peer.py);
/// and the paging false-alarm rate of a control scenario with nothing changing.
struct MonitorBenchmark {
    let folder: String
    let studies: Int
    let verdicts: Int
    let python: String?

    static let start = Date(timeIntervalSince1970: 1_780_000_000)
    static let referenceSettings = MonitorSettings(referenceStudies: 5_000)

    typealias Random = SeededRandom

    /// A department over `days`: two scanners; with `drift`, in the last 21 days a third scanner
    /// (new kernel, brighter input) takes a third of the studies.
    static func records(count: Int, days: Double, drift: Bool, random: inout Random) -> [MonitoringRecord] {
        (0..<count).map { index in
            let time = start.addingTimeInterval(Double(index) / Double(count) * days * 86_400)
            let late = drift && Double(index) / Double(count) > 1 - 21 / days
            let third = late && random.uniform() < 1.0 / 3
            let second = !third && random.uniform() < 0.4
            let fingerprint = ScannerFingerprint(manufacturer: third ? "Cobalt" : second ? "Bolt" : "Acme", model: third ? "C-1" : second ? "Scan-9" : "Scan-1",
                                                 software: "1.0", station: "station-\(index % 3)", kernel: third ? "UB70" : second ? "FC51" : "B30f",
                                                 bodyPart: "CHEST", kvp: random.uniform() < 0.8 ? 120 : 100, sliceThickness: second ? 1.0 : 2.5,
                                                 pixelSpacing: 0.6 + random.uniform() * 0.2, exposure: 150 + random.gaussian() * 20)
            let mean = 0.4 + random.gaussian() * 0.05 + (third ? 0.08 : 0)
            let score = 1 / (1 + exp(-(random.gaussian() - 1 + (third ? 0.4 : 0))))
            let confidence = max(score, 1 - score)
            return MonitoringRecord(studyKey: MonitoringKeys.study(uid(index)), model: "bench@1", site: "local", analysedAt: time, fingerprint: fingerprint,
                                    input: InputStatistics(mean: mean, standardDeviation: 0.2 + random.gaussian() * 0.02, p1: max(0, mean - 0.35),
                                                           p99: min(1, mean + 0.4 + random.gaussian() * 0.02), saturated: max(0, 0.05 + random.gaussian() * 0.01)),
                                    rawScore: score, probability: score, tier: confidence >= 0.9 ? .high : confidence >= 0.7 ? .medium : .review,
                                    outOfDomain: random.uniform() < 0.02, domainDistance: 2, images: 1)
        }
    }

    /// The synthetic study UID of record `index` (the ledger's decisions name it; monitoring keeps its hash).
    static func uid(_ index: Int) -> String { "2.25.20261201\(index)" }

    static func verdict(_ record: MonitoringRecord, sequence: Int, overrideRate: Double, random: inout Random) -> VerdictRecord {
        let draw = random.uniform()
        let action: DecisionAction = draw < overrideRate ? .override : draw > 0.95 ? .deferred : .accept
        return VerdictRecord(studyKey: record.studyKey, model: record.model, decidedAt: record.analysedAt.addingTimeInterval(1_800), action: action,
                             reason: action == .override ? .falsePositive : nil, tier: record.tier, probability: record.probability,
                             secondsSpent: 30 + random.uniform() * 60, sequence: sequence)
    }

    func run() throws {
        var lines = ["Lightbox monitor benchmark — \(ProcessInfo.processInfo.activeProcessorCount) cores, \(studies) analysed studies, \(verdicts) verdicts"]
        let home = folder + "/monitor-home"
        let paths = AppPaths(environment: ["LIGHTBOX_HOME": home])
        try paths.ensureDataDirectory()
        var random = Random(seed: 2026)
        let days = 200.0
        let records = Self.records(count: studies, days: days, drift: true, random: &random)
        // The verdicts: one per study on an even sample; the readers override twice as often in the last 21 days.
        let step = max(1, studies / max(1, verdicts))
        let sampled = stride(from: 0, to: records.count, by: step).prefix(verdicts).map { ($0, records[$0]) }
        if (try? SQLiteResultCache(path: paths.resultsDatabase).monitoringRecords().count) != studies {
            let setup = Date()
            for file in [paths.resultsDatabase, paths.ledgerDatabase] {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file + suffix) }
            }
            try SQLiteResultCache(path: paths.resultsDatabase).record(records)
            let ledger = try SQLiteDecisionLedger(path: paths.ledgerDatabase)
            for (index, (position, record)) in sampled.enumerated() {
                let late = record.analysedAt > Self.start.addingTimeInterval((days - 21) * 86_400)
                let v = Self.verdict(record, sequence: index + 1, overrideRate: late ? 0.3 : 0.15, random: &random)
                _ = try ledger.record(Decision(id: "bench-\(index)", studyInstanceUID: Self.uid(position), patientID: "P", studyDate: "20260101",
                                               action: v.action, reason: v.reason, reader: "bench", secondsSpent: v.secondsSpent, model: "bench",
                                               modelVersion: "1", outputHash: "h", probability: v.probability, tier: v.tier,
                                               decidedAt: Timestamp(v.decidedAt)))
            }
            lines.append(String(format: "written in %.1f s", Date().timeIntervalSince(setup)))
        }
        // A department's reference: its first 5,000 studies (about 500 verdicts), so the verdict strata have one.
        let reference = MonitorAnalysis.reference(model: "bench@1", records: records, saved: [], settings: Self.referenceSettings)!
        try SQLiteResultCache(path: paths.resultsDatabase).setReference(reference)
        // lightbox monitor, in its own process under GNU time: wall seconds and peak resident memory.
        let lightbox = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("lightbox").path
        let at = Timestamp(Self.start.addingTimeInterval(days * 86_400)).day
        var runs: [(Double, Int)] = []
        var alerts = 0
        for _ in 0..<3 {
            let (output, wall, kilobytes) = try Self.timed(lightbox, ["monitor", "--json", "--at", at], environment: ["LIGHTBOX_HOME": home])
            runs.append((wall, kilobytes))
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            guard let report = try? decoder.decode(MonitorReport.self, from: Data(output.utf8)) else { throw CLIFailure("lightbox monitor --json printed no report") }
            alerts = report.alerts.count
        }
        runs.sort { $0.0 < $1.0 }
        lines.append(String(format: "lightbox monitor --json: %.2f s wall (median of 3), %d MB peak resident; %d alerts", runs[1].0, runs[1].1 / 1024, alerts))
        // The same features, reference and windows for Evidently.
        if let python {
            let table = folder + "/monitor-features.csv"
            try Self.export(records, to: table, days: days)
            guard let script = CLI.bundledCandidates("tools/monitor_peer.py").first(where: { FileManager.default.fileExists(atPath: $0) }) else {
                throw CLIFailure("tools/monitor_peer.py not found beside the program")
            }
            let (output, wall, kilobytes) = try Self.timed(python, [script, table], environment: [:])
            lines.append(String(format: "Evidently DataDriftPreset (same reference, same 26 weekly windows, 13 features): %.2f s wall, %d MB peak resident; %@",
                                wall, kilobytes / 1024, output.trimmingCharacters(in: .whitespacesAndNewlines)))
            lines.append(String(format: "ratio: Evidently / lightbox monitor = %.1f× wall time", wall / runs[1].0))
        } else {
            lines.append("Evidently peer: not run (pass --python PATH to a Python with evidently; make bench does)")
        }
        // The control scenario: nothing changes; one-window reports at each fortnight.
        var control = Random(seed: 77)
        let controlRecords = Self.records(count: 12 * 14 * 152, days: 14 * 152, drift: false, random: &control)
        let controlVerdicts = controlRecords.enumerated().map { Self.verdict($1, sequence: $0 + 1, overrideRate: 0.15, random: &control) }
        let settings = MonitorSettings(weeks: 1)
        let controlReference = MonitorAnalysis.reference(model: "bench@1", records: controlRecords, saved: [], settings: settings)!
        var windows = 0, paged = 0, watched = 0
        var pagedBy: [String: Int] = [:]
        var now = controlReference.to.addingTimeInterval(14 * 86_400)
        var first = 0
        while now <= controlRecords.last!.analysedAt {
            let startTime = now.addingTimeInterval(-15 * 86_400)
            while first < controlRecords.count && controlRecords[first].analysedAt <= startTime { first += 1 }
            let window = controlRecords[first...].prefix { $0.analysedAt <= now }
            let slice = controlRecords.prefix(settings.referenceStudies) + window
            let keys = Set(slice.map(\.studyKey))
            let report = MonitorAnalysis.report(records: Array(slice), verdicts: controlVerdicts.filter { keys.contains($0.studyKey) },
                                                references: [controlReference], now: now, settings: settings)
            windows += 1
            if !report.openAlerts.isEmpty { paged += 1 }
            for kind in Set(report.openAlerts.map(\.kind.rawValue)) { pagedBy[kind, default: 0] += 1 }
            if !report.alerts.isEmpty { watched += 1 }
            now = now.addingTimeInterval(14 * 86_400)
        }
        lines.append(String(format: "control scenario (nothing changes, %d fortnightly windows of 168 studies): paging false-alarm rate %.3f (%d: %@); any alert incl. watch level %.3f (%d)",
                            windows, Double(paged) / Double(windows), paged, pagedBy.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "),
                            Double(watched) / Double(windows), watched))
        print(lines.joined(separator: "\n"))
    }

    /// The features monitoring uses, one row a study: the reference, then each weekly window (its end day).
    static func export(_ records: [MonitoringRecord], to path: String, days: Double) throws {
        let reference = MonitorAnalysis.reference(model: "bench@1", records: records, saved: [], settings: referenceSettings)!
        var text = "set,input_mean,input_sd,input_p1,input_p99,input_saturated,kvp,slice_thickness,pixel_spacing,raw_score,manufacturer,scanner_model,kernel,body_part\n"
        func row(_ set: String, _ r: MonitoringRecord) -> String {
            let f = r.fingerprint, i = r.input!
            return "\(set),\(i.mean),\(i.standardDeviation),\(i.p1),\(i.p99),\(i.saturated),\(f.kvp ?? 0),\(f.sliceThickness ?? 0),\(f.pixelSpacing ?? 0),"
                + "\(r.rawScore),\(f.manufacturer ?? ""),\(f.model ?? ""),\(f.kernel ?? ""),\(f.bodyPart ?? "")\n"
        }
        for record in records where record.analysedAt <= reference.to { text += row("reference", record) }
        let now = start.addingTimeInterval(days * 86_400 - 0.001)
        for week in 0..<26 {
            let end = now.addingTimeInterval(-Double(week) * 7 * 86_400)
            guard end > reference.to else { break }
            for record in records where record.analysedAt > max(reference.to, end.addingTimeInterval(-14 * 86_400)) && record.analysedAt <= end {
                text += row("w\(week)", record)
            }
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Runs `program` under GNU time: its standard output, wall seconds and peak resident kilobytes.
    static func timed(_ program: String, _ arguments: [String], environment: [String: String]) throws -> (String, Double, Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/time")
        let report = NSTemporaryDirectory() + "lightbox-time-\(getpid())"
        process.arguments = ["-f", "%e %M", "-o", report, program] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CLIFailure("\(program) \(arguments.joined(separator: " ")) failed (exit \(process.terminationStatus))") }
        let figures = (try? String(contentsOfFile: report, encoding: .utf8))?.split(whereSeparator: \.isWhitespace) ?? []
        try? FileManager.default.removeItem(atPath: report)
        return (output, figures.count >= 2 ? Double(figures[figures.count - 2]) ?? 0 : 0, figures.count >= 2 ? Int(figures[figures.count - 1]) ?? 0 : 0)
    }
}
