import DicomReading
import Foundation
import LightboxCore
import LightboxServices
import Store
import Testing
import TestSupport

/// Other systems' AI objects (highdicom's, over the CT phantom) beside the study's images become
/// results: each algorithm its own, findings on the right slices and pixels, no confidence →
/// Review, what cannot be placed listed with the reason and the rest still there.
struct ExternalResultTests {
    struct Plane: Decodable {
        let object: String
        let segment: Int?
        let source: String
        let slice: Int
    }
    struct Manifest: Decodable {
        let rows, columns: Int
        let planes: [Plane]
    }

    static let objects = ProcessInfo.processInfo.environment["LIGHTBOX_AI_OBJECTS"]
    static let enabled = Testing.ConditionTrait.enabled(if: objects != nil, "run through `make test`, which writes the highdicom fixtures")

    /// The CT phantom's images and the chosen AI objects in one folder, and the study read from it.
    static func study(with files: [String], in folder: TemporaryFolder) throws -> Study {
        let objects = try #require(Self.objects)
        let root = folder.file("ct")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: Fixtures.samples + "/chest-ct") where name.hasSuffix(".dcm") {
            try FileManager.default.copyItem(atPath: Fixtures.samples + "/chest-ct/" + name, toPath: root + "/" + name)
        }
        for file in files {
            try FileManager.default.copyItem(atPath: objects + "/" + file, toPath: root + "/" + (file as NSString).lastPathComponent)
        }
        let source = FolderStudySource(root: root, index: try SQLiteWorklistIndex(path: folder.file("index.sqlite")))
        let studies = try source.loadStudies(progress: nil).studies
        #expect(studies.count == 1, "the AI objects are not studies of their own")
        return try #require(studies.first)
    }

    static func manifest() throws -> Manifest {
        try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: try #require(objects) + "/manifest.json")))
    }

    @Test(enabled) func aSegmentationLandsOnTheRightSlicesAndPixels() throws {
        let folder = TemporaryFolder("external-seg")
        let study = try Self.study(with: ["seg-binary.dcm"], in: folder)
        let found = ExternalResultReader().results(for: study)
        #expect(found.problems.isEmpty, "\(found.problems)")
        let result = try #require(found.results.first)
        #expect(found.results.count == 1)
        #expect(result.source == "Vendor Nodule AI" && result.version == "2.4.1")
        #expect(result.objects.map(\.kind) == ["SEG"])
        #expect(result.objects.first?.contentHash.count == 64)
        // No confidence in a binary SEG: Review, with the reason, never High.
        #expect(result.result.tier == .review && result.result.reason == ExternalResult.noConfidence)
        #expect(!result.confidenceGiven && result.contour)
        #expect(result.findings.map(\.label).sorted() == ["Nodule 1", "Nodule 2", "Nodule 3"])
        let manifest = try Self.manifest()
        let masks = try Data(contentsOf: URL(fileURLWithPath: try #require(Self.objects) + "/masks.u8"))
        let planeSize = manifest.rows * manifest.columns
        let series = try #require(study.series.first)
        let slices = series.slices
        for (index, finding) in result.findings.enumerated() {
            let segment = Int(finding.label.split(separator: " ").last!)!
            let planes = manifest.planes.enumerated().filter { $0.element.object == "seg-binary.dcm" && $0.element.segment == segment }
            let placed = result.result.findings[index].finding
            #expect(placed.firstSlice == planes.map(\.element.slice).min() && placed.lastSlice == planes.map(\.element.slice).max(),
                    "\(finding.label): slices \(placed.firstSlice)…\(placed.lastSlice)")
            #expect(finding.trackingID == finding.label && finding.trackingUID?.hasPrefix("2.25.") == true)
            for (offset, plane) in planes {
                // The plane's source image is the slice the ground truth counts from highest z.
                #expect(slices[plane.slice].header.sopInstanceUID == plane.source, "slice \(plane.slice) is the mask's source image")
                let layer = try #require(result.layers[slices[plane.slice].key], "a layer on slice \(plane.slice)")
                let mask = masks[(offset * planeSize)..<((offset + 1) * planeSize)]
                // Where the mask is set the layer is 1 (segments of one slice share a layer).
                #expect(zip(layer.values, mask).allSatisfy { $1 == 0 || $0 == 1 }, "\(finding.label) on slice \(plane.slice)")
            }
        }
        // No layer where no segment is.
        let covered = Set(manifest.planes.filter { $0.object == "seg-binary.dcm" }.map(\.slice))
        #expect(Set(result.layers.keys) == Set(covered.map { slices[$0].key }))
    }

    @Test(enabled) func planePositionsAloneGiveTheSamePlaces() throws {
        let folder = TemporaryFolder("external-planes")
        let study = try Self.study(with: ["seg-binary.dcm", "seg-planes.dcm"], in: folder)
        let found = ExternalResultReader().results(for: study)
        #expect(found.problems.isEmpty, "\(found.problems)")
        // One algorithm, two objects: one result.
        let result = try #require(found.results.first)
        #expect(found.results.count == 1 && result.objects.count == 2)
        let byUID = Dictionary(grouping: result.findings.indices, by: { result.findings[$0].objectUID })
        #expect(byUID.count == 2)
        let places = byUID.values.map { $0.map { result.result.findings[$0].finding }.sorted { $0.firstSlice < $1.firstSlice } }
        #expect(places[0] == places[1], "placed by source references and by plane positions alike")
    }

    @Test(enabled) func eachAlgorithmIsItsOwnResultAndReportsKeepTheirConfidence() throws {
        let folder = TemporaryFolder("external-all")
        let study = try Self.study(with: ["seg-binary.dcm", "pm-float.dcm", "sr-nodules.dcm", "sr-outside.dcm"], in: folder)
        let found = ExternalResultReader().results(for: study)
        #expect(found.problems.isEmpty, "\(found.problems)")
        #expect(found.results.map(\.title) == ["Vendor Nodule AI 2.4.1", "Vendor Map AI 1.2", "Vendor Report AI 7.0"])
        let map = found.results[1]
        #expect(map.layers.count == 8 && !map.contour)
        let report = found.results[2]
        #expect(report.objects.count == 2)
        #expect(report.confidenceGiven && report.result.reason == nil)
        #expect(report.result.probability == 0.87)
        let nodules = report.findings.filter { $0.trackingID == "Nodule A" || $0.trackingID == "Nodule B" }
        #expect(nodules.count == 2)
        let a = try #require(report.findings.firstIndex { $0.trackingID == "Nodule A" })
        let b = try #require(report.findings.firstIndex { $0.trackingID == "Nodule B" })
        #expect(report.findings[a].probability == 0.87 && report.findings[b].probability == nil)
        #expect(report.findings[b].measurements == ["Diameter 9 mm"])
        // Ground truth: nodule 1 (A) peaks on slice 17, nodule 2 (B) on slice 9, centres in pixels.
        let truth = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Fixtures.samples + "/ground-truth.json"))) as! [[String: Any]]
        let lesions = (truth.first { $0["folder"] as? String == "chest-ct" }!["lesions"] as! [[String: Any]])
        for (index, lesion) in [(a, lesions[0]), (b, lesions[1])] {
            let finding = report.result.findings[index].finding
            let middle = ((lesion["firstSlice"] as! Int) + (lesion["lastSlice"] as! Int)) / 2
            #expect(finding.peakSlice == middle, "\(report.findings[index].label) on slice \(finding.peakSlice), not \(middle)")
            let x = lesion["centerX"] as! Double, y = lesion["centerY"] as! Double
            #expect(Double(finding.box[0]) <= x && x <= Double(finding.box[0] + finding.box[2]), "\(finding.box) holds x \(x)")
            #expect(Double(finding.box[1]) <= y && y <= Double(finding.box[1] + finding.box[3]), "\(finding.box) holds y \(y)")
        }
        #expect(report.unplaced.count == 1 && report.unplaced[0].contains("not in this study"), "\(report.unplaced)")
    }

    @Test(enabled) func objectsThatDisagreeWithTheStudyAreReportedAndTheRestStillOpen() throws {
        let folder = TemporaryFolder("external-bad")
        let study = try Self.study(with: ["seg-binary.dcm", "bad/seg-other-size.dcm", "bad/seg-unknown-sources.dcm", "bad/pm-other-size.dcm",
                                          "bad/seg-cut-short.dcm", "bad/sr-dangling-evidence.dcm", "bad/seg-segment-number.dcm"], in: folder)
        let found = ExternalResultReader().results(for: study)
        let all = (found.problems + found.results.flatMap(\.problems)).joined(separator: "\n")
        #expect(all.contains("seg-cut-short.dcm: malformed DICOM: the pixel data is cut short"), "\(all)")
        #expect(all.contains("seg-other-size.dcm: frames are 128 × 128 but the image is 256 × 256"), "\(all)")
        #expect(all.contains("seg-unknown-sources.dcm: 15 frame(s) cannot be placed (frame 1: its source image"), "\(all)")
        #expect(all.contains("pm-other-size.dcm: the map is 128 × 128 but the image is 256 × 256"), "\(all)")
        #expect(all.contains("sr-dangling-evidence.dcm: 1 evidence reference(s) name no instance of this study"), "\(all)")
        #expect(all.contains("seg-segment-number.dcm: 1 frame(s) name no segment of this object"), "\(all)")
        let nodule = try #require(found.results.first { $0.source == "Vendor Nodule AI" })
        // The good SEG's three nodules are there; the unplaceable copy's segments are listed.
        let good = nodule.findings.filter { $0.objectUID == nodule.objects.first?.sopInstanceUID }
        #expect(good.count == 3)
        #expect(nodule.unplaced.contains { $0.contains("on no image of this study") })
        #expect(found.results.contains { $0.source == "Vendor Report AI" && $0.findings.count == 2 })
    }

    @Test(enabled) func theVerdictSROnAnExternalFindingNamesTheObjectAndKeepsItsTrackingUID() throws {
        let folder = TemporaryFolder("external-verdict")
        let study = try Self.study(with: ["seg-binary.dcm"], in: folder)
        let external = try #require(ExternalResultReader().results(for: study).results.first)
        let finding = 1
        var decision = Decision.on(study, result: external.result, outputHash: external.result.outputHash, finding: finding, action: .override,
                                   reason: .wrongLocation, comment: nil, reader: "dr-test", secondsSpent: 3,
                                   series: study.series.first?.seriesInstanceUID)
        decision.id = "11111111-2222-3333-4444-555555555555"
        decision.external = external.assessment(finding: finding)
        let report = VerdictPusher.report(decision, study: study, result: external.result, external: external) { ($0.header.columns, $0.header.rows) }
        #expect(report.groups.count == 3 && report.model == "Vendor Nodule AI" && report.modelVersion == "2.4.1")
        #expect(report.groups.map(\.trackingUID) == external.findings.map { $0.trackingUID ?? "" }, "the segments' own tracking UIDs")
        #expect(report.groups[finding].verdict == .override && report.groups[finding].reason == .wrongLocation)
        let path = folder.file("verdict.dcm")
        let template = try #require(study.series.first?.instances.first?.path)
        try StructuredReportFile.write(report, template: template, library: [], allowComment: false, to: path)
        let content = try StructuredReportFile.read(path)
        let evidence = content.document.evidence ?? []
        #expect(evidence.contains { $0.sopInstanceUID == external.objects[0].sopInstanceUID && $0.sopClassUID == "1.2.840.10008.5.1.4.1.1.66.4" },
                "the assessed SEG in the evidence: \(evidence)")
        let back = try #require(VerdictReadBack(content))
        #expect(back.groups[finding].trackingUID == external.findings[finding].trackingUID)
        #expect(back.groups[finding].verdict == .override && back.groups[finding].trackingID == external.findings[finding].trackingID)
    }
}
