import Foundation
import LightboxCore
import Testing

/// Calibration, tiers, aggregation, findings and fusion on hand-checked values.
struct InferenceLogicTests {
    @Test func temperatureAndPlattScaling() {
        // logit(0.8) = ln 4 = 1.386…; / 2 → 0.693 = ln 2 → sigmoid = 2/3.
        #expect(abs(Calibration.temperature(2).apply(0.8) - 2.0 / 3.0) < 1e-9)
        // a = 1, b = ln 3: odds 1 → 3, p = 0.75.
        #expect(abs(Calibration.platt(a: 1, b: log(3)).apply(0.5) - 0.75) < 1e-9)
        #expect(Calibration.identity.apply(0.3) == 0.3)
        #expect(Calibration.temperature(1).apply(1) < 1, "clamped away from certainty")
    }

    @Test("tiers from the confidence in the call", arguments: [
        (0.95, ConfidenceTier.high), (0.05, .high), (0.9, .high), (0.89, .medium), (0.2, .medium), (0.7, .medium),
        (0.69, .review), (0.5, .review), (0.31, .review),
    ])
    func tiers(probability: Double, tier: ConfidenceTier) {
        #expect(ConfidenceTier.of(probability: probability) == tier)
    }

    @Test func tierThresholdsComeFromTheCard() {
        #expect(ConfidenceTier.of(probability: 0.85, thresholds: .init(high: 0.8, medium: 0.6)) == .high)
        #expect(ConfidenceTier.review.label.contains("human review"))
    }

    @Test func aggregation() {
        #expect(Aggregation.max.combine([0.1, 0.7, 0.4]) == 0.7)
        #expect(abs(Aggregation.topThreeMean.combine([0.1, 0.9, 0.6, 0.3, 0.0]) - 0.6) < 1e-12)
        #expect(Aggregation.topThreeMean.combine([0.4]) == 0.4)
        #expect(Aggregation.max.combine([]) == 0)
    }

    @Test func findingsLinkAcrossSlicesAndSeparateDisjointRegions() {
        func map(_ cells: [(Int, Int, Float)]) -> Heatmap {
            var values = [Float](repeating: 0, count: 36)
            for (x, y, v) in cells { values[y * 6 + x] = v }
            return Heatmap(width: 6, height: 6, values: values)
        }
        let stack: [Heatmap?] = [
            map([(1, 1, 0.6), (2, 1, 0.7)]),           // region A starts
            map([(2, 1, 0.9), (2, 2, 0.8)]),           // A continues (overlaps at (2,1))
            nil,                                        // slice without a heatmap breaks nothing but links nothing
            map([(5, 5, 0.95), (4, 5, 0.55), (0, 0, 0.51)]), // region B (2 cells), a lone cell dropped
        ]
        let findings = FindingExtractor.findings(in: stack)
        #expect(findings.count == 2)
        #expect(findings[0] == Finding(firstSlice: 3, lastSlice: 3, box: [4, 5, 2, 1], peak: Double(Float(0.95)), peakSlice: 3))
        #expect(findings[1].firstSlice == 0 && findings[1].lastSlice == 1)
        #expect(findings[1].box == [1, 1, 2, 2])
        #expect(findings[1].peakSlice == 1)
    }

    @Test func fusionWeighsByConfidenceAndKeepsContributions() {
        // Confidences 0.9 and 0.6; temperature 0.1: weights e^0 : e^-3 = 1 : 0.0498.
        let (p, parts) = Fusion.fuse([("a", 0.9), ("b", 0.4)], temperature: 0.1)
        let wa = 1 / (1 + exp(-3.0)), wb = exp(-3.0) / (1 + exp(-3.0))
        #expect(abs(p - (wa * 0.9 + wb * 0.4)) < 1e-12)
        #expect(parts.map(\.model) == ["a", "b"])
        #expect(abs(parts.map(\.weight).reduce(0, +) - 1) < 1e-12)
        #expect(abs(Fusion.fuse([("a", 0.9), ("b", 0.4)], temperature: 1000).probability - 0.65) < 1e-3, "a high temperature averages")
        #expect(Fusion.fuse([("only", 0.3)]).probability == 0.3)
    }

    @Test func fusedStudyResultsKeepEveryModelAndLeaveOutOfDomainModelsOut() {
        func result(_ model: String, _ p: Double, reason: String? = nil) -> StudyResult {
            StudyResult(studyInstanceUID: "s", model: model, modelVersion: "1", probability: p, rawProbability: p,
                        tier: ConfidenceTier.of(probability: p), reason: reason, findings: [], imagesAnalysed: 4, imagesSkipped: 0)
        }
        // Confidences 0.9 and 0.6 at temperature 0.1: weights 0.952574 and 0.047426; fused 0.885772 → Medium.
        let fused = FusedTriage.fuse([result("a", 0.9), result("b", 0.6)], temperature: 0.1, studyInstanceUID: "s")
        #expect(abs(fused.probability - 0.885772) < 1e-6)
        #expect(fused.tier == .medium)
        #expect(fused.contributions.map(\.model) == ["a@1", "b@1"])
        #expect(abs(fused.contributions[0].weight - 0.952574) < 1e-6)
        // A model outside its domain does not vote; its contribution is kept with weight 0.
        let guarded = FusedTriage.fuse([result("a", 0.95), result("b", 0.1, reason: "outside the model's domain (modality US)")],
                                       temperature: 0.1, studyInstanceUID: "s")
        #expect(guarded.probability == 0.95 && guarded.tier == .high)
        #expect(guarded.contributions.map(\.weight) == [1, 0])
        // Nobody votes: Review, with the reason; never High.
        let none = FusedTriage.fuse([result("a", 0.99, reason: "outside the model's domain (embedding distance 9 > 3)"),
                                     result("b", 0.98, reason: "outside the model's domain (modality US)")], temperature: 0.1, studyInstanceUID: "s")
        #expect(none.tier == .review)
        #expect(none.reason?.contains("outside the model's domain") == true)
        // One model: its own result.
        #expect(FusedTriage.fuse([result("a", 0.3)], temperature: 0.1, studyInstanceUID: "s") == result("a", 0.3))
    }

    @Test func domainGuard() {
        let guardrail = DomainGuard(modalities: ["CT", "MR"], centroid: [0, 0], maximumDistance: 1)
        #expect(guardrail.reason(modality: "CT", embedding: [0.5, 0.5]) == nil)
        #expect(guardrail.reason(modality: "US", embedding: [0, 0])?.contains("outside the model's domain") == true)
        #expect(guardrail.reason(modality: "MR", embedding: [3, 0])?.contains("3.00") == true)
    }
}
