import Foundation
import LightboxCore
import ReviewApp
import Testing
import TestSupport

/// The product's lanes: a stale slice is dropped before it decodes, the study being opened is
/// analysed first, similar cases never wait for the worklist's analysis, and a decision is
/// stamped by the effect that records it.
@Suite(.serialized)
struct EffectLaneTests {
    /// Holds one chosen call until released, and records the calls made.
    final class Gate: @unchecked Sendable {
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        private let lock = NSLock()
        private var calls: [String] = []

        func pass(_ name: String, holdIf held: Bool) {
            lock.lock()
            calls.append(name)
            lock.unlock()
            if held {
                started.signal()
                release.wait()
            }
        }

        var order: [String] {
            lock.lock()
            defer { lock.unlock() }
            return calls
        }
    }

    final class GatedSource: StudySource, @unchecked Sendable {
        let inner = InMemoryStudySource(studies: ReviewFixtures.studies(), pixels: ReviewFixtures.pattern)
        let gate = Gate()
        let held: SliceKey
        init(held: SliceKey) { self.held = held }
        var name: String { "gated" }
        func loadStudies(progress: (@Sendable (Int, Int) -> Void)?) throws -> (studies: [Study], summary: FolderIndexer.Summary) {
            try inner.loadStudies(progress: progress)
        }
        func decode(_ key: SliceKey) throws -> DecodedImage {
            gate.pass(key.path, holdIf: key == held)
            return try inner.decode(key)
        }
        func headerLines(_ key: SliceKey) throws -> [HeaderLine] { [] }
    }

    final class GatedAnalyser: StudyAnalyser, @unchecked Sendable {
        let gate = Gate()
        let held: String
        init(held: String) { self.held = held }
        var models: [String] { ["gated@1"] }
        var label: String { "gated" }
        func heatmap(for header: ImageHeader, frame: Int) -> Heatmap? { nil }
        func embedding(_ study: Study) throws -> (model: String, vector: [Float])? { nil }
        func analyse(_ study: Study) throws -> StudyResult {
            gate.pass(study.studyInstanceUID, holdIf: study.studyInstanceUID == held)
            return StudyResult(studyInstanceUID: study.studyInstanceUID, model: "gated", modelVersion: "1", probability: 0.5, rawProbability: 0.5,
                               tier: .review, reason: nil, findings: [], imagesAnalysed: 1, imagesSkipped: 0)
        }
    }

    struct InstantSimilar: SimilarCaseService {
        func similar(to study: Study, k: Int) throws -> [SimilarCase] { [] }
        func remember(_ study: Study, decision: Decision) throws {}
    }

    struct RecordingLedger: DecisionStore {
        let recorded = Recorded()
        final class Recorded: @unchecked Sendable {
            let lock = NSLock()
            var decisions: [Decision] = []
        }
        func record(_ decision: Decision) throws -> LedgerReceipt {
            recorded.lock.lock()
            defer { recorded.lock.unlock() }
            recorded.decisions.append(decision)
            return LedgerReceipt(sequence: recorded.decisions.count, hash: "h", inserted: true)
        }
        func recordEvent(_ event: String, subject: String, details: String) throws -> LedgerReceipt { LedgerReceipt(sequence: 0, hash: "", inserted: true) }
        func decisions() throws -> [Decision] { [] }
        func events(_ event: String) throws -> [AuditEvent] { [] }
        func head() throws -> LedgerReceipt? { nil }
        func auditHash(at sequence: Int) throws -> String? { nil }
        func verify(expectedHead: String?) throws -> LedgerVerification { LedgerVerification(rows: 0, head: nil, firstBadSequence: nil, problems: []) }
    }

    /// Messages posted to `inbox` until `done` says enough (at most 10 s).
    func collect(_ inbox: Inbox, until done: ([Message]) -> Bool) -> [Message] {
        var messages: [Message] = []
        let deadline = Date(timeIntervalSinceNow: 10)
        while !done(messages), deadline.timeIntervalSinceNow > 0 {
            inbox.wait(seconds: 0.05)
            messages += inbox.drain()
        }
        return messages
    }

    static let slices = ReviewFixtures.studies()[0].series[0].slices.map(\.key)

