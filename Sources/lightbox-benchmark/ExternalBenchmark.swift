import DicomReading
import Foundation
import LightboxCore
import LightboxServices
import Store

/// `lightbox-benchmark external`: the time to read and place another system's AI objects over a
/// 300-slice 512×512 CT — a 300-frame binary SEG and a 100-group TID 1500 SR, both written by
/// highdicom (tools/external_peer.py) — beside highdicom reading the same files (the SEG's masks
/// by source instance, the report's groups with their regions). Medians of 5.
struct ExternalBenchmark {
    let folder: String
    let python: String?
    static let slices = 300
    static let repeats = 5

    func run() throws {
        guard let python else { throw CLIFailure("external: --python (with highdicom) is needed: the objects are written by highdicom") }
        let root = folder + "/external"
        let ct = root + "/ct", objects = root + "/objects"
        try FileManager.default.createDirectory(atPath: ct, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: objects, withIntermediateDirectories: true)
        let written = ((try? FileManager.default.contentsOfDirectory(atPath: ct)) ?? []).filter { $0.hasSuffix(".dcm") }.count
        if written != Self.slices { try writeCT(ct) }
        if !FileManager.default.fileExists(atPath: objects + "/sr-100.dcm") {
            let start = Date()
            do { _ = try PacsBenchmark.run(python, [Self.tool, "write", ct, objects]) } catch {
                throw CLIFailure("external: \(Self.tool) write failed (run it by hand to see why; highdicom must be installed)")
            }
            FileHandle.standardError.write(Data(String(format: "external: highdicom wrote the SEG and the SR in %.1f s\n", Date().timeIntervalSince(start)).utf8))
        }
        let source = FolderStudySource(root: ct, index: try SQLiteWorklistIndex(path: root + "/index.sqlite"))
        guard let study = try source.loadStudies(progress: nil).studies.first else { throw CLIFailure("external: no study in \(ct)") }
        let reader = ExternalResultReader()
        var segResult: ExternalResult?, srResult: ExternalResult?
        let seg = try PacsBenchmark.median(Self.repeats) { segResult = reader.read([objects + "/seg-300.dcm"], study: study).results.first }
        let sr = try PacsBenchmark.median(Self.repeats) { srResult = reader.read([objects + "/sr-100.dcm"], study: study).results.first }
        guard let segResult, segResult.layers.count == Self.slices, let srResult, srResult.findings.count == 100 else {
            throw CLIFailure("external: the SEG placed on \(segResult?.layers.count ?? 0) slices, the SR \(srResult?.findings.count ?? 0) groups")
        }
        let output = try PacsBenchmark.run(python, [Self.tool, "read", ct, objects, String(Self.repeats)])
        struct Peer: Decodable { let seg: Double; let sr: Double; let highdicom: String; let pydicom: String }
        let peer = try JSONDecoder().decode(Peer.self, from: Data(output.utf8))
        print("External AI results over a \(Self.slices)-slice 512×512 CT (medians of \(Self.repeats); read, placed on the study's slices):")
        print(String(format: "  SEG, 300 binary frames: Lightbox %.3f s (DCMTK dcmseg, placed, findings)  highdicom %@ %.3f s  (%.2f×)",
                     seg, peer.highdicom, peer.seg, seg / peer.seg))
        print(String(format: "  SR, 100 measurement groups: Lightbox %.3f s (DCMTK dcmsr, TID 1500 groups placed)  highdicom %@ %.3f s  (%.2f×)",
                     sr, peer.highdicom, peer.sr, sr / peer.sr))
        print("  (Lightbox's time includes the SHA-256 of each file and every frame unpacked for the findings' extents; a slice's layer is made when it is drawn. highdicom's: the masks by source instance, each group's region matched to its image.)")
    }

    static var tool: String {
        CLI.bundledCandidates("tools/external_peer.py").first { FileManager.default.fileExists(atPath: $0) } ?? "tools/external_peer.py"
    }

    func writeCT(_ ct: String) throws {
        let values = (0..<(512 * 512)).map { Int32(($0 % 512) * 8 % 4096) }
        for slice in 1...Self.slices {
            var header = PacsBenchmark.header(study: "2.25.7700", series: "2.25.7700.1", sop: "2.25.7700.1.\(slice)", rows: 512, instance: slice)
            header.studyDescription = "BENCH CT 300 SLICES"
            header.studyDate = "20260101"
            header.patientSex = "O"
            header.frameOfReferenceUID = "2.25.7700.9"
            header.pixelSpacing = [0.7, 0.7]
            header.sliceThickness = 1
            header.imageOrientationPatient = [1, 0, 0, 0, 1, 0]
            header.imagePositionPatient = [0, 0, Double(slice)]
            var instance = SyntheticInstance(header: header, storedValues: values)
            instance.completeType2 = true
            try instance.write(to: ct + "/\(slice).dcm", syntax: .explicitLittleEndian)
        }
    }
}
