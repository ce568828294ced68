import DicomReading
import Foundation
import LightboxCore
import Testing
import TestSupport

/// Stored values become modality values in floating point.
struct ModalityValueTests {
    @Test func rescaleIsAppliedInFloatingPoint() throws {
        let folder = TemporaryFolder("rescale")
        var header = Fixtures.header(rows: 4, columns: 4, bitsAllocated: 16, bitsStored: 16, signed: true)
        header.rescaleSlope = 0.25
        header.rescaleIntercept = -1024.5
        let stored: [Int32] = (0..<16).map { Int32($0 * 3 - 20) }
        try Fixtures.write(header, to: folder.file("a.dcm"), values: stored)
        let image = try DicomFile.open(folder.file("a.dcm")).decode()
        // 0.25 steps survive: an integer modality transform would round them away.
        #expect(image.values == stored.map { Float(Double($0) * 0.25 - 1024.5) })
    }

    @Test func monochrome1KeepsModalityValuesAndIsInvertedWhenShown() throws {
        let folder = TemporaryFolder("mono1")
        var header = Fixtures.header(rows: 1, columns: 3, bitsAllocated: 16, bitsStored: 12)
        header.photometricInterpretation = "MONOCHROME1"
        header.windowCenters = [2048]
        header.windowWidths = [4096]
        try Fixtures.write(header, to: folder.file("a.dcm"), values: [0, 1000, 4095])
        let image = try DicomFile.open(folder.file("a.dcm")).decode()
        // Values are the file's own (a window in the file's units applies to them) …
        #expect(image.values == [0, 1000, 4095])
        #expect(image.header.isInvertedMonochrome)
        // … and the lowest is drawn white, after the window.
        let window = WindowPreset.initialWindow(for: image)
        #expect(window == Window(center: 2048, width: 4096))
        let picture = SliceRenderer.render(image, window: window)
        #expect(picture.pixels[0] == 255)
        #expect(picture.pixels[6] == 0)
        #expect(picture.pixels[3] > picture.pixels[6] && picture.pixels[3] < picture.pixels[0])
    }

    @Test func multiFrameGivesEveryFrameAndSingleFrames() throws {
        let folder = TemporaryFolder("frames")
        let header = Fixtures.header(rows: 5, columns: 4, bitsAllocated: 8, bitsStored: 8, frames: 6)
        let stored = try Fixtures.write(header, to: folder.file("a.dcm"), syntax: .rleLossless)
        let file = try DicomFile.open(folder.file("a.dcm"))
        let all = try file.decode()
        #expect(all.frames == 6)
        #expect(all.values == stored.map(Float.init))
        let fourth = try file.decode(frames: 3..<4)
        #expect(fourth.frames == 1)
        #expect(Array(fourth.values) == stored[60..<80].map(Float.init))
    }

    @Test func headerFieldsAreRead() throws {
        let folder = TemporaryFolder("header")
        var header = Fixtures.header(rows: 10, columns: 12)
        header.pixelSpacing = [0.5, 0.75]
        header.imagePositionPatient = [-10, 20.5, 30]
        header.imageOrientationPatient = [1, 0, 0, 0, 1, 0]
        header.windowCenters = [40]
        header.windowWidths = [400]
        header.studyDescription = "CT CHEST"
        header.manufacturer = "ACME"
        try Fixtures.write(header, to: folder.file("a.dcm"))
        let read = try DicomFile.open(folder.file("a.dcm")).header()
        #expect(read.rows == 10 && read.columns == 12)
        #expect(read.pixelSpacing == [0.5, 0.75])
        #expect(read.imagePositionPatient == [-10, 20.5, 30])
        #expect(read.imageOrientationPatient == [1, 0, 0, 0, 1, 0])
        #expect(read.storedWindow == Window(center: 40, width: 400))
        #expect(read.studyDescription == "CT CHEST")
        #expect(read.manufacturer == "ACME")
        #expect(read.patientName == "TEST^PATIENT")
        #expect(read.sopInstanceUID == header.sopInstanceUID)
        #expect(read.transferSyntaxUID == TransferSyntax.explicitLittleEndian.rawValue)
    }
}

