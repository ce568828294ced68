public import Foundation
public import Inference
public import LightboxCore
public import Store

/// `lightbox model recalibrate`: a new model folder beside the old one with the same weights and
/// a calibration refitted on the readers' verdicts, its card saying what it was fitted and
/// measured on; recorded in the audit chain. Nothing uses it until config.toml names it.
public enum ModelRecalibrator {
    public struct Outcome: Sendable {
        public var folder: String
        public var version: String
        public var result: Recalibration.Result
    }

    public static func run(_ model: ModelFolder, store: any MonitoringStore, ledger: any DecisionStore, method: Recalibration.Method,
                           since: Date?, minimum: Int) throws -> Outcome {
        let card = model.card
        let identity = "\(card.name)@\(card.version)"
        let samples = Recalibration.samples(records: try store.monitoringRecords(model: identity), verdicts: MonitoringKeys.verdicts(try LedgerLocator.allDecisions(ledger)),
                                            model: identity, since: since)
        let result: Recalibration.Result
        do { result = try Recalibration.run(samples, current: card.calibrationFunction, method: method, minimum: minimum) } catch {
            throw CLIFailure("\(identity): \(error)")
        }
        // The next free folder and version beside the old one.
        let base = model.path.hasSuffix("/") ? String(model.path.dropLast()) : model.path
        var k = 1
        while FileManager.default.fileExists(atPath: "\(base)-recal\(k)") { k += 1 }
        let folder = "\(base)-recal\(k)", version = "\(card.version)-recal.\(k)"
        let manager = FileManager.default
        do {
            try manager.createDirectory(atPath: folder, withIntermediateDirectories: false)
            for name in try manager.contentsOfDirectory(atPath: base) where name != "model.json" && name != "CARD.md" {
                try manager.copyItem(atPath: base + "/" + name, toPath: folder + "/" + name)
            }
        } catch { throw CLIFailure("\(folder): cannot write the new model folder: \(error.localizedDescription)") }
        guard var raw = (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: base + "/model.json")))) as? [String: Any] else {
            throw CLIFailure("\(base)/model.json: cannot read the card")
        }
        raw["version"] = version
        switch result.calibration {
        case .temperature(let t): raw["calibration"] = ["method": "temperature", "temperature": t]
        case .platt(let a, let b): raw["calibration"] = ["method": "platt", "a": a, "b": b]
        case .identity: raw["calibration"] = ["method": "identity"]
        }
        let tiers = card.tiers ?? ConfidenceTier.Thresholds()
        raw["tiers"] = ["high": tiers.high, "medium": tiers.medium]
        func interval(_ i: Recalibration.Interval) -> [Double] { [i.value, i.low, i.high] }
        let record: [String: Any] = [
            "basedOn": identity, "method": method.rawValue,
            "fittedOn": ["studies": result.fitted, "ledgerFirstDecision": result.firstSequence, "ledgerLastDecision": result.lastSequence,
                         "from": Timestamp(result.from).text, "to": Timestamp(result.to).text,
                         "labels": "implied by the readers' verdicts (accept confirms the call; false positive says normal; false negative, wrong location, wrong finding type say abnormal)"],
            "heldOut": ["studies": result.heldOut, "eceBefore": interval(result.eceBefore), "eceAfter": interval(result.eceAfter),
                        "note": "the later 30% of the labelled verdicts, in ledger order; 95% bootstrap intervals (1,000 resamples)"],
            "tiers": "thresholds carried over from \(identity); they apply to the new calibrated confidence",
        ]
        raw["recalibration"] = record
        do {
            let data = try JSONSerialization.data(withJSONObject: raw, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: folder + "/model.json"))
            let old = (try? String(contentsOfFile: base + "/CARD.md", encoding: .utf8)) ?? "# \(card.name)\n"
            let section = String(format: """

                ## Recalibration %@ (from %@)

                Same weights as %@; only the calibration changed (%@, fitted on %d studies whose label a reader's verdict implies,
                ledger decisions %d–%d, %@ to %@). On the %d later verdicts held out: ECE %.3f (95%% CI %.3f–%.3f) before,
                %.3f (95%% CI %.3f–%.3f) after. The labels are the readers' verdicts, not ground truth, and the held-out set
                comes from the same site and period. The held-out figures above in this card were measured with the old
                calibration. Research and triage tool; not a diagnosis.

                """, version, identity, identity, method.rawValue, result.fitted, result.firstSequence, result.lastSequence,
                Timestamp(result.from).day, Timestamp(result.to).day, result.heldOut, result.eceBefore.value, result.eceBefore.low,
                result.eceBefore.high, result.eceAfter.value, result.eceAfter.low, result.eceAfter.high)
            try (old + section).write(toFile: folder + "/CARD.md", atomically: true, encoding: .utf8)
        } catch { throw CLIFailure("\(folder): cannot write the card: \(error.localizedDescription)") }
        // The new folder must load as a model before it is announced.
        do { _ = try ModelFolder(path: folder) } catch { throw CLIFailure("\(folder): the new model folder does not load: \(error)") }
        let event: [String: Any] = ["model": "\(card.name)@\(version)", "folder": (folder as NSString).lastPathComponent, "recalibration": record]
        let details = String(decoding: try JSONSerialization.data(withJSONObject: event, options: [.sortedKeys]), as: UTF8.self)
        _ = try ledger.recordEvent("model-recalibration", subject: "\(card.name)@\(version)", details: details)
        return Outcome(folder: folder, version: version, result: result)
    }
}
