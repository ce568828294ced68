public import LightboxCore
public import Foundation

/// Runs effects and reports their results as messages in an `Inbox`. `EffectRunner` runs them
/// on lanes off the main thread; the test support's immediate runner runs them inline.
public protocol EffectRunning: AnyObject, Sendable {
    /// Starts `effect`; its results arrive in the inbox.
    func run(_ effect: Effect)
    /// Drops queued work and waits up to `seconds` for work in flight; false when some is still
    /// running (a long scan), so the caller can leave without running global destructors under it.
    func shutdown(seconds: Double) -> Bool
}

/// The ports the effects work through, with the clock and the id maker a decision is stamped
/// with when it is recorded (never in `update`).
public struct EffectEnvironment: Sendable {
    public var source: any StudySource
    /// The overlay: the analyser's heatmaps, or another source (the samples' planted findings).
    public var heatmaps: (any HeatmapSource)?
    public var analyser: (any StudyAnalyser)?
    public var decisions: (any DecisionStore)?
    public var similar: (any SimilarCaseService)?
    /// Model monitoring (alerts in the worklist header, the monitor screen).
    public var monitor: (any MonitorSource)?
    /// Who is reading what (department mode).
    public var claims: (any StudyClaims)?
    /// Verdict SRs read back from a PACS's studies and sent to it.
    public var verdicts: (any VerdictExchange)?
    /// Other systems' AI results beside a study's images.
    public var externals: (any ExternalResultSource)?
    /// Decoded slices kept for the runner (prefetched neighbours, revisited slices).
    public var store: SliceStore
    /// Wall-clock time for decision stamps.
    public var now: @Sendable () -> Date
    /// A new decision id.
    public var makeID: @Sendable () -> String

    /// An environment over the given ports.
    public init(source: any StudySource, heatmaps: (any HeatmapSource)? = nil, analyser: (any StudyAnalyser)? = nil,
                decisions: (any DecisionStore)? = nil, similar: (any SimilarCaseService)? = nil, monitor: (any MonitorSource)? = nil,
                claims: (any StudyClaims)? = nil, verdicts: (any VerdictExchange)? = nil, externals: (any ExternalResultSource)? = nil,
                store: SliceStore = SliceStore(),
                now: @escaping @Sendable () -> Date = { Date() },
                makeID: @escaping @Sendable () -> String = { UUID().uuidString.lowercased() }) {
        self.source = source
        self.heatmaps = heatmaps
        self.analyser = analyser
        self.decisions = decisions
        self.similar = similar
        self.monitor = monitor
        self.claims = claims
        self.verdicts = verdicts
        self.externals = externals
        self.store = store
        self.now = now
        self.makeID = makeID
    }
}

/// What each effect does, as a function from its inputs to the messages it reports; shared by
/// every runner, so the lanes decide only when work runs, never what it does.
public struct EffectWork: Sendable {
    public let environment: EffectEnvironment

    /// Work over `environment`.
    public init(environment: EffectEnvironment) { self.environment = environment }

    /// The worklist (one summary a study); progress is reported every 25 files.
    public func loadWorklist(progress: @escaping @Sendable (Message) -> Void) -> Message {
        let source = environment.source
        do {
            if let paged = source as? any PagedStudySource {
                return .worklistLoaded(try paged.loadWorklist(pages: { progress(.worklistPage($0)) }))
            }
            return .worklistLoaded(try source.loadWorklist { done, total in
                if done == total || done % 25 == 0 { progress(.worklistProgress(done: done, total: total)) }
            })
        } catch {
            return .worklistFailed("\(source.name): \(error)")
        }
    }

    /// A study fetched ahead (a PACS's, into its cache); a failure is left for the open to report.
    public func prefetch(study studyInstanceUID: String) {
        _ = try? environment.source.study(studyInstanceUID)
    }

    /// A study's series and instances, to open it. A source that fetches the study first (a PACS)
    /// posts it with its first image as soon as that is here (`.studyOpened`), then the whole
    /// study (`.studyCompleted`).
    public func openStudy(_ studyInstanceUID: String, post: (@Sendable (Message) -> Void)? = nil) -> Message {
        if let post, let retrieving = environment.source as? any RetrievingStudySource {
            do { return .studyCompleted(try retrieving.study(studyInstanceUID) { post(.studyOpened($0)) }) } catch {
                return .studyOpenFailed(studyInstanceUID: studyInstanceUID, "\(error)")
            }
        }
        do { return .studyOpened(try environment.source.study(studyInstanceUID)) } catch {
            return .studyOpenFailed(studyInstanceUID: studyInstanceUID, "\(error)")
        }
    }

