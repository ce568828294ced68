import Foundation
import LightboxCore
import Testing

/// The PACS pieces that need no server: the DICOM JSON decoder (QIDO-RS's shape and DCMTK's),
/// source addresses, date ranges, and a credential that never prints.
struct PacsModelTests {
    static let qidoStudy = """
    [{"00080020":{"vr":"DA","Value":["20260112"]},"00080030":{"vr":"TM","Value":["083000"]},
      "00080050":{"vr":"SH","Value":["ACC-1"]},"00080061":{"vr":"CS","Value":["SR","CT"]},
      "00081030":{"vr":"LO","Value":["CT CHEST"]},"00100010":{"vr":"PN","Value":[{"Alphabetic":"DOE^JANE"}]},
      "00100020":{"vr":"LO","Value":["P-1"]},"0020000D":{"vr":"UI","Value":["1.2.3"]},
      "00201206":{"vr":"IS","Value":[2]},"00201208":{"vr":"IS","Value":["29"]},
      "00081190":{"vr":"UR","Value":["http://x/studies/1.2.3"]},
      "00081115":{"vr":"SQ","Value":[{"0020000E":{"vr":"UI","Value":["1.2.3.4"]}}]},
      "00080090":{"vr":"PN"}}]
    """

    @Test func aQidoStudyBecomesAWorklistRow() throws {
        let rows = try DicomJSON.datasets(from: Data(Self.qidoStudy.utf8))
        #expect(rows.count == 1)
        let summary = rows[0].studySummary
        #expect(summary.studyInstanceUID == "1.2.3")
        #expect(summary.patientName == "DOE^JANE")
        #expect(summary.patientID == "P-1")
        #expect(summary.accessionNumber == "ACC-1")
        #expect(summary.studyDate == "20260112" && summary.studyTime == "083000")
        #expect(summary.studyDescription == "CT CHEST")
        // Image modalities first (what presets and the model's domain go by), then SR/SEG/PR.
        #expect(summary.modalities == ["CT", "SR"])
        #expect(summary.seriesCount == 2 && summary.imageCount == 29)
        #expect(rows[0].elements[0x0008_1115]?.items.first?.string(0x0020, 0x000E) == "1.2.3.4")
        #expect(rows[0].string(0x0008, 0x0090) == "")
    }

    @Test func dcmtksMatchAsOneObjectDecodesTheSame() throws {
        // What DcmDataset::writeJson writes for a C-FIND match (braces added by the shim).
        let match = #"{"00080052":{"vr":"CS","Value":["STUDY"]},"0020000D":{"vr":"UI","Value":["1.2.3"]},"00100010":{"vr":"PN","Value":[{"Alphabetic":"DOE^JANE"}]},"00201208":{"vr":"IS","Value":[29]}}"#
        let rows = try DicomJSON.datasets(from: Data(match.utf8))
        #expect(rows.count == 1)
        #expect(rows[0].studySummary.patientName == "DOE^JANE")
        #expect(rows[0].studySummary.imageCount == 29)
    }

