import Foundation
import LightboxCore
import ReviewApp
import Testing
import TerminalUI
import TestSupport

/// Department mode in `Review.update`: what a claim does to opening, leaving, deciding and the tick.
struct ClaimUpdateTests {
    func loaded() -> AppState {
        var state = AppState(width: 160, height: 48, sourceName: "memory", model: .ready(["m@1"]), reader: "bob")
        state.claimsAvailable = true
        _ = update(&state, .worklistLoaded(Worklist(studies: ReviewFixtures.studies().map(\.summary))))
        return state
    }

    func claim(_ uid: String, _ reader: String) -> StudyClaim {
        StudyClaim(studyInstanceUID: uid, reader: reader, until: Date(timeIntervalSince1970: 2_000_000_000))
    }

    @Test func openingClaimsLeavingReleasesAndTheTickRenews() {
        var state = loaded()
        let uid = state.visibleStudies[0].studyInstanceUID
        let effects = update(&state, .key(.enter))
        #expect(effects.contains(.claimStudy(uid)))
        _ = update(&state, .studyClaimed(claim(uid, "bob")))
        #expect(state.heldClaim == uid)
        #expect(update(&state, .tick(at: 20)) == [.claimStudy(uid), .loadClaims])
        // The next study: this one is given up, that one claimed.
        let next = update(&state, .key(.character("]")))
        #expect(next.contains(.releaseClaim(uid)) && next.contains(.claimStudy(state.viewer!.studyInstanceUID)))
        _ = update(&state, .studyClaimed(claim(state.viewer!.studyInstanceUID, "bob")))
        let leave = update(&state, .key(.character("q")))
        #expect(leave.contains(.releaseClaim(state.visibleStudies[1].studyInstanceUID)) && state.heldClaim == nil)
        // A claim answered after leaving is given back at once.
        #expect(update(&state, .studyClaimed(claim(uid, "bob"))) == [.releaseClaim(uid)])
        #expect(update(&state, .tick(at: 40)) == [.loadClaims], "nothing open, nothing renewed")
    }

    @Test func aStudyAnotherReaderHoldsIsOpenedOnlyAfterAskingAndNotDecidedOn() {
        var state = loaded()
        let uid = state.visibleStudies[1].studyInstanceUID
        _ = update(&state, .claimsLoaded([claim(uid, "alice"), claim("2.25.999", "bob")]))
        #expect(state.claims.keys.sorted() == [uid], "this reader's own claims are not someone else's")
        _ = press(&state, .down, .enter)
        #expect(state.claimPrompt?.claim.reader == "alice" && state.viewer == nil)
        // Its row moves while the question is open: the answer still opens that study.
        _ = update(&state, .studyAnalysed(result(uid)))
        #expect(state.row(of: uid) == 0)
        #expect(update(&state, .key(.character("x"))).isEmpty && state.claimPrompt != nil, "only y or n answers")
        let opened = update(&state, .key(.character("y")))
        #expect(state.viewer?.studyInstanceUID == uid && !opened.contains(.claimStudy(uid)) && state.heldClaim == nil)
        #expect(state.message?.contains("Viewing only: alice") == true)
        _ = update(&state, .studyAnalysed(result(uid)))
        #expect(update(&state, .key(.character("a"))).isEmpty && state.message?.contains("alice is reading this study") == true)
        // Alice leaves: the tick takes the claim (answered before the new list), and the reader is told.
        #expect(update(&state, .tick(at: 20)) == [.claimStudy(uid), .loadClaims])
        _ = update(&state, .studyClaimed(claim(uid, "bob")))
        _ = update(&state, .claimsLoaded([]))
        #expect(state.heldClaim == uid && state.message?.contains("alice has left this study") == true, "\(state.message ?? "")")
    }

    func result(_ uid: String) -> StudyResult {
        StudyResult(studyInstanceUID: uid, model: "m", modelVersion: "1", probability: 0.99, rawProbability: 0.99, tier: .high, reason: nil,
                    findings: [], imagesAnalysed: 3, imagesSkipped: 0)
    }

    func press(_ state: inout AppState, _ keys: Key...) -> [Effect] {
        keys.flatMap { update(&state, .key($0)) }
    }
}