    /// A similar case: the middle image of its first series, decoded.
    public func compare(_ studyInstanceUID: String) -> Message {
        do {
            let study = try environment.source.study(studyInstanceUID)
            let slices = study.series.first?.slices ?? []
            guard !slices.isEmpty else { return .compareFailed(studyInstanceUID: studyInstanceUID, "the case has no images") }
            let key = slices[slices.count / 2].key
            switch slice(key) {
            case .sliceLoaded(_, let image, let window): return .compareLoaded(studyInstanceUID: studyInstanceUID, key, image: image, window: window)
            case .sliceFailed(_, let text): return .compareFailed(studyInstanceUID: studyInstanceUID, text)
            default: return .compareFailed(studyInstanceUID: studyInstanceUID, "not decoded")
            }
        } catch {
            return .compareFailed(studyInstanceUID: studyInstanceUID, "\(error)")
        }
    }

    /// True when the slice is decoded and held.
    public func isHeld(_ key: SliceKey) -> Bool { environment.store.contains(key) }

    /// The slice from the store, else decoded and stored; the failure names the file.
    public func slice(_ key: SliceKey) -> Message {
        let store = environment.store
        if let image = store.image(key), let window = store.initialWindow(key) {
            return .sliceLoaded(key, image: image, window: window)
        }
        do {
            let image = try environment.source.decode(key)
            store.insert(image, for: key)
            return .sliceLoaded(key, image: image, window: store.initialWindow(key) ?? WindowPreset.initialWindow(for: image))
        } catch {
            let text = "\(error)"
            return .sliceFailed(key, text.contains(key.path) ? text : "\(key.description): \(text)")
        }
    }

    /// Decodes a neighbour into the store ahead of need; nothing is reported.
    public func prefetch(_ key: SliceKey) {
        guard !environment.store.contains(key), let image = try? environment.source.decode(key) else { return }
        environment.store.insert(image, for: key)
    }

    /// The header lines of an image.
    public func header(_ key: SliceKey) -> Message {
        do { return .headerLoaded(try environment.source.headerLines(key)) } catch { return .headerFailed("\(error)") }
    }

    /// The overlay of one image (nil when there is none).
    public func overlay(_ entry: SliceEntry) -> Message {
        .overlayLoaded(entry.key, environment.heatmaps?.heatmap(for: entry.header, frame: entry.key.frame))
    }

    /// The slices of a series that have an overlay finding.
    public func findings(studyInstanceUID: String, seriesIndex: Int, slices: [SliceEntry]) -> Message? {
        guard let heatmaps = environment.heatmaps else { return nil }
        let indices = slices.indices.filter { heatmaps.heatmap(for: slices[$0].header, frame: slices[$0].key.frame) != nil }
        return .findingsFound(studyInstanceUID: studyInstanceUID, seriesIndex: seriesIndex, slices: indices)
    }

    /// The models' result for one study (its instances loaded from the source first).
    public func analyse(_ studyInstanceUID: String) -> Message? {
        guard let analyser = environment.analyser else { return nil }
        do { return .studyAnalysed(try analyser.analyse(try environment.source.study(studyInstanceUID))) } catch {
            return .studyAnalysisFailed(studyInstanceUID: studyInstanceUID, "\(error)")
        }
    }

    /// The saved decisions.
    public func loadDecisions() -> Message? {
        guard let decisions = environment.decisions else { return nil }
        do { return .decisionsLoaded(try decisions.decisions()) } catch { return .decisionsFailed("\(error)") }
    }

    /// The monitoring report (nil without monitoring).
    public func loadMonitor() -> Message? {
        guard let monitor = environment.monitor else { return nil }
        do { return .monitorLoaded(try monitor.report()) } catch { return .monitorFailed("\(error)") }
    }

