import DicomReading
import Foundation
import LightboxCore
import LightboxServices
import ReviewApp
import Store
import TerminalUI
import Testing
import TestSupport

/// Verdicts out, against a real Orthanc of their own (the chest CT only): a decision made with
/// `lightbox decide` and pushed with `lightbox decisions push` by STOW-RS and by C-STORE is found
/// by a QIDO-RS query for modality SR in its study, read back by DCMTK's dsrdump and by Lightbox,
/// never stored twice; a push while the PACS is down stays pending and goes once it is back.
@Suite(.serialized) struct VerdictPushTests {
    let home = TemporaryFolder("verdict-push")

    func lightbox(_ arguments: [String]) throws -> CommandRun { try CommandRun.lightbox(arguments, home: home.path) }

    /// The SR instances of `study` on the server (QIDO-RS, modality SR), by SOP Instance UID.
    static func srInstances(_ server: OrthancServer, study: String) throws -> [String] {
        let series = try DicomJSON.datasets(from: try server.get("/dicom-web/studies/\(study)/series?Modality=SR"))
        var uids: [String] = []
        for item in series {
            let seriesUID = item.string(0x0020, 0x000E)
            let instances = try DicomJSON.datasets(from: try server.get("/dicom-web/studies/\(study)/series/\(seriesUID)/instances"))
            uids += instances.map { $0.string(0x0008, 0x0018) }
        }
        return uids
    }

    static func outcome(_ run: CommandRun) throws -> VerdictPusher.Outcome {
        try JSONDecoder().decode(VerdictPusher.Outcome.self, from: Data(run.stdout.utf8))
    }

