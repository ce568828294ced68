import DicomReading
import Foundation
import Inference
import LightboxCore
import Store
import Testing
import TestSupport

/// The triage pipeline on the bundled samples with the tiny test network: per-study results,
/// out-of-domain studies forced to Review, and the cache making a second run inference-free.
struct TriageTests {
    /// Counts the images a detector is asked about.
    final class CountingDetector: FindingDetector, @unchecked Sendable {
        let inner: OnnxFindingDetector
        let lock = NSLock()
        var images = 0
        init(_ inner: OnnxFindingDetector) { self.inner = inner }
        var modelName: String { inner.modelName }
        var modelVersion: String { inner.modelVersion }
        func infer(_ batch: [DecodedImage]) throws -> [SliceInference] {
            lock.lock(); images += batch.count; lock.unlock()
            return try inner.infer(batch)
        }
    }

    func modelFolder(_ folder: TemporaryFolder) throws -> ModelFolder {
        let path = folder.file("model")
        try FileManager.default.copyItem(atPath: EngineTests.folder, toPath: path)
        var card = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path + "/model.json"))) as! [String: Any]
        card["modalities"] = ["CT", "MR"]
        card["calibration"] = ["method": "temperature", "temperature": 2.0]
        try JSONSerialization.data(withJSONObject: card).write(to: URL(fileURLWithPath: path + "/model.json"))
        return try ModelFolder(path: path)
    }

    @Test func triageRanksCachesAndGuardsTheDomain() throws {
        let folder = TemporaryFolder("triage")
        let model = try modelFolder(folder)
        #expect(model.card.calibrationFunction == .temperature(2))
        let source = FolderStudySource(root: Fixtures.samples, index: try SQLiteWorklistIndex(path: folder.file("index.sqlite")))
        let studies = try source.loadStudies(progress: nil).studies
        let detector = CountingDetector(OnnxFindingDetector(folder: model))
        let cache = try SQLiteResultCache(path: folder.file("results.sqlite"))
        let triage = StudyTriage(source: source, detector: detector, cache: cache, settings: model.triageSettings)
        let results = try studies.map { try triage.run($0) }
        let ct = try #require(results.first { $0.studyInstanceUID == studies.first { $0.header.modality == "CT" }?.studyInstanceUID })
        #expect(ct.imagesAnalysed == 28 && ct.imagesSkipped == 0)
        // Worked out by hand, not with the code under test: temperature 2 is sigmoid(logit(p) / 2),
        // which is √p / (√p + √(1 − p)); the tier follows the confidence in the call, max(p, 1 − p),
        // against the default thresholds 0.9 and 0.7 (the card sets none).
        let raw = ct.rawProbability
        let expected = raw.squareRoot() / (raw.squareRoot() + (1 - raw).squareRoot())
        #expect(abs(ct.probability - expected) < 1e-9, "raw \(raw), calibrated \(ct.probability), expected \(expected)")
        let confidence = max(expected, 1 - expected)
        #expect(ct.tier == (confidence >= 0.9 ? .high : (confidence >= 0.7 ? .medium : .review)))
        for modality in ["DX", "XA", "OT"] {
            let result = try #require(results.first { $0.studyInstanceUID == studies.first { $0.header.modality == modality }?.studyInstanceUID })
            #expect(result.tier == .review)
            #expect(result.reason?.contains("outside the model's domain") == true)
            #expect(result.imagesAnalysed == 0)
        }
        #expect(detector.images == 48)  // 28 CT + 20 MR images
        let again = try studies.map { try triage.run($0) }
        #expect(detector.images == 48, "a second run is served from the cache")
        #expect(again == results)
    }

    @Test func domainGuardOnEmbeddingsForcesReview() throws {
        let folder = TemporaryFolder("guard")
        let model = try modelFolder(folder)
        var settings = model.triageSettings
        settings.domain = DomainGuard(modalities: ["CT", "MR"], centroid: [100, 100, 100, 100], maximumDistance: 1)
        let source = FolderStudySource(root: Fixtures.samples + "/brain-mr", index: try SQLiteWorklistIndex(path: folder.file("index.sqlite")))
        let study = try #require(try source.loadStudies(progress: nil).studies.first)
        let result = try StudyTriage(source: source, detector: OnnxFindingDetector(folder: model), cache: nil, settings: settings).run(study)
        #expect(result.tier == .review)
        #expect(result.reason?.contains("embedding distance") == true)
    }
}