    /// Acknowledges an alert; the report is read again after it.
    public func acknowledge(_ alert: MonitorAlert, comment: String, reader: String) -> [Message] {
        guard let monitor = environment.monitor else { return [.alertAcknowledgeFailed(alert.id, "monitoring is not available")] }
        do {
            let receipt = try monitor.acknowledge(alert, comment: comment, reader: reader)
            return [.alertAcknowledged(alert.id, receipt)] + (loadMonitor().map { [$0] } ?? [])
        } catch {
            return [.alertAcknowledgeFailed(alert.id, "\(error)")]
        }
    }

    /// The studies among `uids` an alert is about.
    public func alertStudies(_ alert: MonitorAlert, among uids: [String]) -> Message {
        .alertStudiesFound(alertID: alert.id, environment.monitor?.studies(matching: Set(alert.studyKeys), among: uids) ?? [])
    }

    /// Every live claim.
    public func loadClaims() -> Message? {
        guard let claims = environment.claims else { return nil }
        do { return .claimsLoaded(try claims.liveClaims()) } catch { return .claimsFailed("\(error)") }
    }

    /// Claims (or renews the claim on) a study.
    public func claim(_ studyInstanceUID: String) -> Message? {
        guard let claims = environment.claims else { return nil }
        do { return .studyClaimed(try claims.claim(studyInstanceUID)) } catch { return .claimFailed(studyInstanceUID: studyInstanceUID, "\(error)") }
    }

    /// Gives a claim up; a failure is not reported (the claim expires on its own).
    public func release(_ studyInstanceUID: String) {
        try? environment.claims?.release(studyInstanceUID)
    }

    /// Records a decision, stamping its id and time first when it has none (a retry keeps both).
    public func record(_ decision: Decision) -> Message {
        let stamped = decision.stamped(id: environment.makeID, at: environment.now())
        guard let decisions = environment.decisions else { return .decisionFailed(stamped, "no decision ledger") }
        do { return .decisionSaved(stamped, try decisions.record(stamped)) } catch { return .decisionFailed(stamped, "\(error)") }
    }

    /// Adds a decided study to the case base; a failure is reported, not swallowed.
    public func remember(_ studyInstanceUID: String, decision: Decision) -> Message? {
        guard let similar = environment.similar else { return nil }
        do {
            try similar.remember(try environment.source.study(studyInstanceUID), decision: decision)
            return nil
        } catch {
            return .caseNotRemembered(studyInstanceUID: studyInstanceUID, "\(error)")
        }
    }

    /// The cases most similar to a study.
    public func similar(to study: Study) -> Message? {
        guard let similar = environment.similar else { return nil }
        do { return .similarFound(studyInstanceUID: study.studyInstanceUID, try similar.similar(to: study, k: 5)) } catch {
            return .similarFailed(studyInstanceUID: study.studyInstanceUID, "\(error)")
        }
    }
}

extension EffectWork {
    public func readVerdicts(_ study: Study) -> Message? {
        guard let verdicts = environment.verdicts else { return nil }
        // A report that cannot be read is left out here (`lightbox info` says why).
        return .verdictsRead(studyInstanceUID: study.studyInstanceUID, (try? verdicts.verdicts(in: study)) ?? [])
    }

    public func readExternalResults(_ study: Study) -> Message? {
        guard let externals = environment.externals else { return nil }
        // An index knows the study's objects; without one (a PACS's cache folder) they are looked for beside its images.
        let known = environment.source.objects()
        let found = externals.externalResults(for: study, objects: known.map { $0[study.studyInstanceUID] ?? [] })
        return .externalResultsRead(studyInstanceUID: study.studyInstanceUID, found.results, problems: found.problems)
    }

    /// Every study of the worklist with objects the index knows: their results, one message each
    /// (for the worklist's AI column before they are opened).
    public func readWorklistExternalResults(_ uids: [String], post: (Message) -> Void) {
        guard let externals = environment.externals, let known = environment.source.objects(), !known.isEmpty else { return }
        for uid in uids {
            guard let paths = known[uid], !paths.isEmpty, let study = try? environment.source.study(uid) else { continue }
            let found = externals.externalResults(for: study, objects: paths)
            post(.externalResultsRead(studyInstanceUID: uid, found.results, problems: found.problems))
        }
    }

    public func pushVerdicts() -> Message? {
        guard let verdicts = environment.verdicts, verdicts.pushDestination != nil else { return nil }
        do { return .verdictsPushed(try verdicts.pushPending()) } catch {
            return .verdictsPushed(VerdictPushSummary(stored: 0, pending: 0, failure: "\(error)"))
        }
    }
}