    @Test func brokenAnswersAreNamedNotCrashed() throws {
        for (text, reason) in [("<html>Bad gateway</html>", "not JSON"), ("[{\"0020000D\":{\"vr\":\"UI\",\"Value\":[\"1.2", "not JSON"),
                               ("[1, 2]", "not a DICOM JSON object"), ("{\"patient\":{\"vr\":\"PN\"}}", "not a DICOM tag"),
                               ("{\"0020000D\":{\"Value\":[\"1\"]}}", "no VR"), ("\"text\"", "neither a list nor an object")] {
            #expect(throws: DicomJSONError.self) { try DicomJSON.datasets(from: Data(text.utf8)) }
            do { _ = try DicomJSON.datasets(from: Data(text.utf8)) } catch {
                #expect("\(error)".contains(reason), "\(text): \(error)")
            }
        }
        #expect(try DicomJSON.datasets(from: Data()).isEmpty)
        // Nested 40 deep: refused, not a stack overflow.
        var nested = #"{"00080005":{"vr":"CS","Value":["X"]}}"#
        for _ in 0..<40 { nested = #"{"00081115":{"vr":"SQ","Value":[\#(nested)]}}"# }
        #expect(throws: DicomJSONError.self) { try DicomJSON.datasets(from: Data(nested.utf8)) }
    }

    @Test func sourceAddresses() throws {
        #expect(try SourceAddress.parse("samples") == .folder("samples"))
        #expect(try SourceAddress.parse("http://pacs:8042/dicom-web/") == .dicomWeb(DicomWebEndpoint(baseURL: "http://pacs:8042/dicom-web")))
        guard case .dimse(let peer) = try SourceAddress.parse("dicom://ORTHANC@10.0.0.5:4242?calling=WS1&retrieve=get") else {
            Issue.record("not a DIMSE peer")
            return
        }
        #expect(peer.host == "10.0.0.5" && peer.port == 4242 && peer.calledAETitle == "ORTHANC" && peer.callingAETitle == "WS1")
        #expect(peer.retrieve == .get)
        guard case .dimse(let move) = try SourceAddress.parse("dicom://PACS@pacs:104?retrieve=move&port=11112") else {
            Issue.record("not a DIMSE peer")
            return
        }
        #expect(move.retrieve == .move && move.storePort == 11112)
        // Refused, each with its reason.
        for (text, reason) in [("https://user:hunter2@pacs/dicom-web", "credentials in a URL"), ("dicom://pacs:104", "no called AE title"),
                               ("dicom://AE@pacs:104?retrieve=fetch", "retrieve must be get or move"),
                               ("dicom://AE@pacs:104?retrieve=move", "C-MOVE needs the local storage port"),
                               ("dicom://THIS_TITLE_IS_TOO_LONG@pacs:104", "1 to 16 plain characters"),
                               ("dicom://AE@pacs:104?colour=blue", "unknown setting 'colour'")] {
            do {
                _ = try SourceAddress.parse(text)
                Issue.record("\(text) was accepted")
            } catch let error as PacsError {
                #expect(error.reason.contains(reason), "\(text): \(error)")
                #expect(!"\(error)".contains("hunter2"))
            }
        }
    }

    @Test func aSecretNeverPrints() {
        let secret = Secret("hunter2")
        var endpoint = DicomWebEndpoint(baseURL: "http://pacs/dicom-web")
        endpoint.password = secret
        for text in ["\(secret)", String(describing: secret), String(reflecting: secret), "\(endpoint)", String(reflecting: endpoint),
                     String(describing: [secret])] {
            #expect(!text.contains("hunter2"), "\(text)")
        }
        var dumped = ""
        dump(endpoint, to: &dumped)
        #expect(!dumped.contains("hunter2"))
        #expect(secret.reveal() == "hunter2")
    }

    @Test func dateRanges() {
        let today = Date(timeIntervalSince1970: 1_780_000_000)  // 2026-05-28
        #expect(StudyQuery.dicomDateRange("20260101") == "20260101")
        #expect(StudyQuery.dicomDateRange("2026-01-01") == "20260101")
        #expect(StudyQuery.dicomDateRange("20260101-20260131") == "20260101-20260131")
        #expect(StudyQuery.dicomDateRange("2026-01-01..2026-01-31") == "20260101-20260131")
        #expect(StudyQuery.dicomDateRange("2026-01-01..") == "20260101-")
        #expect(StudyQuery.dicomDateRange("..2026-01-31") == "-20260131")
        #expect(StudyQuery.dicomDateRange("20260101-") == "20260101-")
        #expect(StudyQuery.dicomDateRange("today", today: today)?.count == 8)
        for bad in ["", "January", "2026-1-1", "..", "20260101-2026", "2026-01-01..x"] {
            #expect(StudyQuery.dicomDateRange(bad) == nil, "\(bad)")
        }
    }

    @Test func instancesAreFetchedInDisplayOrder() throws {
        // Series 2 is numbered first; within a series, position along the normal wins over the
        // instance number; without positions, instance numbers.
        let axial: [Double] = [1, 0, 0, 0, 1, 0]
        let matches = [
            InstanceMatch(studyInstanceUID: "s", seriesInstanceUID: "a", sopInstanceUID: "a1", sopClassUID: "", instanceNumber: 1,
                          seriesNumber: 5, imagePosition: [0, 0, 30], imageOrientation: axial),
            InstanceMatch(studyInstanceUID: "s", seriesInstanceUID: "a", sopInstanceUID: "a2", sopClassUID: "", instanceNumber: 2,
                          seriesNumber: 5, imagePosition: [0, 0, 10], imageOrientation: axial),
            InstanceMatch(studyInstanceUID: "s", seriesInstanceUID: "b", sopInstanceUID: "b2", sopClassUID: "", instanceNumber: 2, seriesNumber: 1),
            InstanceMatch(studyInstanceUID: "s", seriesInstanceUID: "b", sopInstanceUID: "b1", sopClassUID: "", instanceNumber: 1, seriesNumber: 1),
        ]
        #expect(InstanceMatch.displayOrder(matches).map(\.sopInstanceUID) == ["b1", "b2", "a2", "a1"])
        // DCMTK's JSON writes a multi-valued DS as one string.
        let dataset = try DicomJSON.datasets(from: Data(#"{"00200032":{"vr":"DS","Value":["1.5\\-2\\3"]},"00200037":{"vr":"DS","Value":[1,0,0,0,1,0]}}"#.utf8))
        #expect(dataset.first?.doubles(0x0020, 0x0032) == [1.5, -2, 3])
        #expect(dataset.first?.doubles(0x0020, 0x0037) == [1, 0, 0, 0, 1, 0])
    }
}
