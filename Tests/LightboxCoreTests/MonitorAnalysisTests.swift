import Foundation
import LightboxCore
import Testing

/// Monitoring's analysis on records made here: a control scenario with no change over many
/// windows (its false-alarm rate measured), the bad inputs the issue names, the control limit
/// worked out by hand, and the charts.
struct MonitorAnalysisTests {
    typealias Random = SeededRandom

    static let model = "m@1"
    static let start = Date(timeIntervalSince1970: 1_780_000_000)

    /// A study from one of two scanners (60/40), nothing changing over time.
    static func record(_ index: Int, at time: Date, random: inout Random, kernel: String? = nil, scanner: String? = nil, shift: Double = 0) -> MonitoringRecord {
        let second = random.uniform() < 0.4
        let fingerprint = ScannerFingerprint(manufacturer: scanner ?? (second ? "Bolt" : "Acme"), model: second ? "Scan-9" : "Scan-1",
                                             kernel: kernel ?? (second ? "FC51" : "B30f"), bodyPart: "CHEST", kvp: random.uniform() < 0.8 ? 120 : 100,
                                             sliceThickness: second ? 1.0 : 2.5, pixelSpacing: 0.6 + random.uniform() * 0.2)
        let mean = 0.4 + random.gaussian() * 0.05 + shift
        let score = 1 / (1 + exp(-(random.gaussian() - 1)))
        let tier: ConfidenceTier = max(score, 1 - score) >= 0.9 ? .high : max(score, 1 - score) >= 0.7 ? .medium : .review
        return MonitoringRecord(studyKey: "k\(index)", model: model, site: "local", analysedAt: time, fingerprint: fingerprint,
                                input: InputStatistics(mean: mean, standardDeviation: 0.2 + random.gaussian() * 0.02, p1: max(0, mean - 0.35 + random.gaussian() * 0.02),
                                                       p99: min(1, mean + 0.4 + random.gaussian() * 0.02), saturated: max(0, 0.05 + random.gaussian() * 0.01)),
                                rawScore: score, probability: score, tier: tier, outOfDomain: random.uniform() < 0.02, domainDistance: 2, images: 1)
    }

    static func verdict(_ record: MonitoringRecord, sequence: Int, overrideRate: Double, random: inout Random) -> VerdictRecord {
        let draw = random.uniform()
        let action: DecisionAction = draw < overrideRate ? .override : draw > 0.95 ? .deferred : .accept
        return VerdictRecord(studyKey: record.studyKey, model: model, decidedAt: record.analysedAt.addingTimeInterval(1_800), action: action,
                             reason: action == .override ? .falsePositive : nil, tier: record.tier, probability: record.probability,
                             secondsSpent: 30 + random.uniform() * 60, sequence: sequence)
    }

    @Test func controlScenarioRaisesNoPageOverManyWindows() {
        var random = Random(seed: 99)
        var records: [MonitoringRecord] = [], verdicts: [VerdictRecord] = []
        // 12 studies a day for 150 fortnights; the first 500 are the reference; the windows do not overlap.
        for index in 0..<(12 * 14 * 152) {
            let record = Self.record(index, at: Self.start.addingTimeInterval(Double(index) * 7_200), random: &random)
            records.append(record)
            verdicts.append(Self.verdict(record, sequence: index + 1, overrideRate: 0.15, random: &random))
        }
        let settings = MonitorSettings(weeks: 1)
        let reference = MonitorAnalysis.reference(model: Self.model, records: records, saved: [], settings: settings)!
        var windows = 0, paged = 0, watched = 0
        var now = reference.to.addingTimeInterval(14 * 86_400)
        while now <= records.last!.analysedAt {
            // Only the reference and this window matter to a one-window report: pass just those (it keeps the test fast).
            let start = now.addingTimeInterval(-15 * 86_400)
            let slice = records.filter { $0.analysedAt <= reference.to || ($0.analysedAt > start && $0.analysedAt <= now) }
            let keys = Set(slice.map(\.studyKey))
            let report = MonitorAnalysis.report(records: slice, verdicts: verdicts.filter { keys.contains($0.studyKey) }, references: [reference],
                                                now: now, settings: settings)
            windows += 1
            if !report.openAlerts.isEmpty { paged += 1 }
            if !report.alerts.isEmpty { watched += 1 }
            now = now.addingTimeInterval(14 * 86_400)
        }
        #expect(windows >= 145)
        let rate = Double(paged) / Double(windows)
        print("monitor control scenario: \(windows) windows, paging false-alarm rate \(paged)/\(windows) = \(String(format: "%.3f", rate)); "
              + "any alert (watch level included) \(watched)/\(windows)")
        #expect(rate <= 0.05, "pages in \(paged) of \(windows) windows with nothing changed")
    }

