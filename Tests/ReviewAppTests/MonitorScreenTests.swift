import Foundation
import LightboxCore
import LightboxServices
import ReviewApp
import Store
import Testing
import TerminalUI
import TestSupport

/// Monitoring in the reviewer over the real result store and ledger: the worklist header counts
/// the open alerts, M opens the monitor screen, Enter narrows the worklist to the alert's studies,
/// Esc shows all again, and an acknowledgement (with its comment) lands in the ledger's chain.
struct MonitorScreenTests {
    /// 200 reference studies from one kernel, then 200 in the last days with a new kernel; two
    /// of the new ones are worklist studies of the fixture.
    static func service(_ folder: TemporaryFolder, worklist: [String]) throws -> (MonitorService, SQLiteDecisionLedger) {
        let store = try SQLiteResultCache(path: folder.file("results.sqlite"))
        let ledger = try SQLiteDecisionLedger(path: folder.file("decisions.sqlite"))
        let now = Date()
        var records: [MonitoringRecord] = []
        for index in 0..<400 {
            let recent = index >= 200
            let time = recent ? now.addingTimeInterval(-Double(400 - index) * 1_800) : now.addingTimeInterval(-40 * 86_400 + Double(index) * 1_800)
            let key = recent && index - 200 < worklist.count ? MonitoringKeys.study(worklist[index - 200]) : "key\(index)"
            let wobble = Double(index % 7) / 100
            records.append(MonitoringRecord(studyKey: key, model: "m@1", site: "local", analysedAt: time,
                                            fingerprint: ScannerFingerprint(manufacturer: "Acme", model: "Scan-1", kernel: recent ? "FC51" : "B30f"),
                                            input: InputStatistics(mean: 0.4 + wobble, standardDeviation: 0.2, p1: 0.01, p99: 0.9, saturated: 0.01),
                                            rawScore: 0.3 + wobble, probability: 0.3 + wobble, tier: .medium, outOfDomain: false, domainDistance: nil, images: 1))
        }
        try store.record(records)
        return (MonitorService(store: store, ledger: ledger, settings: MonitorSettings(referenceStudies: 200)), ledger)
    }

    @Test func alertsOpenFilterAndAcknowledge() throws {
        let folder = TemporaryFolder("monitor-screen")
        let studies = ReviewFixtures.studies()
        let chosen = Array(studies.prefix(2).map(\.studyInstanceUID))
        let (monitor, ledger) = try Self.service(folder, worklist: chosen)
        let terminal = VirtualTerminal(width: 160, height: 48, capabilities: TerminalCapabilities(colorDepth: .direct, unicode: true))
        let app = ReviewApplication(backend: terminal, source: InMemoryStudySource(studies: studies, pixels: ReviewFixtures.pattern), heatmaps: nil,
                                    monitor: monitor, theme: .dark, makeRunner: ImmediateEffectRunner.init)
        app.apply(.resized(width: 160, height: 48))
        app.start()
        app.processPendingMessages()
        #expect(app.state.visible.count == studies.count)
        let report = try #require(app.state.monitorReport)
        let novelty = try #require(report.alerts.first { $0.kind == .novelty })
        #expect(novelty.gated)
        // The header counts the open alerts and names the key.
        #expect(app.frame().textRows[1].contains("\(report.openAlerts.count) open monitoring alert(s) (M)"))

        app.apply(.key(.character("M")))
        #expect(app.state.screen == .monitor)
        let screen = app.frame().textRows.joined(separator: "\n")
        #expect(screen.contains(novelty.id) && screen.contains("FC51"))
        // Choose the novelty alert, then Enter: only its worklist studies are shown.
        let index = try #require(app.state.monitorReport?.alerts.firstIndex { $0.id == novelty.id })
        for _ in 0..<index { app.apply(.key(.down)) }
        app.apply(.key(.enter))
        #expect(app.state.screen == .worklist)
        #expect(Set(app.state.visibleStudies.map(\.studyInstanceUID)) == Set(chosen))
        #expect(app.frame().textRows[1].contains("Alert \(novelty.id): 2 studies"))
        app.apply(.key(.escape))
        #expect(app.state.visible.count == studies.count)

        // Acknowledge: a comment is required; Enter records it in the chain.
        app.apply(.key(.character("M")))
        for _ in 0..<index { app.apply(.key(.down)) }
        app.apply(.key(.character("a")))
        #expect(app.state.acknowledgePrompt?.alert.id == novelty.id)
        app.apply(.key(.enter))
        #expect(app.state.acknowledgePrompt != nil, "an empty comment is refused")
        for character in "new kernel after the upgrade" { app.apply(.key(.character(character))) }
        app.apply(.key(.enter))
        #expect(app.state.acknowledgePrompt == nil)
        #expect(app.state.message?.contains("Acknowledged alert \(novelty.id)") == true)
        #expect(try ledger.events(MonitorService.acknowledgementEvent).map(\.subject) == [novelty.id])
        #expect(try ledger.events(MonitorService.acknowledgementEvent).first?.payload.contains("new kernel after the upgrade") == true)
        #expect(app.state.monitorReport?.alerts.first { $0.id == novelty.id }?.acknowledged == true)
        #expect(try ledger.verify(expectedHead: nil).isIntact)
        app.apply(.key(.escape))
        #expect(app.state.screen == .worklist)
    }

    @Test func withoutMonitoringTheKeySaysSo() {
        let terminal = VirtualTerminal(width: 100, height: 30)
        let app = ReviewApplication(backend: terminal, source: InMemoryStudySource(studies: ReviewFixtures.studies(), pixels: ReviewFixtures.pattern),
                                    heatmaps: nil, theme: .dark, makeRunner: ImmediateEffectRunner.init)
        app.apply(.resized(width: 100, height: 30))
        app.start()
        app.processPendingMessages()
        app.apply(.key(.character("M")))
        #expect(app.state.screen == .worklist)
        #expect(app.state.message?.contains("Monitoring is not available") == true)
    }
}