/// The private-tag dictionary loads only when the header lines need it (it costs ~14 ms of every
/// start), and they still name private tags.
struct DictionaryTests {
    @Test func privateTagsAreNamedInTheDump() throws {
        let folder = TemporaryFolder("private-tags")
        let writer = try DicomObjectWriter()
        try writer.set(0x0008, 0x0016, "1.2.840.10008.5.1.4.1.1.2")
        try writer.set(0x0008, 0x0018, "2.25.4242")
        try writer.set(0x0009, 0x0010, "GEMS_IDEN_01")
        try writer.set(0x0009, 0x1001, "HELLO")
        try writer.save(to: folder.file("private.dcm"), syntax: .explicitLittleEndian)
        let dump = try DicomFile.open(folder.file("private.dcm")).headerLines().map { $0.text(showIdentifiers: true) }.joined(separator: "\n")
        #expect(dump.contains("FullFidelity") && dump.contains("[HELLO]"), "\(dump)")
        #expect(dump.contains("SOPInstanceUID"))
        // Implicit VR: the private value is text too (the file is read again with the dictionary).
        try writer.save(to: folder.file("implicit.dcm"), syntax: .implicitLittleEndian)
        let implicit = try DicomFile.open(folder.file("implicit.dcm")).headerLines().map { $0.text(showIdentifiers: true) }.joined(separator: "\n")
        #expect(implicit.contains("FullFidelity") && implicit.contains("[HELLO]"), "\(implicit)")
    }
}

/// The header view's lines from a real object with sequences: structured, and masked on tags and
/// VRs (a person's name inside a sequence too), never on dump text.
struct HeaderLineTests {
    @Test func identifiersAreMaskedAtEveryDepthAndTheRestIsShown() throws {
        let folder = TemporaryFolder("header-lines")
        let writer = try DicomObjectWriter()
        try writer.set(0x0008, 0x0016, "1.2.840.10008.5.1.4.1.1.2")
        try writer.set(0x0008, 0x0018, "2.25.5151")
        try writer.set(0x0008, 0x0060, "CT")
        try writer.set(0x0010, 0x0010, "CANARY^PHI")
        try writer.set(0x0008, 0x1030, "CT CHEST")
        // Other Patient IDs Sequence: an ID two levels down; Referenced Request: a physician's name.
        try writer.set(path: "(0010,1002)[0].(0010,0020)", "CANARY-OTHER")
        try writer.set(path: "(0040,A370)[0].(0032,1032)", "DR^CANARY")
        try writer.set(path: "(0040,A370)[0].(0032,1060)", "CT CHEST WITH CONTRAST")
        try writer.save(to: folder.file("sequences.dcm"), syntax: .explicitLittleEndian)
        let lines = try DicomFile.open(folder.file("sequences.dcm")).headerLines()
        let masked = lines.map { $0.text(showIdentifiers: false) }.joined(separator: "\n")
        let shown = lines.map { $0.text(showIdentifiers: true) }.joined(separator: "\n")
        #expect(!masked.contains("CANARY"), "\(masked)")
        #expect(shown.contains("CANARY^PHI") && shown.contains("CANARY-OTHER") && shown.contains("DR^CANARY"), "the control: they are there")
        #expect(masked.contains("(0008,0060) CS [CT]") && masked.contains("CT CHEST WITH CONTRAST"), "what identifies nobody is shown")
        let nested = try #require(lines.first { $0.group == 0x0032 && $0.element == 0x1032 })
        #expect(nested.depth == 2 && nested.vr == "PN" && nested.identifies)
        #expect(lines.contains { $0.group == 0xfffe && $0.element == 0xe000 && $0.depth == 1 }, "items are shown")
        #expect(lines.first?.group == 0x0002, "the meta header comes first")
        // A masked value hides its length too.
        #expect(masked.contains("(0010,0010) PN [•••••]"))
    }
}
