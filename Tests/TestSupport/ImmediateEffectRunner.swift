public import ReviewApp
import Foundation

/// Runs every effect at once on the calling thread, through the same `EffectWork` as the
/// product's lanes, so a test reads the state right after `apply` with no waiting or sleeping.
/// Records the effects it ran, in order.
public final class ImmediateEffectRunner: EffectRunning, @unchecked Sendable {
    private let work: EffectWork
    private let inbox: Inbox
    private let lock = NSLock()
    private var log: [Effect] = []
    /// Whether neighbours are decoded ahead (as the product's prefetch lane does).
    public var prefetches = true

    public init(environment: EffectEnvironment, inbox: Inbox) {
        work = EffectWork(environment: environment)
        self.inbox = inbox
    }

    /// The effects run so far.
    public var effects: [Effect] {
        lock.lock()
        defer { lock.unlock() }
        return log
    }

    public func run(_ effect: Effect) {
        lock.lock()
        log.append(effect)
        lock.unlock()
        switch effect {
        case .loadWorklist: inbox.post(work.loadWorklist(progress: inbox.post))
        case .openStudy(let uid): inbox.post(work.openStudy(uid, post: inbox.post))
        case .showSlice(let key, let prefetch):
            inbox.post(work.slice(key))
            if prefetches { for neighbour in prefetch where !work.isHeld(neighbour) { work.prefetch(neighbour) } }
        case .showCompare(let uid): inbox.post(work.compare(uid))
        case .loadOverlay(let entry): inbox.post(work.overlay(entry))
        case .loadHeader(let key): inbox.post(work.header(key))
        case .findFindings(let uid, let series, let slices):
            if let message = work.findings(studyInstanceUID: uid, seriesIndex: series, slices: slices) { inbox.post(message) }
        case .analyse(let studies, _):
            for study in studies { if let message = work.analyse(study) { inbox.post(message) } }
        case .loadDecisions: if let message = work.loadDecisions() { inbox.post(message) }
        case .recordDecision(let decision): inbox.post(work.record(decision))
        case .rememberCase(let uid, let decision): if let message = work.remember(uid, decision: decision) { inbox.post(message) }
        case .findSimilar(let study): if let message = work.similar(to: study) { inbox.post(message) }
        case .loadMonitor: if let message = work.loadMonitor() { inbox.post(message) }
        case .acknowledgeAlert(let alert, let comment, let reader): for message in work.acknowledge(alert, comment: comment, reader: reader) { inbox.post(message) }
        case .findAlertStudies(let alert, let uids): inbox.post(work.alertStudies(alert, among: uids))
        case .loadClaims: if let message = work.loadClaims() { inbox.post(message) }
        case .claimStudy(let uid): if let message = work.claim(uid) { inbox.post(message) }
        case .releaseClaim(let uid): work.release(uid)
        case .prefetchStudies(let uids): for uid in uids { work.prefetch(study: uid) }
        case .readVerdicts(let study): if let message = work.readVerdicts(study) { inbox.post(message) }
        case .readExternalResults(let study): if let message = work.readExternalResults(study) { inbox.post(message) }
        case .readWorklistExternalResults(let uids): work.readWorklistExternalResults(uids, post: inbox.post)
        case .pushVerdicts: if let message = work.pushVerdicts() { inbox.post(message) }
        case .quit: break
        }
    }

    public func shutdown(seconds: Double) -> Bool { true }
}
