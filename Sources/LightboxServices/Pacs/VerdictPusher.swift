import Crypto
import DicomReading
import Foundation
import Inference
public import LightboxCore
public import ReviewApp
import Store

/// Sends decisions back to a PACS as verdict SRs (TID 1500), into the studies they are about.
///
/// Each decision gives one SR whose UIDs are derived from the decision (its SOP Instance UID from
/// the decision id, the series from the study, the tracking UIDs from the AI result and the
/// finding), written the same, byte for byte, however often it is made. The audit chain records
/// each SR once when it is first made (`verdict-sr`: its SOP Instance UID and SHA-256) and each
/// destination that confirmed it (`verdict-sr-stored`); a decision without the second for this
/// destination is pending, so a push that failed is sent again by the next one (never lost), and a
/// repeat stores the same instance again (never a second one).
public final class VerdictPusher: @unchecked Sendable {
    public struct Outcome: Sendable, Codable, Equatable {
        /// SR SOP Instance UIDs the PACS confirmed in this run.
        public var stored: [String] = []
        /// Decisions already on this PACS before the run.
        public var alreadyStored = 0
        /// Decisions left out, with why (the study is not on this PACS, say).
        public var skipped: [String] = []
        /// Decisions whose SR carries no finding groups: no model, or the AI result is not the one
        /// decided on any more (the model changed since), with why.
        public var withoutFindings: [String] = []
        /// Decisions whose SR still waits (the PACS failed), with the failure.
        public var pending = 0
        public var failure: String?
        public var seconds = 0.0
    }

    public static let madeEvent = "verdict-sr"
    public static let storedEvent = "verdict-sr-stored"

    let destination: String
    let source: PacsStudySource
    let ledger: any DecisionStore
    let folder: String
    let allowComment: Bool
    let analyser: FusedTriage?

    /// `destination` is the source's name as the audit chain records it; SR files are kept in
    /// `folder`; with `allowComment` false no comment leaves this machine.
    public init(destination: String, source: PacsStudySource, ledger: any DecisionStore, folder: String, allowComment: Bool,
                analyser: FusedTriage?) {
        self.destination = destination
        self.source = source
        self.ledger = ledger
        self.folder = folder
        self.allowComment = allowComment
        self.analyser = analyser
    }

    /// The pusher for `text` (a named source or a PACS address), with the configured models
    /// (to find each decision's AI result again, from the result cache) and ledger.
    /// `reading` (and its `analyser`) are reused when `text` names the PACS being read; `ledger`
    /// is the session's own when it has one.
    public static func open(_ text: String, paths: AppPaths, configuration: Configuration, models: [String] = [],
                            reading: PacsStudySource? = nil, analyser readingAnalyser: FusedTriage? = nil,
                            ledger given: (any DecisionStore)? = nil) throws -> VerdictPusher {
        guard let pacs = try SourceResolver.pacs(text, configuration: configuration) else {
            throw CLIFailure("\(text): verdicts go to a PACS (a [sources.NAME], an http(s)://…/dicom-web URL or dicom://AET@host:port), not a folder")
        }
        let source: PacsStudySource
        var analyser: FusedTriage?
        if let reading, reading.cacheKey == pacs.cacheKey {
            source = reading
            analyser = readingAnalyser
        } else {
            let index = try SQLiteWorklistIndex(path: paths.indexDatabase)
            source = PacsStudySource(connection: pacs.connection, cache: SourceResolver.cache(paths, configuration: configuration),
                                     cacheKey: pacs.cacheKey, index: index)
            analyser = try? ModelLocator.analyser(try ModelLocator.loadAll(models, configured: configuration.models), source: source,
                                                  paths: paths, configuration: configuration)
        }
        let ledger = try given ?? LedgerLocator.open(paths, configuration: configuration).store
        return VerdictPusher(destination: pacs.cacheKey, source: source, ledger: ledger, folder: paths.dataDirectory + "/verdict-sr",
                             allowComment: configuration.sendComments, analyser: analyser)
    }

    /// The PACS as the user names it.
    public var destinationName: String { source.connection.displayName }

    // MARK: UIDs

    static func derived(_ parts: String...) -> String {
        DerivedUID.uid(digest: Array(SHA256.hash(data: Data(parts.joined(separator: "\u{1f}").utf8))))
    }