    @Test func aSliceMadeStaleByANewerRequestIsDroppedBeforeItDecodes() {
        let source = GatedSource(held: Self.slices[0])
        let inbox = Inbox()
        let runner = EffectRunner(environment: EffectEnvironment(source: source), inbox: inbox)
        runner.run(.showSlice(Self.slices[0], prefetch: []))
        source.gate.started.wait()
        // While slice 1 decodes, the reader presses on twice: slice 2 is stale before it starts.
        runner.run(.showSlice(Self.slices[1], prefetch: []))
        runner.run(.showSlice(Self.slices[2], prefetch: []))
        source.gate.release.signal()
        let messages = collect(inbox) { $0.contains { if case .sliceLoaded(let key, _, _) = $0 { key == Self.slices[2] } else { false } } }
        #expect(runner.shutdown(seconds: 5))
        #expect(source.gate.order == [Self.slices[0].path, Self.slices[2].path], "slice 2 was decoded: \(source.gate.order)")
        #expect(messages.count == 2, "the one in flight reports, the latest reports")
    }

    @Test func theStudyBeingOpenedIsAnalysedBeforeTheQueuedOnes() {
        let studies = ReviewFixtures.studies()
        let analyser = GatedAnalyser(held: "2.25.1")
        let inbox = Inbox()
        let runner = EffectRunner(environment: EffectEnvironment(source: GatedSource(held: SliceKey(path: "", frame: 0)), analyser: analyser),
                                  inbox: inbox)
        runner.run(.analyse(studies.map(\.studyInstanceUID), urgent: false))
        analyser.gate.started.wait()
        runner.run(.analyse([studies[2].studyInstanceUID], urgent: true))
        analyser.gate.release.signal()
        let messages = collect(inbox) { $0.count >= 3 }
        #expect(runner.shutdown(seconds: 5))
        #expect(analyser.gate.order == ["2.25.1", "2.25.3", "2.25.2"])
        #expect(messages.count == 3, "each study once")
    }

    @Test func similarCasesDoNotWaitForTheWorklistsAnalysis() {
        let studies = ReviewFixtures.studies()
        let analyser = GatedAnalyser(held: "2.25.1")
        let inbox = Inbox()
        let runner = EffectRunner(environment: EffectEnvironment(source: GatedSource(held: SliceKey(path: "", frame: 0)), analyser: analyser,
                                                                 similar: InstantSimilar()), inbox: inbox)
        runner.run(.analyse(studies.map(\.studyInstanceUID), urgent: false))
        analyser.gate.started.wait()
        runner.run(.findSimilar(studies[1]))
        let messages = collect(inbox) { $0.contains { if case .similarFound = $0 { true } else { false } } }
        #expect(messages.contains { if case .similarFound(let uid, _) = $0 { uid == "2.25.2" } else { false } },
                "similar cases arrived while the analysis of the first study was still running")
        #expect(analyser.gate.order == ["2.25.1"])
        analyser.gate.release.signal()
        #expect(runner.shutdown(seconds: 5))
    }

    @Test func aDecisionIsStampedByTheEffectWithTheRunnersClockAndIdAndARetryKeepsThem() throws {
        let ledger = RecordingLedger()
        let inbox = Inbox()
        let when = Date(timeIntervalSince1970: 1_790_000_000)
        let runner = EffectRunner(environment: EffectEnvironment(source: GatedSource(held: SliceKey(path: "", frame: 0)), decisions: ledger,
                                                                 now: { when }, makeID: { "decision-1" }), inbox: inbox)
        let study = ReviewFixtures.studies()[0]
        let result = StudyResult(studyInstanceUID: study.studyInstanceUID, model: "m", modelVersion: "1", probability: 0.9, rawProbability: 0.9,
                                 tier: .high, reason: nil, findings: [], imagesAnalysed: 1, imagesSkipped: 0)
        let unstamped = Decision.on(study, result: result, outputHash: result.outputHash, finding: nil, action: .accept, reason: nil,
                                    comment: nil, reader: "dr", secondsSpent: 3)
        #expect(!unstamped.isStamped)
        runner.run(.recordDecision(unstamped))
        let messages = collect(inbox) { !$0.isEmpty }
        guard case .decisionSaved(let saved, _)? = messages.first else {
            Issue.record("not saved: \(messages)")
            return
        }
        #expect(saved.id == "decision-1" && saved.decidedAt == Decision.timestamp(when))
        // A retry sends the stamped decision: nothing is stamped again.
        runner.run(.recordDecision(saved))
        _ = collect(inbox) { !$0.isEmpty }
        #expect(runner.shutdown(seconds: 5))
        #expect(ledger.recorded.decisions.map(\.id) == ["decision-1", "decision-1"])
        #expect(ledger.recorded.decisions.map(\.decidedAt) == [saved.decidedAt, saved.decidedAt])
    }
}
