import DicomReading
import Foundation
import Inference
import LightboxCore
import Store
import Testing
import TestSupport

/// The shipped default model (models/default) as Lightbox runs it: the network input Lightbox
/// makes equals the one the training script made (a parity fixture the script wrote), and on the
/// bundled CT phantom its five strongest findings are the card's and place the planted nodules
/// where the card says.
struct DefaultModelTests {
    static let modelPath = Fixtures.repositoryRoot + "/models/default"

    struct Parity: Decodable {
        struct Case: Decodable {
            let file: String
            let what: String
            let modality: String
            let photometricInterpretation: String
            let width: Int
            let height: Int
            let values: [Float]
            let expected: [Float]
        }
        let inputSize: Int
        let cases: [Case]
    }

    @Test func preprocessingEqualsTheTrainingScripts() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/default-model-preprocessing.json")
        let parity = try JSONDecoder().decode(Parity.self, from: Data(contentsOf: url))
        let detector = OnnxFindingDetector(folder: try ModelFolder(path: Self.modelPath))
        #expect(detector.folder.card.input.width == parity.inputSize && detector.folder.card.input.height == parity.inputSize)
        #expect(parity.cases.count == 4)
        for entry in parity.cases {
            var header = ImageHeader()
            header.modality = entry.modality
            header.photometricInterpretation = entry.photometricInterpretation
            header.rows = entry.height
            header.columns = entry.width
            let image = DecodedImage(width: entry.width, height: entry.height, channels: 1, frames: 1, values: entry.values, header: header)
            let input = try #require(detector.preprocess(image), "\(entry.file): \(entry.modality) is in the card")
            #expect(input.count == entry.expected.count, "\(entry.file)")
            let worst = zip(input, entry.expected).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst <= 1e-5, "\(entry.file) (\(entry.what)): Lightbox's input differs from the training script's by \(worst)")
            // Not a constant image: the comparison means something.
            #expect((entry.expected.max() ?? 0) - (entry.expected.min() ?? 0) > 0.3, "\(entry.file)")
        }
    }

    /// The phantom check as the card states it (issue 13's goal: the three planted nodules among
    /// the five strongest findings, each marked by a finding no wider than three nodule
    /// diameters) recomputed with Lightbox's own engine and finding extraction: the card's ranks
    /// must be what Lightbox shows. The goal itself is reported in the card (met or NOT met).
    @Test func phantomNodulesRankAsTheCardStates() throws {
        let folder = TemporaryFolder("default-model")
        let model = try ModelFolder(path: Self.modelPath)
        let source = FolderStudySource(root: Fixtures.samples + "/chest-ct", index: try SQLiteWorklistIndex(path: folder.file("index.sqlite")))
        let study = try #require(source.loadStudies(progress: nil).studies.first)
        let triage = StudyTriage(source: source, detector: OnnxFindingDetector(folder: model), cache: nil, settings: model.triageSettings)
        let result = try triage.run(study)
        #expect(result.imagesAnalysed == 28)
        let top = result.findings.prefix(5).map(\.finding)
        let truth = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Fixtures.samples + "/ground-truth.json"))) as! [[String: Any]]
        let lesions = truth.first { $0["folder"] as? String == "chest-ct" }!["lesions"] as! [[String: Any]]
        #expect(lesions.count == 3)
        let scale = Double(model.card.input.width) / Double(study.header.columns)
        let spacing = try #require(study.header.pixelSpacing?.first)
        var ranks: [Int?] = []
        for lesion in lesions {
            let x = (lesion["centerX"] as! Double) * scale, y = (lesion["centerY"] as! Double) * scale
            let first = lesion["firstSlice"] as! Int, last = lesion["lastSlice"] as! Int
            let largest = max(4, 6 * (lesion["radiusMillimetres"] as! Double) / spacing * scale)
            let hit = top.firstIndex { finding in
                finding.firstSlice <= last && first <= finding.lastSlice
                    && Double(finding.box[2]) <= largest && Double(finding.box[3]) <= largest
                    && Double(finding.box[0]) - 1 <= x && x <= Double(finding.box[0] + finding.box[2]) + 1
                    && Double(finding.box[1]) - 1 <= y && y <= Double(finding.box[1] + finding.box[3]) + 1
            }
            ranks.append(hit.map { $0 + 1 })
        }
        let card = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.modelPath + "/model.json"))) as! [String: Any]
        let phantom = try #require((card["metrics"] as? [String: Any])?["phantom"] as? [String: Any], "the card states the phantom check")
        let stated = try #require(phantom["noduleRanks"] as? [Any]).map { $0 as? Int }
        // The findings themselves, not only the ranks (no findings at all would also rank no
        // nodule): Lightbox's top five are the script's, slices and box to a cell, peak to 1e-3.
        let statedTop = try #require(phantom["top5"] as? [[String: Any]])
        #expect(top.count == statedTop.count, "Lightbox has \(top.count) of the top five findings, the card \(statedTop.count)")
        for (finding, stated) in zip(top, statedTop) {
            let slices = stated["slices"] as! [Int], box = stated["box"] as! [Int], peak = stated["peak"] as! Double
            #expect(finding.firstSlice == slices[0] && finding.lastSlice == slices[1]
                        && zip(finding.box, box).allSatisfy { abs($0 - $1) <= 1 } && abs(finding.peak - peak) < 1e-3,
                    "Lightbox: images \(finding.firstSlice)–\(finding.lastSlice) box \(finding.box) peak \(finding.peak); the card: \(slices) \(box) \(peak)")
        }
        #expect(ranks == stated, "Lightbox ranks the nodules \(ranks), the card says \(stated); top five: \(top.map { "\($0.box) \($0.firstSlice)–\($0.lastSlice) peak \($0.peak)" })")
        #expect((phantom["allThreeInTop5"] as? Bool) == ranks.allSatisfy { $0 != nil })
        #expect((phantom["threshold"] as? Double) == model.card.findingThreshold)
    }
}