    @Test func badInputGivesWordsNotNumbers() {
        // No studies at all.
        let empty = MonitorAnalysis.report(records: [], verdicts: [], references: [], now: Self.start)
        #expect(empty.alerts.isEmpty && empty.notes.contains { $0.contains("insufficient data") })
        var random = Random(seed: 5)
        let records = (0..<600).map { Self.record($0, at: Self.start.addingTimeInterval(Double($0) * 3_600), random: &random) }
        // A model version with too few studies for a reference.
        #expect(MonitorAnalysis.reference(model: Self.model, records: Array(records.prefix(100)), saved: [], settings: MonitorSettings()) == nil)
        let noReference = MonitorAnalysis.report(records: Array(records.prefix(100)), verdicts: [], references: [], now: Self.start.addingTimeInterval(200 * 3_600))
        #expect(noReference.notes.contains { $0.contains("no reference period yet (100 of 500") })
        let reference = MonitorAnalysis.reference(model: Self.model, records: records, saved: [], settings: MonitorSettings())!
        #expect(reference.to == records[499].analysedAt)
        // A window with too few studies (100 after the reference), a feature absent from every header (exposure).
        let thin = MonitorAnalysis.report(records: records, verdicts: [], references: [reference], now: records.last!.analysedAt)
        #expect(thin.alerts.isEmpty)
        #expect(thin.notes.contains { $0.contains("hold 100 studies (needs 150)") })
        #expect(thin.notes.contains { $0.contains("exposure: undefined (absent from every header)") })
        // A window with no studies at all, long after.
        let later = MonitorAnalysis.report(records: records, verdicts: [], references: [reference], now: records.last!.analysedAt.addingTimeInterval(60 * 86_400))
        #expect(later.alerts.isEmpty && later.notes.contains { $0.contains("hold 0 studies") })
        // A reference of one scanner only, then a new one: novelty at once, even with few studies.
        let single = (0..<520).map { i -> MonitoringRecord in
            var record = Self.record(i, at: Self.start.addingTimeInterval(Double(i) * 3_600), random: &random, scanner: i < 500 ? "Acme" : "Zeta")
            record.fingerprint.model = "Scan-1"
            return record
        }
        let singleReference = MonitorAnalysis.reference(model: Self.model, records: single, saved: [], settings: MonitorSettings())!
        let novelty = MonitorAnalysis.report(records: single, verdicts: [], references: [singleReference], now: single.last!.analysedAt)
        #expect(novelty.alerts.contains { $0.kind == .novelty && $0.feature == "novelty: manufacturer" && $0.gated && $0.count == 20 })
        // Clocks that went backwards in the ledger.
        let verdicts = [
            VerdictRecord(studyKey: "k1", model: Self.model, decidedAt: Self.start.addingTimeInterval(7_200), action: .accept, reason: nil, tier: .high,
                          probability: 0.9, secondsSpent: 10, sequence: 1),
            VerdictRecord(studyKey: "k2", model: Self.model, decidedAt: Self.start, action: .accept, reason: nil, tier: .high, probability: 0.9,
                          secondsSpent: 10, sequence: 2),
        ]
        let backwards = MonitorAnalysis.report(records: records, verdicts: verdicts, references: [reference], now: records.last!.analysedAt)
        #expect(backwards.notes.contains { $0.contains("clock went backwards at 1 decision(s) (first at decision 2)") })
    }

    @Test func inputShiftAndOverridesRaiseTheirAlerts() {
        var random = Random(seed: 8)
        var records: [MonitoringRecord] = [], verdicts: [VerdictRecord] = []
        for index in 0..<1_000 {
            let after = index >= 500
            let record = Self.record(index, at: Self.start.addingTimeInterval(Double(index) * 3_600), random: &random, shift: after ? 0.1 : 0)
            records.append(record)
            verdicts.append(Self.verdict(record, sequence: index + 1, overrideRate: after ? 0.4 : 0.15, random: &random))
        }
        let reference = MonitorAnalysis.reference(model: Self.model, records: records, saved: [], settings: MonitorSettings())!
        let report = MonitorAnalysis.report(records: records, verdicts: verdicts, references: [reference], now: records.last!.analysedAt)
        #expect(report.alerts.contains { $0.kind == .inputFeature && $0.feature == "input mean" })
        #expect(report.alerts.contains { $0.kind == .overrideRate && $0.gated && $0.stratum.tier == nil })
        // Not every scanner's tier strata page twice for one breach.
        #expect(report.openAlerts.filter { $0.kind == .overrideRate }.allSatisfy { $0.stratum.tier == nil })
    }

