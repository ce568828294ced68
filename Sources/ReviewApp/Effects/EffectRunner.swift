import LightboxCore
import Foundation

/// Runs effects on lanes that cannot block each other, each a serial queue:
/// - **slice**: the image on screen. Only the latest request runs: one made stale by a newer
///   key press is dropped before it decodes, so holding `j` never queues a decode per slice.
/// - **prefetch**: neighbours decoded ahead, dropped once the slice on screen has moved on.
/// - **overlay**: the heatmap of the image on screen (it may read the result cache), latest only.
/// - **analysis**: the models, one study at a time; the study being opened goes first.
/// - **similar**: similar cases and the case base, never queued behind the worklist's analysis.
/// - **ledger**: decision writes, in order.
/// - **worklist**: the folder scan and the header view.
/// - **monitor**: the monitoring report and acknowledgements, behind nothing the reader waits on.
/// - **claims**: who is reading what (department mode), in order, never behind a decision.
/// - **retrieve**: studies of a PACS fetched into the cache ahead of the reader (the next ones
///   in the list), never in the way of the study being opened.
/// - **open**: opening a study a PACS must fetch first (the slice lane stays free to decode the
///   first image while the rest arrives; a folder's study opens on the slice lane).
/// - **push**: verdict SRs sent to the PACS after a decision is saved, behind nothing else (a
///   PACS that does not answer delays no decision).
/// - **external**: other systems' AI results of the worklist's studies, read in the background
///   for the AI column (the study being opened reads its own on the worklist lane).
public final class EffectRunner: EffectRunning, @unchecked Sendable {
    private let work: EffectWork
    private let inbox: Inbox
    private let sliceLane = DispatchQueue(label: "lightbox.slice", qos: .userInteractive)
    private let prefetchLane = DispatchQueue(label: "lightbox.prefetch", qos: .utility)
    private let overlayLane = DispatchQueue(label: "lightbox.overlay", qos: .userInitiated)
    private let analysisLane = DispatchQueue(label: "lightbox.analysis", qos: .utility)
    private let similarLane = DispatchQueue(label: "lightbox.similar", qos: .userInitiated)
    private let ledgerLane = DispatchQueue(label: "lightbox.ledger", qos: .userInitiated)
    private let worklistLane = DispatchQueue(label: "lightbox.worklist", qos: .userInitiated)
    private let monitorLane = DispatchQueue(label: "lightbox.monitor", qos: .utility)
    private let claimsLane = DispatchQueue(label: "lightbox.claims", qos: .userInitiated)
    private let retrieveLane = DispatchQueue(label: "lightbox.retrieve", qos: .utility)
    private let openLane = DispatchQueue(label: "lightbox.open", qos: .userInitiated)
    private let pushLane = DispatchQueue(label: "lightbox.push", qos: .utility)
    private let externalLane = DispatchQueue(label: "lightbox.external", qos: .utility)
    /// The latest request of each latest-only lane.
    private let sliceGeneration = Generation()
    private let overlayGeneration = Generation()
    private let analyses = AnalysisQueue()

    /// A runner doing `environment`'s work and posting results to `inbox`.
    public init(environment: EffectEnvironment, inbox: Inbox) {
        work = EffectWork(environment: environment)
        self.inbox = inbox
    }

