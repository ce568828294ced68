import Foundation
import Inference
import LightboxCore
import LightboxServices
import Store
import Testing
import TestSupport

/// Recalibration on a miscalibrated scenario: the model's raw scores are overconfident (the truth
/// is sigmoid(logit(raw) / 3)); readers' verdicts imply labels drawn from the truth. The refit must
/// find a temperature near 3, lower the held-out ECE, write a loadable folder beside the old one
/// and an audit event, and refuse to run on too few verdicts.
struct RecalibrationTests {
    static func setUp(_ folder: TemporaryFolder, studies: Int) throws -> (ModelFolder, SQLiteResultCache, SQLiteDecisionLedger) {
        let path = folder.file("tiny")
        try FileManager.default.copyItem(atPath: EngineTests.folder, toPath: path)
        let model = try ModelFolder(path: path)
        let identity = "\(model.card.name)@\(model.card.version)"
        let store = try SQLiteResultCache(path: folder.file("results.sqlite"))
        let ledger = try SQLiteDecisionLedger(path: folder.file("decisions.sqlite"))
        var random = SeededRandom(seed: 21)
        let start = Date(timeIntervalSince1970: 1_780_000_000)
        var records: [MonitoringRecord] = []
        for index in 0..<studies {
            let uid = "2.25.5\(100_000 + index)"
            let logit = random.gaussian() * 2.5
            let raw = 1 / (1 + exp(-logit))
            let truth = 1 / (1 + exp(-logit / 3))
            let abnormal = random.uniform() < truth
            let time = start.addingTimeInterval(Double(index) * 600)
            records.append(MonitoringRecord(studyKey: MonitoringKeys.study(uid), model: identity, site: "local", analysedAt: time,
                                            fingerprint: ScannerFingerprint(), input: nil, rawScore: raw, probability: raw,
                                            tier: ConfidenceTier.of(probability: raw), outOfDomain: false, domainDistance: nil, images: 1))
            let agrees = abnormal == (raw >= 0.5)
            let decision = Decision(studyInstanceUID: uid, patientID: "P\(index)", studyDate: "20260101", action: agrees ? .accept : .override,
                                    reason: agrees ? nil : (abnormal ? .falseNegative : .falsePositive), reader: "r", secondsSpent: 30,
                                    model: model.card.name, modelVersion: model.card.version, outputHash: "h", probability: raw,
                                    tier: ConfidenceTier.of(probability: raw), decidedAt: Timestamp(time.addingTimeInterval(300)))
            _ = try ledger.record(decision)
        }
        try store.record(records)
        return (model, store, ledger)
    }

    @Test func refitLowersHeldOutErrorAndWritesANewVersion() throws {
        let folder = TemporaryFolder("recalibrate")
        let (model, store, ledger) = try Self.setUp(folder, studies: 3_000)
        let outcome = try ModelRecalibrator.run(model, store: store, ledger: ledger, method: .temperature, since: nil, minimum: 200)
        guard case .temperature(let t) = outcome.result.calibration else { Issue.record("not a temperature"); return }
        #expect(abs(t - 3) < 0.6, "fitted temperature \(t), truth 3")
        print("recalibration:", t, outcome.result.eceBefore, outcome.result.eceAfter)
        #expect(outcome.result.eceAfter.value < outcome.result.eceBefore.value)
        #expect(outcome.result.eceAfter.high < outcome.result.eceBefore.low, "before \(outcome.result.eceBefore), after \(outcome.result.eceAfter)")
        #expect(outcome.result.fitted == 2_100 && outcome.result.heldOut == 900)
        // Beside the old folder, the same weights, a new version with the new calibration, loadable.
        #expect(outcome.folder == model.path + "-recal1")
        let recalibrated = try ModelFolder(path: outcome.folder)
        #expect(recalibrated.card.version == "0.0.1-recal.1")
        #expect(recalibrated.card.calibrationFunction == outcome.result.calibration)
        #expect(FileManager.default.contentsEqual(atPath: model.path + "/model.onnx", andPath: outcome.folder + "/model.onnx"))
        let card = try String(contentsOfFile: outcome.folder + "/CARD.md", encoding: .utf8)
        #expect(card.contains("Same weights as tiny-test-network@0.0.1") && card.contains("ECE"))
        // An audit event in the chain; the chain verifies.
        #expect(try ledger.events("model-recalibration").map(\.subject) == ["tiny-test-network@0.0.1-recal.1"])
        #expect(try ledger.verify(expectedHead: nil).isIntact)
        // A second run writes the next version, never over the first.
        let second = try ModelRecalibrator.run(model, store: store, ledger: ledger, method: .platt, since: nil, minimum: 200)
        #expect(second.folder == model.path + "-recal2")
        guard case .platt(let a, _) = second.result.calibration else { Issue.record("not Platt"); return }
        #expect(abs(a - 1.0 / 3) < 0.08, "Platt slope \(a), truth 1/3")
    }

    @Test func refusesOnTooFewVerdicts() throws {
        let folder = TemporaryFolder("recalibrate-few")
        let (model, store, ledger) = try Self.setUp(folder, studies: 120)
        #expect { try ModelRecalibrator.run(model, store: store, ledger: ledger, method: .temperature, since: nil, minimum: 200) } throws: { error in
            "\(error)".contains("too few verdicts to recalibrate: 120 studies")
        }
        #expect(!FileManager.default.fileExists(atPath: model.path + "-recal1"))
        #expect(try ledger.events("model-recalibration").isEmpty)
    }
}