    /// Readers who accept more and decide faster while the inputs are unchanged: a signal for
    /// quality review, never a page; `since` shortens the charts.
    @Test func automationBiasIsShownNeverPaged() {
        var random = Random(seed: 31)
        var records: [MonitoringRecord] = [], verdicts: [VerdictRecord] = []
        for index in 0..<1_000 {
            let record = Self.record(index, at: Self.start.addingTimeInterval(Double(index) * 3_600), random: &random)
            records.append(record)
            let later = index >= 500
            let accept = random.uniform() < (later ? 0.98 : 0.75)
            verdicts.append(VerdictRecord(studyKey: record.studyKey, model: Self.model, decidedAt: record.analysedAt.addingTimeInterval(600),
                                          action: accept ? .accept : .deferred, reason: nil, tier: record.tier, probability: record.probability,
                                          secondsSpent: later ? 15 + random.uniform() * 10 : 50 + random.uniform() * 40, sequence: index + 1))
        }
        let reference = MonitorAnalysis.reference(model: Self.model, records: records, saved: [], settings: MonitorSettings())!
        let report = MonitorAnalysis.report(records: records, verdicts: verdicts, references: [reference], now: records.last!.analysedAt)
        let signal = report.alerts.first { $0.kind == .automationBias && $0.stratum.tier == nil }
        #expect(signal != nil, "\(report.alerts.map(\.kind))")
        #expect(signal?.gated == false && signal?.what.contains("for quality review only") == true)
        #expect(!report.openAlerts.contains { $0.kind == .automationBias })
        // Charts start at --since.
        let since = records.last!.analysedAt.addingTimeInterval(-10 * 86_400)
        let short = MonitorAnalysis.report(records: records, verdicts: verdicts, references: [reference], now: records.last!.analysedAt, since: since)
        #expect(short.alerts.allSatisfy { $0.series.count == 2 })
    }

    /// The control limit worked out by hand: five reference periods of 20 with rates 0.10, 0.20,
    /// 0.10, 0.20, 0.15; the pooled rate 0.15; each period against the mean of the other four
    /// deviates by ∓0.0625 (four of them) and 0 (the last): σ = √(4 · 0.0625² / 5) = 0.0559; scaled
    /// to a window of 40 it is 0.0559 · √(20 / 40) = 0.0395, below the binomial √(0.15 · 0.85 / 40)
    /// = 0.0565, which is used; the reference's own uncertainty √(0.15 · 0.85 / 100) = 0.0357 is
    /// added in quadrature: limit 0.15 + 3 · √(0.0565² + 0.0357²) = 0.3505.
    @Test func controlLimitWorkedByHand() throws {
        let limit = try #require(MonitorAnalysis.controlLimit(referenceRates: [(2, 20), (4, 20), (2, 20), (4, 20), (3, 20)], windowTrials: 40))
        #expect(abs(limit.rate - 0.15) < 1e-12)
        #expect(abs(limit.limit - (0.15 + 3 * (0.15 * 0.85 / 40 + 0.15 * 0.85 / 100).squareRoot())) < 1e-12)
        let small = try #require(MonitorAnalysis.controlLimit(referenceRates: [(0, 20), (10, 20), (0, 20), (10, 20), (5, 20)], windowTrials: 20))
        // Rates 0, 0.5, 0, 0.5, 0.25: deviations ∓0.3125 (four) and 0; σ = √(4 · 0.3125² / 5) = 0.2795 ≥ binomial √(0.25 · 0.75 / 20) = 0.0968.
        #expect(abs(small.limit - (0.25 + 3 * (4 * 0.3125 * 0.3125 / 5 + 0.25 * 0.75 / 100).squareRoot())) < 1e-12)
        #expect(MonitorAnalysis.controlLimit(referenceRates: [(1, 10), (2, 10)], windowTrials: 10) == nil)
    }

    @Test func sparklineScalesToTheThreshold() {
        let chart = MonitorText.sparkline([0, 0.5, 1, nil, 2], threshold: 1)
        #expect(chart.line == "▁▂▄·█")
        #expect(chart.thresholdBlock == "▄")
        #expect(MonitorText.sparkline([0.1], threshold: 1, unicode: false).line == "_")
    }
}