    /// Starts an effect on its lane.
    public func run(_ effect: Effect) {
        switch effect {
        case .loadWorklist:
            worklistLane.async { [work, inbox] in inbox.post(work.loadWorklist(progress: inbox.post)) }
        case .openStudy(let uid):
            // On the slice lane: opening another study makes this one stale too. A study a PACS
            // must fetch first opens on a lane of its own, so its first image decodes on the
            // slice lane while the rest arrives.
            let current = sliceGeneration.next()
            let lane = work.environment.source is any RetrievingStudySource ? openLane : sliceLane
            lane.async { [self] in
                guard sliceGeneration.isCurrent(current) else { return }
                inbox.post(work.openStudy(uid, post: inbox.post))
            }
        case .showSlice(let key, let prefetch):
            let current = sliceGeneration.next()
            sliceLane.async { [self] in
                // Stale before it starts: a newer slice was asked for.
                guard sliceGeneration.isCurrent(current) else { return }
                inbox.post(work.slice(key))
                for neighbour in prefetch {
                    prefetchLane.async { [self] in
                        guard sliceGeneration.isCurrent(current), !work.isHeld(neighbour) else { return }
                        work.prefetch(neighbour)
                    }
                }
            }
        case .loadOverlay(let entry):
            let current = overlayGeneration.next()
            overlayLane.async { [self] in
                guard overlayGeneration.isCurrent(current) else { return }
                inbox.post(work.overlay(entry))
            }
        case .showCompare(let uid):
            similarLane.async { [work, inbox] in inbox.post(work.compare(uid)) }
        case .loadHeader(let key):
            worklistLane.async { [work, inbox] in inbox.post(work.header(key)) }
        case .findFindings(let uid, let seriesIndex, let slices):
            overlayLane.async { [work, inbox] in
                if let message = work.findings(studyInstanceUID: uid, seriesIndex: seriesIndex, slices: slices) { inbox.post(message) }
            }
        case .analyse(let studies, let urgent):
            guard work.environment.analyser != nil else { return }
            if analyses.enqueue(studies, urgent: urgent) {
                analysisLane.async { [self] in
                    while let study = analyses.next() {
                        if let message = work.analyse(study) { inbox.post(message) }
                    }
                }
            }
        case .loadDecisions:
            ledgerLane.async { [work, inbox] in if let message = work.loadDecisions() { inbox.post(message) } }
        case .recordDecision(let decision):
            ledgerLane.async { [work, inbox] in inbox.post(work.record(decision)) }
        case .rememberCase(let uid, let decision):
            similarLane.async { [work, inbox] in if let message = work.remember(uid, decision: decision) { inbox.post(message) } }
        case .findSimilar(let study):
            similarLane.async { [work, inbox] in if let message = work.similar(to: study) { inbox.post(message) } }
        case .loadMonitor:
            monitorLane.async { [work, inbox] in if let message = work.loadMonitor() { inbox.post(message) } }
        case .acknowledgeAlert(let alert, let comment, let reader):
            monitorLane.async { [work, inbox] in for message in work.acknowledge(alert, comment: comment, reader: reader) { inbox.post(message) } }
        case .findAlertStudies(let alert, let uids):
            monitorLane.async { [work, inbox] in inbox.post(work.alertStudies(alert, among: uids)) }
        case .loadClaims:
            claimsLane.async { [work, inbox] in if let message = work.loadClaims() { inbox.post(message) } }
        case .claimStudy(let uid):
            claimsLane.async { [work, inbox] in if let message = work.claim(uid) { inbox.post(message) } }
        case .releaseClaim(let uid):
            claimsLane.async { [work] in work.release(uid) }
        case .readVerdicts(let study):
            worklistLane.async { [work, inbox] in if let message = work.readVerdicts(study) { inbox.post(message) } }
        case .readWorklistExternalResults(let uids):
            externalLane.async { [work, inbox] in work.readWorklistExternalResults(uids, post: inbox.post) }
        case .readExternalResults(let study):
            worklistLane.async { [work, inbox] in if let message = work.readExternalResults(study) { inbox.post(message) } }
        case .pushVerdicts:
            // A lane of its own: a PACS that does not answer holds up no decision being recorded.
            pushLane.async { [work, inbox] in if let message = work.pushVerdicts() { inbox.post(message) } }
        case .prefetchStudies(let uids):
            retrieveLane.async { [work] in for uid in uids { work.prefetch(study: uid) } }
        case .quit:
            break
        }
    }

    /// Drops what has not started (prefetching, queued analyses) and waits for work in flight,
    /// so nothing decodes while the process exits (DCMTK's globals are torn down at exit).
    public func shutdown(seconds: Double = 2) -> Bool {
        _ = sliceGeneration.next()
        _ = overlayGeneration.next()
        analyses.stop()
        let done = DispatchSemaphore(value: 0)
        let lanes = [sliceLane, prefetchLane, overlayLane, analysisLane, similarLane, ledgerLane, worklistLane, monitorLane, claimsLane,
                     retrieveLane, openLane, pushLane]
        DispatchQueue.global().async {
            for lane in lanes { lane.sync {} }
            done.signal()
        }
        return done.wait(timeout: .now() + seconds) == .success
    }
}

/// A counter of requests: a request is current until a newer one is made.
final class Generation: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }

    func isCurrent(_ candidate: Int) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return candidate == value
    }
}

/// Studies waiting for the models, in the order they will run: urgent ones (the study being
/// opened) before the rest, each study once.
final class AnalysisQueue: @unchecked Sendable {
    private let lock = NSLock()
    /// Waiting studies from `head` on (a worklist of 100,000 is not shifted once a study).
    private var pending: [String] = []
    private var head = 0
    private var draining = false
    private var stopped = false

    /// Queues studies; true when the caller must start draining (nobody is).
    func enqueue(_ studies: [String], urgent: Bool) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return false }
        let uids = Set(studies)
        var waiting = pending[head...].filter { !uids.contains($0) }
        if urgent { waiting.insert(contentsOf: studies, at: 0) } else { waiting.append(contentsOf: studies) }
        pending = waiting
        head = 0
        let start = !draining
        draining = true
        return start
    }

    /// The next study, or nil (and draining ends) when none is left.
    func next() -> String? {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped, head < pending.count else {
            draining = false
            pending.removeAll()
            head = 0
            return nil
        }
        head += 1
        return pending[head - 1]
    }

    /// Forgets what is queued and takes no more.
    func stop() {
        lock.lock()
        stopped = true
        pending.removeAll()
        head = 0
        lock.unlock()
    }
}
