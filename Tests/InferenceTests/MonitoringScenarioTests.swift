import DicomReading
import Foundation
import ImageOutput
import Inference
import LightboxCore
import LightboxServices
import Store
import Testing
import TestSupport

/// Monitoring end to end through the real pipeline: DICOM files written with DCMTK, read back
/// through the folder index, analysed by the ONNX engine (the test network), recorded by the
/// result store, verdicts in the SQLite ledger. A reference period from one scanner, then a second
/// scanner with shifted intensity and a new kernel, then the first scanner again with a reader
/// who overrides twice as often: each alert must fire in its window and stratum, and only there.
struct MonitoringScenarioTests {
    final class Clock: @unchecked Sendable {
        private let lock = NSLock()
        private var value = Date(timeIntervalSince1970: 0)
        var now: Date {
            get { lock.lock(); defer { lock.unlock() }; return value }
            set { lock.lock(); value = newValue; lock.unlock() }
        }
    }

    struct Scanner {
        let manufacturer: String, model: String, kernel: String, offsetHU: Double
    }

    static let acme = Scanner(manufacturer: "Acme", model: "Scan-1", kernel: "B30f", offsetHU: 0)
    static let bolt = Scanner(manufacturer: "Bolt", model: "Scan-9", kernel: "FC51", offsetHU: 150)
    static let day = 86_400.0
    static let start = Date(timeIntervalSince1970: 1_780_000_000)