    public static func sopInstanceUID(decisionID: String) -> String { derived("lightbox verdict sr", decisionID) }
    public static func seriesInstanceUID(studyInstanceUID: String) -> String { derived("lightbox verdict series", studyInstanceUID) }
    public static func deviceUID(model: String, version: String) -> String { derived("lightbox model", model, version) }
    public static func trackingUID(outputHash: String, finding: Int) -> String { derived("lightbox finding", outputHash, String(finding)) }

    // MARK: the report

    /// The report of `decision` on `study`: the finding groups when `result` is the one decided
    /// on (its output hash matches), else only the decision's own call and verdict.
    /// A decision on another system's result (`external`) keeps that result's tracking IDs and
    /// UIDs in its groups and names the assessed objects in the evidence.
    public static func report(_ decision: Decision, study: Study, result: StudyResult?, external: ExternalResult? = nil,
                              heatmapSize: (SliceEntry) -> (Int, Int)?) -> VerdictReport {
        let time = decision.decidedAt.text
        let digits = time.filter(\.isNumber)
        let contentDate = String(digits.prefix(8))
        let contentTime = String(digits.dropFirst(8).prefix(6))
        var groups: [VerdictReport.Group] = []
        if let result, result.outputHash == decision.outputHash {
            for (index, item) in result.findings.enumerated() {
                var region: VerdictReport.Region?
                let finding = item.finding
                if let series = study.series.first(where: { $0.seriesInstanceUID == item.seriesInstanceUID }) {
                    let slices = series.slices
                    if finding.peakSlice >= 0, finding.peakSlice < slices.count, finding.box.count == 4,
                       let (width, height) = heatmapSize(slices[finding.peakSlice]), width > 0, height > 0 {
                        let header = slices[finding.peakSlice].header
                        // Cells to pixels: the heatmap covers the whole image.
                        let sx = Double(header.columns) / Double(width), sy = Double(header.rows) / Double(height)
                        let x0 = Int((Double(finding.box[0]) * sx).rounded(.down)), y0 = Int((Double(finding.box[1]) * sy).rounded(.down))
                        let x1 = Int((Double(finding.box[0] + finding.box[2]) * sx).rounded(.up)) - 1
                        let y1 = Int((Double(finding.box[1] + finding.box[3]) * sy).rounded(.up)) - 1
                        region = .box([x0, y0, max(x0, x1), max(y0, y1)], sopClassUID: header.sopClassUID, sopInstanceUID: header.sopInstanceUID)
                    }
                }
                let theirs = external.flatMap { index < $0.findings.count ? $0.findings[index] : nil }
                var group = VerdictReport.Group(trackingID: theirs.map { $0.trackingID ?? $0.label } ?? "AI finding \(index + 1)",
                                                trackingUID: theirs?.trackingUID ?? trackingUID(outputHash: decision.outputHash, finding: index),
                                                probability: decision.probability, tier: decision.tier, region: region)
                group.peak = finding.peak
                if decision.finding == index {
                    group.verdict = decision.action
                    group.reason = decision.reason
                    group.comment = decision.comment
                }
                groups.append(group)
            }
        }
        let onFinding = decision.finding.map { $0 < groups.count } ?? false
        var report = VerdictReport(decisionID: decision.id, studyInstanceUID: decision.studyInstanceUID,
                             seriesInstanceUID: seriesInstanceUID(studyInstanceUID: decision.studyInstanceUID),
                             sopInstanceUID: sopInstanceUID(decisionID: decision.id), contentDate: contentDate, contentTime: contentTime,
                             reader: decision.reader, model: decision.model, modelVersion: decision.modelVersion,
                             deviceUID: deviceUID(model: decision.model, version: decision.modelVersion), groups: groups,
                             studyVerdict: onFinding ? nil : decision.action, studyReason: onFinding ? nil : decision.reason,
                             studyComment: onFinding ? nil : decision.comment, studyProbability: decision.probability,
                             studyTier: decision.tier)
        // The assessed objects: the result's when found again, else the one the decision names.
        if let external {
            report.assessedObjects = external.objects
        } else if let assessed = decision.external {
            report.assessedObjects = [ExternalObjectReference(sopInstanceUID: assessed.objectUID, kind: assessed.objectKind, path: "",
                                                              contentHash: assessed.objectHash)]
        }
        return report
    }

    /// Why the SR of `decision` has no finding groups, nil when it has them (or the result had none).
    static func whyWithoutFindings(_ decision: Decision, result: StudyResult?, hasModel: Bool) -> String? {
        guard hasModel else { return "no model here to find the AI's findings again" }
        guard let result else { return "no AI result" }
        if result.outputHash != decision.outputHash {
            return "the AI result differs from the one decided on (\(result.model) \(result.modelVersion) now, \(decision.model) \(decision.modelVersion) then)"
        }
        return nil
    }