    @Test func aVerdictPushedByEachProtocolIsFoundReadBackAndNeverDoubled() throws {
        guard let server = try PacsFixture.shared(PacsFixture.pushFixture)?.server else { return }
        let study = OrthancTests.ctStudy
        let decided = try lightbox(["decide", study, "--override", "false-positive", "--comment", "Jane Doe again", "--finding", "1",
                                    "--id", "push-decision-1", "--source", server.dicomWebURL])
        #expect(decided.status == 0, "\(decided.stderr)")
        let srUID = VerdictPusher.sopInstanceUID(decisionID: "push-decision-1")

        // STOW-RS.
        let first = try lightbox(["decisions", "push", server.dicomWebURL, "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try Self.outcome(first).stored == [srUID])
        #expect(try Self.outcome(first).withoutFindings.isEmpty, "the AI result found again: the SR has its finding groups")
        #expect(try Self.srInstances(server, study: study).filter { $0 == srUID }.count == 1)

        // Read back: fetched from the PACS by Lightbox's own client, then by DCMTK and by Lightbox.
        let pacs = try #require(try SourceResolver.pacs(server.dicomWebURL, configuration: Configuration()))
        let listed = try pacs.connection.findInstances(studyInstanceUID: study)
        let match = try #require(listed.first { $0.sopInstanceUID == srUID })
        #expect(match.modality == "SR")
        let folder = home.file("fetched")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try pacs.connection.retrieve([match], into: folder) { _ in true }
        let fetched = folder + "/" + srUID + ".dcm"
        let dump = try CommandRun.program("/usr/bin/dsrdump", [fetched])
        #expect(dump.status == 0, "\(dump.stderr)")
        for expected in ["Imaging Measurement Report", "AI result overridden", "False positive", "Tracking Unique Identifier",
                         "Image Region", "push-decision-1"] {
            #expect(dump.stdout.contains(expected), "dsrdump lacks \(expected)")
        }
        // The comment stays here unless config.toml sends comments.
        #expect(!dump.stdout.contains("Jane Doe"))
        let back = try #require(VerdictReadBack(try StructuredReportFile.read(fetched)))
        #expect(back.decisionID == "push-decision-1")
        #expect(back.verdict?.action == .override && back.verdict?.reason == .falsePositive && back.verdict?.finding == 0)
        #expect(back.groups.count >= 1 && back.groups.allSatisfy { $0.trackingUID?.hasPrefix("2.25.") == true })
        #expect(back.groups[0].regionImage != nil && back.groups[0].regionPoints.count == 10)
        let info = try lightbox(["info", fetched])
        #expect(info.status == 0 && info.stdout.contains("Verdict") && info.stdout.contains("override (false positive) on finding 1"), "\(info.stdout)")

        // Fetched by C-MOVE in this process too: the storage SCP leaves dcmdata's input
        // correction as it was, so the SR still reads afterwards (DcmSCP turns it off globally).
        let moved = try #require(try SourceResolver.pacs(server.dimseMoveURL, configuration: Configuration()))
        let moveSource = PacsStudySource(connection: moved.connection, cache: InstanceCache(root: home.file("move-cache"), budgetBytes: 1 << 30),
                                         cacheKey: moved.cacheKey, index: try SQLiteWorklistIndex(path: home.file("move-index.sqlite")))
        _ = try moveSource.retrieve(study)
        let movedSR = moveSource.folder(of: study) + "/" + srUID + ".dcm"
        #expect(VerdictReadBack(try StructuredReportFile.read(movedSR))?.decisionID == "push-decision-1")
        #expect(VerdictReadBack(try StructuredReportFile.read(fetched))?.decisionID == "push-decision-1")

        // Again: nothing new.
        let again = try lightbox(["decisions", "push", server.dicomWebURL, "--json"])
        #expect(try Self.outcome(again).stored.isEmpty && Self.outcome(again).alreadyStored == 1)
        // By C-STORE (another destination for the ledger): stored, and still one instance on the PACS.
        let dimse = try lightbox(["decisions", "push", server.dimseURL, "--json"])
        #expect(dimse.status == 0, "\(dimse.stderr)")
        #expect(try Self.outcome(dimse).stored == [srUID])
        #expect(try Self.srInstances(server, study: study).filter { $0 == srUID }.count == 1)
        // The chain holds the SR once (UID and hash) and each confirmation, and verifies.
        let ledger = try SQLiteDecisionLedger(path: home.file("data/decisions.sqlite"))
        let made = try ledger.events(VerdictPusher.madeEvent)
        #expect(made.count == 1 && made[0].subject == srUID && made[0].payload.contains("sha256"))
        #expect(try ledger.events(VerdictPusher.storedEvent).count == 2)
        #expect(try ledger.verify(expectedHead: nil).isIntact)
        // The SR on the PACS is byte for byte the one recorded.
        let hash = try #require(try JSONDecoder().decode([String: String].self, from: Data(made[0].payload.utf8))["sha256"])
        #expect(try Self.sha256(fetched) == hash)
    }

    static func sha256(_ path: String) throws -> String {
        let run = try CommandRun.program("/usr/bin/sha256sum", [path])
        return String(run.stdout.prefix(64))
    }

    @Test func aPushWhileThePacsIsDownStaysPendingAndGoesOnceItIsBack() throws {
        guard let server = try PacsFixture.shared(PacsFixture.pushFixture)?.server else { return }
        let study = OrthancTests.ctStudy
        let decided = try lightbox(["decide", study, "--accept", "--id", "push-decision-2", "--source", server.dicomWebURL])
        #expect(decided.status == 0, "\(decided.stderr)")
        let srUID = VerdictPusher.sopInstanceUID(decisionID: "push-decision-2")
        server.stop()
        let down = try lightbox(["decisions", "push", server.dicomWebURL])
        #expect(down.status == 1)
        #expect(down.stdout.contains("NOT sent: 1 decision(s) still pending") && down.stdout.contains("connection refused"), "\(down.stdout)")
        try server.start()
        #expect(try !Self.srInstances(server, study: study).contains(srUID))
        let back = try lightbox(["decisions", "push", server.dicomWebURL, "--json"])
        #expect(back.status == 0, "\(back.stderr)")
        #expect(try Self.outcome(back).stored == [srUID])
        #expect(try Self.srInstances(server, study: study).filter { $0 == srUID }.count == 1)
        let read = try #require(VerdictReadBack(try StructuredReportFile.read(home.file("data/verdict-sr/\(srUID).dcm"))))
        #expect(read.studyVerdict == .accept && read.verdict?.finding == nil)
    }
}

extension VerdictPushTests {
    /// The reviewer with `[pacs] push_verdicts`: a decision an earlier session left pending (on a
    /// study in the cache) is sent at start, and opening the study reads the SR back into the panel.
    @Test func theReviewerSendsWhatWaitsAndShowsTheVerdictsItReadsBack() throws {
        guard let server = try PacsFixture.shared(PacsFixture.pushFixture)?.server else { return }
        let study = OrthancTests.ctStudy
        let pacs = try #require(try SourceResolver.pacs(server.dicomWebURL, configuration: Configuration()))
        let source = PacsStudySource(connection: pacs.connection, cache: InstanceCache(root: home.file("cache"), budgetBytes: 1 << 30),
                                     cacheKey: pacs.cacheKey, index: try SQLiteWorklistIndex(path: home.file("index.sqlite")))
        _ = try source.retrieve(study)
        let ledger = try SQLiteDecisionLedger(path: home.file("decisions.sqlite"))
        var decision = Decision(id: "review-push-1", studyInstanceUID: study, patientID: "LBX-0001", studyDate: "20260112", action: .deferred,
                                reader: "carol", secondsSpent: 3, model: "m", modelVersion: "1", outputHash: "h", probability: 0.5, tier: .review)
        decision.decidedAt = Decision.timestamp()
        _ = try ledger.record(decision)
        let pusher = VerdictPusher(destination: pacs.cacheKey, source: source, ledger: ledger, folder: home.file("sr"), allowComment: false,
                                   analyser: nil)
        let exchange = PacsVerdictExchange(reading: source, pusher: pusher, destinationName: "department")
        let terminal = VirtualTerminal(width: 160, height: 48, capabilities: TerminalCapabilities(colorDepth: .direct, unicode: true))
        let app = ReviewApplication(backend: terminal, source: source, heatmaps: nil, decisions: ledger, verdicts: exchange,
                                    analyseWorklist: false, theme: .dark, makeRunner: ImmediateEffectRunner.init)
        app.apply(.resized(width: 160, height: 48))
        app.start()
        app.processPendingMessages()
        #expect(app.state.message?.contains("verdict SR stored on department") == true, "\(app.state.message ?? "")")
        let srUID = VerdictPusher.sopInstanceUID(decisionID: "review-push-1")
        #expect(try Self.srInstances(server, study: study).contains(srUID))
        let row = try #require(app.state.row(of: study))
        while app.state.selectedRow < row { app.apply(.key(.down)) }
        app.apply(.key(.enter))
        app.processPendingMessages()
        #expect(app.state.pacsVerdicts[study]?.contains { $0.sopInstanceUID == srUID } == true)
        let screen = app.frame().textRows.joined(separator: "\n")
        #expect(screen.contains("Verdicts in the PACS:"), "\(screen)")
        #expect(app.state.pacsVerdicts[study]?.first { $0.sopInstanceUID == srUID }?.summary.hasPrefix("defer on the whole study by carol") == true)
    }
}