    /// `count` one-image CT studies from `scanner`, each with its own level, in `folder`.
    static func writeStudies(_ count: Int, scanner: Scanner, period: Int, folder: String, random: inout SeededRandom) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for index in 0..<count {
            var header = Fixtures.header(rows: 32, columns: 32, bitsStored: 12, modality: "CT",
                                         study: "2.25.77\(period)\(1000 + index)", series: "2.25.88\(period)\(1000 + index)", instance: period * 10_000 + index)
            header.patientName = "CANARY^SECRET\(index)"
            header.patientID = "CANARY-ID-\(period)-\(index)"
            header.manufacturer = scanner.manufacturer
            header.manufacturerModelName = scanner.model
            header.convolutionKernel = scanner.kernel
            header.stationName = "CANARY-STATION"
            header.kvp = 120
            header.sliceThickness = 2.5
            header.pixelSpacing = [0.7, 0.7]
            header.rescaleIntercept = -1024
            header.rescaleSlope = 1
            let level = 1024 + 40 + scanner.offsetHU + random.gaussian() * 25
            var values = [Int32](repeating: 0, count: 32 * 32)
            for pixel in values.indices {
                let x = Double(pixel % 32), y = Double(pixel / 32)
                let body = ((x - 16) * (x - 16) + (y - 16) * (y - 16)) < 140 ? 60.0 : -40.0
                values[pixel] = Int32(min(4095, max(0, level + body + random.gaussian() * 20)))
            }
            try Fixtures.write(header, to: folder + "/s\(index).dcm", values: values)
        }
    }

    @Test func alertsFireInTheirWindowAndStratumOnly() throws {
        let folder = TemporaryFolder("monitor-scenario")
        var random = SeededRandom(seed: 14)
        let periods: [(Scanner, Double)] = [(Self.acme, 0.15), (Self.bolt, 0.15), (Self.acme, 0.35)]
        for (index, (scanner, _)) in periods.enumerated() {
            try Self.writeStudies(200, scanner: scanner, period: index, folder: folder.file("period\(index)"), random: &random)
        }
        let model = try ModelFolder(path: EngineTests.folder)
        let store = try SQLiteResultCache(path: folder.file("results.sqlite"))
        let ledger = try SQLiteDecisionLedger(path: folder.file("decisions.sqlite"))
        let index = try SQLiteWorklistIndex(path: folder.file("index.sqlite"))
        let clock = Clock()
        let recorder = MonitoringRecorder(store: store, site: "north", clock: { clock.now })
        var verdictRandom = SeededRandom(seed: 3)
        for (period, (_, overrideRate)) in periods.enumerated() {
            let source = FolderStudySource(root: folder.file("period\(period)"), index: index)
            let studies = try source.loadStudies(progress: nil).studies
            #expect(studies.count == 200)
            let triage = StudyTriage(source: source, detector: OnnxFindingDetector(folder: model), cache: store, settings: model.triageSettings,
                                     monitor: recorder)
            for (k, study) in studies.enumerated() {
                let time = Self.start.addingTimeInterval(Double(period) * 14 * Self.day + Double(k) * 14 * Self.day / Double(studies.count))
                clock.now = time
                let result = try triage.run(study)
                // The simulated reader: overrides at the period's rate, defers a few, takes about a minute.
                let draw = verdictRandom.uniform()
                let action: DecisionAction = draw < overrideRate ? .override : (draw > 0.95 ? .deferred : .accept)
                let decision = Decision.on(study, result: result, outputHash: "h", finding: nil, action: action,
                                           reason: action == .override ? .falsePositive : nil, comment: nil, reader: "reader-1",
                                           secondsSpent: 40 + verdictRandom.uniform() * 40)
                    .stamped(id: { UUID().uuidString }, at: time.addingTimeInterval(3_600))
                _ = try ledger.record(decision)
            }
        }
        let service = MonitorService(store: store, ledger: ledger, settings: MonitorSettings(windowDays: 14, minimumStudies: 150, referenceStudies: 200))
        let records = try store.monitoringRecords()
        #expect(records.count == 600)
        #expect(records.allSatisfy { $0.input != nil && $0.site == "north" })

        // End of the reference period: nothing after it, nothing to say but that.
        let first = try service.report(now: Self.start.addingTimeInterval(14 * Self.day - 1))
        #expect(first.alerts.isEmpty)
        let reference = try #require(try store.references().first)
        #expect(reference.basis == "first 200 studies")

        // After the second scanner's fortnight: novelty of manufacturer, scanner model and kernel, and input drift — gated.
        let second = try service.report(now: Self.start.addingTimeInterval(28 * Self.day))
        let novelties = Set(second.alerts.filter { $0.kind == .novelty }.map(\.feature))
        #expect(novelties == ["novelty: manufacturer", "novelty: scanner model", "novelty: convolution kernel"], "\(second.alerts.map(\.feature))")
        #expect(second.alerts.contains { $0.kind == .inputDrift && $0.gated })
        #expect(second.alerts.contains { $0.kind == .inputFeature && $0.feature == "input mean" })
        #expect(!second.alerts.contains { $0.kind == .overrideRate }, "the reader has not changed yet")
        #expect(second.alerts.filter { $0.kind == .novelty }.allSatisfy { $0.stratum == MonitorStratum(model: "tiny-test-network@0.0.1", site: "north") })
        // The new scanner's verdicts have no reference of their own: said, not computed.
        #expect(second.notes.contains { $0.contains("Bolt Scan-9") && $0.contains("insufficient data") })

        // After the first scanner's return with a reader who overrides twice as often.
        let third = try service.report(now: Self.start.addingTimeInterval(42 * Self.day))
        #expect(!third.alerts.contains { $0.kind == .novelty || $0.kind == .inputDrift }, "\(third.alerts.map { "\($0.kind) \($0.feature)" })")
        let breach = try #require(third.alerts.first { $0.kind == .overrideRate && $0.stratum.tier == nil })
        #expect(breach.gated)
        #expect(breach.stratum.scanner == "Acme Scan-1" && breach.stratum.site == "north")
        #expect(breach.since >= Self.start.addingTimeInterval(14 * Self.day), "the breach cannot start inside the reference")
        #expect(breach.value > breach.threshold)
        #expect(breach.studyKeys.count >= 150)
        #expect(third.openAlerts.contains(breach))

        // Acknowledging is an audit event in the chain, and the alert is no longer open.
        let receipt = try service.acknowledge(breach, comment: "reviewed with the reading room: new protocol", reader: "steward")
        #expect(receipt.inserted)
        let acknowledged = try service.report(now: Self.start.addingTimeInterval(42 * Self.day))
        #expect(acknowledged.alerts.first { $0.id == breach.id }?.acknowledged == true)
        #expect(!acknowledged.openAlerts.contains { $0.id == breach.id })
        #expect(try ledger.verify(expectedHead: nil).isIntact)
        #expect(try ledger.events(MonitorService.acknowledgementEvent).count == 1)
        #expect(throws: (any Error).self) { try service.acknowledge(breach, comment: "  ", reader: "steward") }

        // Canary: no patient name, patient ID, study UID or station name in the monitoring tables, the JSON or the PNG.
        let json = CanonicalJSON.string(third)
        let png = folder.file("monitor.png")
        try PNGWriter.write(MonitorChart.render(third), to: png)
        let pngText = MonitorChart.texts(third).joined(separator: "\n")
        let database = try Data(contentsOf: URL(fileURLWithPath: folder.file("results.sqlite")))
        for secret in ["CANARY", "2.25.771000", "2.25.772000", "CANARY-STATION"] {
            #expect(!json.contains(secret))
            #expect(!pngText.contains(secret))
            #expect(database.range(of: Data(secret.utf8)) == nil, "\(secret) in results.sqlite")
        }
        let picture = try PNGWriter.read(png)
        #expect(picture.width > 600 && picture.height > 200)
    }
}