    /// What one run has found so far: the studies (and their AI results), so a study is listed
    /// and fetched once however many decisions are on it, and the SRs the chain already records.
    struct Run {
        var studies: [String: (Study, StudyResult?)] = [:]
        var made: Set<String>?
        /// Decisions on other systems' results whose result was not found again (their SR has no groups).
        var externalMissing: Set<String> = []
    }

    /// Writes the SR of `decision` into the folder (again: the same bytes) and records it in the
    /// audit chain the first time. Returns the file and its SHA-256.
    func make(_ decision: Decision, run: inout Run) throws -> (path: String, sha256: String) {
        let study: Study, result: StudyResult?
        if let known = run.studies[decision.studyInstanceUID] {
            (study, result) = known
        } else {
            study = try source.study(decision.studyInstanceUID)
            result = try analyser?.analyse(study)
            run.studies[decision.studyInstanceUID] = (study, result)
        }
        let report: VerdictReport
        if decision.external != nil {
            // Another system's result: found again among the study's objects (boxes in image pixels).
            let external = ExternalResultReader().results(for: study).results.first {
                $0.source == decision.model && $0.version == decision.modelVersion
            }
            report = Self.report(decision, study: study, result: external?.result, external: external) { ($0.header.columns, $0.header.rows) }
            if report.groups.isEmpty { run.externalMissing.insert(decision.id) }
        } else {
            report = Self.report(decision, study: study, result: result) { [analyser] slice in
                analyser?.heatmap(for: slice.header, frame: slice.key.frame).map { ($0.width, $0.height) }
            }
        }
        guard let template = study.series.first?.instances.first?.path else {
            throw PacsError(source: source.connection.displayName, kind: .notFound, reason: "\(decision.studyInstanceUID) holds no image to take the patient from")
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/" + report.sopInstanceUID + ".dcm"
        let library = Array(Set(report.groups.compactMap { $0.region?.sopInstanceUID }))
        let libraryFiles = study.series.flatMap(\.instances).filter { library.contains($0.header.sopInstanceUID) }.map(\.path)
        try StructuredReportFile.write(report, template: template, library: libraryFiles.sorted(), allowComment: allowComment, to: path)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let hash = SHA256.hash(data: data).hexadecimal
        if run.made == nil { run.made = Set(try ledger.events(Self.madeEvent).map(\.subject)) }
        if run.made?.contains(report.sopInstanceUID) == false {
            run.made?.insert(report.sopInstanceUID)
            _ = try ledger.recordEvent(Self.madeEvent, subject: report.sopInstanceUID,
                                       details: CanonicalJSON.string(["decision": decision.id, "sha256": hash, "study": decision.studyInstanceUID]))
        }
        return (path, hash)
    }

    /// Decisions (made on or after `since`, YYYY-MM-DD) whose SR this destination has not confirmed.
    public func pending(since: String? = nil) throws -> (pending: [Decision], alreadyStored: Int) {
        let stored = Set(try ledger.events(Self.storedEvent).compactMap { event -> String? in
            guard let details = try? JSONDecoder().decode([String: String].self, from: Data(event.payload.utf8)),
                  details["destination"] == destination else { return nil }
            return event.subject
        })
        var pending: [Decision] = [], already = 0
        for decision in try ledger.decisions() where since.map({ decision.decidedAt.day >= $0 }) ?? true {
            if stored.contains(Self.sopInstanceUID(decisionID: decision.id)) { already += 1 } else { pending.append(decision) }
        }
        return (pending, already)
    }

    /// Pushes every pending decision (since `since`): made, stored by STOW-RS or C-STORE, and the
    /// confirmation recorded. Stops at the first PACS failure (what is left stays pending).
    /// With `cachedOnly`, only decisions on studies this source holds in the cache (the reviewer's
    /// push after each save: a decision on a folder's study is never asked of the PACS there, and
    /// one whose study was evicted waits for `decisions push`).
    public func push(since: String? = nil, cachedOnly: Bool = false, progress: ((Int, Int) -> Void)? = nil) throws -> Outcome {
        let started = Date()
        var outcome = Outcome()
        var (pending, already) = try pending(since: since)
        if cachedOnly {
            pending = pending.filter { FileManager.default.fileExists(atPath: source.folder(of: $0.studyInstanceUID)) }
        }
        outcome.alreadyStored = already
        var run = Run()
        for (index, decision) in pending.enumerated() {
            progress?(index, pending.count)
            let made: (path: String, sha256: String)
            do { made = try make(decision, run: &run) } catch let error as PacsError where error.kind == .notFound {
                outcome.skipped.append("\(decision.id): \(error.reason)")
                continue
            } catch {
                // The PACS down, or the SR not writable here: this one and the rest stay pending.
                outcome.pending = pending.count - index
                outcome.failure = "\(error)"
                break
            }
            do {
                try source.connection.store([made.path], studyInstanceUID: decision.studyInstanceUID)
            } catch {
                outcome.pending = pending.count - index
                outcome.failure = "\(error)"
                break
            }
            let uid = Self.sopInstanceUID(decisionID: decision.id)
            _ = try ledger.recordEvent(Self.storedEvent, subject: uid,
                                       details: CanonicalJSON.string(["destination": destination, "sha256": made.sha256]))
            outcome.stored.append(uid)
            if decision.external != nil {
                if run.externalMissing.contains(decision.id) {
                    outcome.withoutFindings.append("\(decision.id): \(decision.model) \(decision.modelVersion)'s result is not among the study's objects as decided on")
                }
            } else if let why = Self.whyWithoutFindings(decision, result: run.studies[decision.studyInstanceUID]?.1, hasModel: analyser != nil) {
                outcome.withoutFindings.append("\(decision.id): \(why)")
            }
        }
        progress?(pending.count, pending.count)
        outcome.seconds = Date().timeIntervalSince(started)
        return outcome
    }
}

/// The reviewer's verdict SRs (the `VerdictExchange` port): those a PACS study holds, read back
/// from the cache its retrieve filled, and this installation's pending ones sent to `[pacs]
/// push_verdicts`.
public final class PacsVerdictExchange: VerdictExchange, @unchecked Sendable {
    let reading: PacsStudySource?
    let pusher: VerdictPusher?
    let destinationName: String?

