import DicomReading
import Foundation
import LightboxCore
import Testing
import TestSupport

/// The verdict SR (TID 1500 through DCMTK's cmr): written, read back by Lightbox and by DCMTK's
/// own dsrdump, the same decision giving the same bytes, the comment only when allowed.
@Suite struct StructuredReportTests {
    let folder = TemporaryFolder("sr")

    static func ctImage() throws -> String {
        try #require(try FileManager.default.contentsOfDirectory(atPath: Fixtures.samples + "/chest-ct").filter { $0.hasSuffix(".dcm") }.sorted().first)
            .map { Fixtures.samples + "/chest-ct/" + $0 }!
    }

    static func report(onFinding: Bool, comment: String? = "patient Jane Doe seen before") throws -> VerdictReport {
        let image = try DicomFile.open(try ctImage())
        let identity = image.identity
        let region = VerdictReport.Region.box([40, 50, 59, 61], sopClassUID: identity.sopClass, sopInstanceUID: identity.sopInstance)
        var groups = [
            VerdictReport.Group(trackingID: "AI finding 1", trackingUID: "2.25.1111", probability: 0.8125, tier: .medium, region: region),
            VerdictReport.Group(trackingID: "AI finding 2", trackingUID: "2.25.2222", probability: 0.25, tier: .review, region: nil),
        ]
        if onFinding {
            groups[0].verdict = .override
            groups[0].reason = .falsePositive
            groups[0].comment = comment
        }
        return VerdictReport(decisionID: "d-1", studyInstanceUID: identity.study, seriesInstanceUID: "2.25.3333", sopInstanceUID: "2.25.4444",
                             contentDate: "20261201", contentTime: "101500", reader: "alice", model: "lightbox-default",
                             modelVersion: "1.1.0", deviceUID: "2.25.5555", groups: groups,
                             studyVerdict: onFinding ? nil : .accept, studyReason: nil, studyComment: nil, studyProbability: 0.9,
                             studyTier: .high)
    }

    @Test func aVerdictOnAFindingIsWrittenAndReadBack() throws {
        let path = folder.file("sr.dcm")
        try StructuredReportFile.write(try Self.report(onFinding: true), template: try Self.ctImage(), library: [try Self.ctImage()],
                                       allowComment: true, to: path)
        let content = try StructuredReportFile.read(path)
        // DCMTK picks the simplest IOD the tree fits: Enhanced SR (TID 1500 with image regions).
        #expect(content.document.sopClassUID == "1.2.840.10008.5.1.4.1.1.88.22")
        #expect(content.document.sopInstanceUID == "2.25.4444" && content.document.modality == "SR")
        let back = try #require(VerdictReadBack(content))
        #expect(back.decisionID == "d-1" && back.reader == "alice" && back.model == "lightbox-default" && back.modelVersion == "1.1.0")
        #expect(back.device == "2.25.5555")
        #expect(back.groups.count == 2)
        #expect(back.groups[0].trackingUID == "2.25.1111" && back.groups[0].trackingID == "AI finding 1")
        #expect(back.groups[0].probability == 0.8125 && back.groups[0].tier == .medium)
        #expect(back.groups[0].verdict == .override && back.groups[0].reason == .falsePositive)
        #expect(back.groups[0].comment == "patient Jane Doe seen before")
        #expect(back.groups[0].regionPoints == [40, 50, 60, 50, 60, 62, 40, 62, 40, 50])
        #expect(back.groups[0].regionImage == (try DicomFile.open(try Self.ctImage()).identity.sopInstance))
        #expect(back.groups[1].verdict == nil && back.groups[1].probability == 0.25 && back.groups[1].tier == .review)
        #expect(back.studyVerdict == nil)
        #expect(back.summary.hasPrefix("override (false positive) on finding 1 by alice (lightbox-default 1.1.0), 2026-12-01"))
        // The patient and study are the images'.
        let image = try DicomFile.open(try Self.ctImage())
        let written = try DicomFile.open(path)
        #expect(written.header().patientID == image.header().patientID && !image.header().patientID.isEmpty)
        #expect(written.identity.study == image.identity.study)
    }

    @Test func dcmtksOwnDumpShowsTheTemplateAndTheVerdict() throws {
        let path = folder.file("sr.dcm")
        try StructuredReportFile.write(try Self.report(onFinding: false), template: try Self.ctImage(), library: [], allowComment: true, to: path)
        let run = try Fixtures.program("/usr/bin/dsrdump", ["+Pc", path])
        #expect(run.status == 0, "\(run.output)")
        for expected in ["Imaging Measurement Report", "Person Observer Name", "alice", "Device Observer Name", "lightbox-default",
                         "Measurement Group", "Tracking Unique Identifier", "2.25.1111", "AI probability (calibrated, of the study)",
                         "Reader assessment of the AI result", "AI result accepted", "High confidence", "Image Region", "POLYLINE"] {
            #expect(run.output.contains(expected), "dsrdump lacks \(expected)")
        }
        // The private codes' scheme is identified.
        let dump = try Fixtures.program("/usr/bin/dcmdump", [path])
        #expect(dump.output.contains("CodingSchemeIdentificationSequence") && dump.output.contains("99LBX"))
        let back = try #require(VerdictReadBack(try StructuredReportFile.read(path)))
        #expect(back.studyVerdict == .accept && back.verdict?.finding == nil)
    }

    @Test func theSameDecisionGivesTheSameBytesAndACommentOnlyWhenAllowed() throws {
        let first = folder.file("a.dcm"), second = folder.file("b.dcm"), bare = folder.file("c.dcm")
        let report = try Self.report(onFinding: true)
        try StructuredReportFile.write(report, template: try Self.ctImage(), library: [], allowComment: true, to: first)
        try StructuredReportFile.write(report, template: try Self.ctImage(), library: [], allowComment: true, to: second)
        #expect(FileManager.default.contentsEqual(atPath: first, andPath: second))
        try StructuredReportFile.write(report, template: try Self.ctImage(), library: [], allowComment: false, to: bare)
        let back = try #require(VerdictReadBack(try StructuredReportFile.read(bare)))
        #expect(back.groups[0].verdict == .override && back.groups[0].comment == nil)
        #expect(!(try String(decoding: Data(contentsOf: URL(fileURLWithPath: bare)), as: UTF8.self)).contains("Jane Doe"))
    }

    @Test func derivedUIDsAreDecimalUnder225() {
        #expect(DerivedUID.uid(digest: [UInt8](repeating: 0, count: 16)) == "2.25.0")
        #expect(DerivedUID.uid(digest: [UInt8](repeating: 0, count: 15) + [10]) == "2.25.10")
        // 2^128 - 1
        #expect(DerivedUID.uid(digest: [UInt8](repeating: 0xff, count: 16)) == "2.25.340282366920938463463374607431768211455")
    }

    @Test func somethingThatIsNotAnSRIsSaidSo() throws {
        #expect(throws: DicomError.self) { _ = try StructuredReportFile.read(try Self.ctImage()) }
        #expect(throws: DicomError.self) { _ = try StructuredReportFile.read(folder.file("missing.dcm")) }
    }
}
