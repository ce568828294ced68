import DepartmentStore
import Foundation
import Inference
import LightboxCore
import ReviewApp
import Testing
import TerminalUI
import TestSupport

/// Two readers in the reviewer on one department server: the tiny ONNX model's results shared
/// through the server's result cache, Alice's open study shown to Bob as "being read by",
/// Bob asked before opening it, his decision on it refused, and free again once Alice leaves.
extension DepartmentLedgerTests {
    func reviewer(_ location: PostgresLocation, reader: String, ledgerThrough: PostgresLocation? = nil,
                  timeoutSeconds: Int? = nil) throws -> (ReviewApplication, PostgresDecisionLedger) {
        let ledger = try PostgresDecisionLedger(ledgerThrough ?? location, password: "pw", timeoutSeconds: timeoutSeconds)
        let cache = try PostgresAnalysisStore(location, password: "pw")
        let model = try ModelFolder(path: Fixtures.repositoryRoot + "/Tests/InferenceTests/Fixtures/tiny-model")
        let source = InMemoryStudySource(studies: ReviewFixtures.studies(), pixels: ReviewFixtures.pattern)
        let triage = StudyTriage(source: source, detector: OnnxFindingDetector(folder: model), cache: cache, settings: model.triageSettings)
        let terminal = VirtualTerminal(width: 160, height: 48, capabilities: TerminalCapabilities(colorDepth: .direct, unicode: true))
        let app = ReviewApplication(backend: terminal, source: source, heatmaps: nil, analyser: FusedTriage(triages: [triage], cache: cache),
                                    decisions: ledger, claims: ledger, reader: reader, theme: .dark, makeRunner: ImmediateEffectRunner.init)
        app.apply(.resized(width: 160, height: 48))
        app.start()
        app.processPendingMessages()
        app.apply(.worklistLoaded(Worklist(studies: ReviewFixtures.studies().map(\.summary))))
        return (app, ledger)
    }

    @Test(.enabled(if: available || required, "needs PostgreSQL: run through `make test` (pg_virtualenv)"))
    func twoReadersSeeWhoIsReadingWhat() throws {
        let (server, roles) = try Self.department("review", readers: ["alice", "bob"])
        let (a, b) = (roles["alice"]!, roles["bob"]!)
        let (alice, _) = try reviewer(try server.location(a), reader: a)
        let (bob, bobLedger) = try reviewer(try server.location(b), reader: b)
        #expect(bob.state.results.count == 3, "\(bob.state.analysisErrors)")

        // Alice opens the first study: it is claimed for her.
        let study = alice.state.visibleStudies[alice.state.selectedRow].studyInstanceUID
        alice.apply(.key(.enter))
        #expect(alice.state.heldClaim == study)
        // Bob's worklist, at his next tick, says who reads it.
        bob.apply(.tick(at: 100))
        let row = try #require(bob.state.row(of: study))
        let worklist = bob.frame().textRows.joined(separator: "\n")
        #expect(worklist.contains("being read by \(a)") && worklist.contains("1 being read by others"), "\(worklist)")
        // Bob is asked before opening it; n leaves it closed, y opens it to view.
        while bob.state.selectedRow < row { bob.apply(.key(.down)) }
        while bob.state.selectedRow > row { bob.apply(.key(.up)) }
        bob.apply(.key(.enter))
        #expect(bob.state.claimPrompt != nil && bob.state.screen == .worklist)
        #expect(bob.frame().textRows.joined().contains("\(a) is reading this study"))
        bob.apply(.key(.character("n")))
        #expect(bob.state.claimPrompt == nil && bob.state.viewer == nil)
        bob.apply(.key(.enter))
        bob.apply(.key(.character("y")))
        #expect(bob.state.screen == .viewer && bob.state.heldClaim == nil)
        bob.apply(.key(.character("j")))
        #expect(bob.frame().textRows.joined().contains("being read by \(a): viewing only"), "the viewer keeps saying so")
        // His decision is not recorded while Alice reads it; the server refuses one too.
        bob.apply(.key(.character("a")))
        #expect(bob.state.message?.contains("\(a) is reading this study") == true, "\(bob.state.message ?? "")")
        #expect(try bobLedger.decisions().isEmpty)
        // Alice decides and leaves; Bob's next tick frees the study and his decision is saved.
        alice.apply(.key(.character("a")))
        #expect(alice.state.message?.hasPrefix("Saved: accept") == true, "\(alice.state.message ?? "")")
        alice.apply(.key(.character("q")))
        #expect(alice.state.heldClaim == nil)
        #expect(try bobLedger.liveClaims().isEmpty)
        bob.apply(.tick(at: 120))
        #expect(bob.state.claims.isEmpty && bob.state.heldClaim == study, "the study he has open is his now")
        bob.apply(.key(.character("d")))
        #expect(bob.state.message?.hasPrefix("Saved: defer") == true, "\(bob.state.message ?? "")")
    }
}