    public init(reading: PacsStudySource?, pusher: VerdictPusher?, destinationName: String?) {
        self.reading = reading
        self.pusher = pusher
        self.destinationName = destinationName
    }

    /// The exchange for a reviewer session: nil when it reads a folder and pushes nowhere. A
    /// destination that cannot be set up is said in `problem`.
    public static func make(reading source: any StudySource, analyser: FusedTriage?, ledger: (any DecisionStore)?, paths: AppPaths,
                            configuration: Configuration) -> (exchange: PacsVerdictExchange?, problem: String?) {
        let reading = source as? PacsStudySource
        var pusher: VerdictPusher?
        var problem: String?
        if let destination = configuration.pushVerdictsTo {
            if let ledger {
                do {
                    pusher = try VerdictPusher.open(destination, paths: paths, configuration: configuration, reading: reading,
                                                    analyser: analyser, ledger: ledger)
                } catch { problem = "[pacs] push_verdicts = \"\(destination)\": \(error)" }
            } else {
                problem = "[pacs] push_verdicts: no decision ledger, so nothing to push"
            }
        }
        guard reading != nil || pusher != nil else { return (nil, problem) }
        return (PacsVerdictExchange(reading: reading, pusher: pusher, destinationName: pusher == nil ? nil : configuration.pushVerdictsTo), problem)
    }

    public var pushDestination: String? { destinationName }

    public func verdicts(in study: Study) throws -> [VerdictReadBack] {
        guard let reading else { return [] }
        let folder = reading.folder(of: study.studyInstanceUID)
        let images = Set(study.series.flatMap(\.instances).map { ($0.path as NSString).lastPathComponent })
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        var reports: [VerdictReadBack] = []
        for name in names.sorted() where name.hasSuffix(".dcm") && !name.hasPrefix(".") && !images.contains(name) {
            let path = folder + "/" + name
            // A report that cannot be read is left out here (`lightbox info` says why).
            guard let file = try? DicomFile.open(path), file.identity.sopClass.hasPrefix("1.2.840.10008.5.1.4.1.1.88."),
                  let content = try? StructuredReportFile.read(path), let report = VerdictReadBack(content) else { continue }
            reports.append(report)
        }
        return reports.sorted { $0.contentDate < $1.contentDate }
    }

    public func pushPending() throws -> VerdictPushSummary {
        guard let pusher else { return VerdictPushSummary(stored: 0, pending: 0, failure: nil) }
        let outcome = try pusher.push(cachedOnly: true)
        return VerdictPushSummary(stored: outcome.stored.count, pending: outcome.pending, failure: outcome.failure)
    }
}
