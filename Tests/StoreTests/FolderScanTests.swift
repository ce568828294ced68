import DicomReading
import Foundation
import LightboxCore
import Store
import Testing
import TestSupport

/// The folder worklist: grouping, ordering, and rescans that read only what changed.
struct FolderScanTests {
    /// An instance reader that counts what it reads, around the real DCMTK one.
    final class CountingReader: InstanceReader, @unchecked Sendable {
        let lock = NSLock()
        var paths: [String] = []
        func read(path: String) -> FileOutcome {
            lock.lock(); paths.append(path); lock.unlock()
            return DcmtkInstanceReader().read(path: path)
        }
    }

    func makeSeries(in folder: TemporaryFolder, count: Int, series: String = "2.25.2", study: String = "2.25.1") throws {
        for index in 0..<count {
            var header = Fixtures.header(rows: 8, columns: 8, study: study, series: series, instance: index + 1)
            header.sopInstanceUID = "\(series).\(index)"
            header.imageOrientationPatient = [1, 0, 0, 0, 1, 0]
            header.imagePositionPatient = [0, 0, Double(index) * 5]
            try Fixtures.write(header, to: folder.file("\(series)-\(index).dcm"))
        }
    }

    @Test func rescanReadsNothingThenOnlyTheNewFile() throws {
        let data = TemporaryFolder("index"), source = TemporaryFolder("source")
        try makeSeries(in: source, count: 5)
        let reader = CountingReader()
        let indexer = FolderIndexer(reader: reader, index: try SQLiteWorklistIndex(path: data.file("index.sqlite")))

        let first = try indexer.scan(root: source.path)
        #expect(first.summary.filesRead == 5)
        #expect(first.summary.images == 5)
        #expect(reader.paths.count == 5)

        let second = try indexer.scan(root: source.path)
        #expect(second.summary.filesRead == 0)
        #expect(reader.paths.count == 5)
        #expect(second.studies == first.studies)

        var header = Fixtures.header(rows: 8, columns: 8, instance: 99)
        header.sopInstanceUID = "2.25.2.99"
        try Fixtures.write(header, to: source.file("new.dcm"))
        let third = try indexer.scan(root: source.path)
        #expect(third.summary.filesRead == 1)
        #expect(reader.paths.last == source.file("new.dcm"))
        #expect(third.summary.images == 6)
    }

    @Test func changedAndDeletedFilesAreNoticed() throws {
        let data = TemporaryFolder("index"), source = TemporaryFolder("source")
        try makeSeries(in: source, count: 3)
        let indexer = FolderIndexer(reader: DcmtkInstanceReader(), index: try SQLiteWorklistIndex(path: data.file("index.sqlite")))
        _ = try indexer.scan(root: source.path)
        try FileManager.default.removeItem(atPath: source.file("2.25.2-0.dcm"))
        try "now broken".write(toFile: source.file("2.25.2-1.dcm"), atomically: true, encoding: .utf8)
        let result = try indexer.scan(root: source.path)
        #expect(result.summary.filesRemoved == 1)
        #expect(result.summary.filesRead == 1)
        #expect(result.summary.images == 1)
        #expect(result.summary.errorsByReason == ["not DICOM": 1])
        #expect(result.summary.errorMessages.first?.hasPrefix(source.file("2.25.2-1.dcm") + ":") == true)
    }

    @Test func indexSurvivesReopeningAndKeepsFoldersApart() throws {
        let data = TemporaryFolder("index"), a = TemporaryFolder("a"), b = TemporaryFolder("b")
        try makeSeries(in: a, count: 2, series: "2.25.10", study: "2.25.100")
        try makeSeries(in: b, count: 3, series: "2.25.20", study: "2.25.200")
        let path = data.file("index.sqlite")
        _ = try FolderIndexer(reader: DcmtkInstanceReader(), index: try SQLiteWorklistIndex(path: path)).scan(root: a.path)
        _ = try FolderIndexer(reader: DcmtkInstanceReader(), index: try SQLiteWorklistIndex(path: path)).scan(root: b.path)
        let reader = CountingReader()
        let again = try FolderIndexer(reader: reader, index: try SQLiteWorklistIndex(path: path)).scan(root: a.path)
        #expect(reader.paths.isEmpty)
        #expect(again.studies.map(\.studyInstanceUID) == ["2.25.100"])
        #expect(again.summary.images == 2)
    }

    @Test func bundledSamplesGroupAndOrderBySlicePosition() throws {
        let data = TemporaryFolder("index")
        let indexer = FolderIndexer(reader: DcmtkInstanceReader(), index: try SQLiteWorklistIndex(path: data.file("index.sqlite")))
        let (studies, summary) = try indexer.scan(root: Fixtures.samples)
        #expect(summary.studies == 5)
        #expect(summary.errorsByReason.isEmpty)
        #expect(summary.skippedByReason == ["not a DICOM file": 2])  // README.md and ground-truth.json
        let ct = try #require(studies.first { $0.header.modality == "CT" })
        #expect(ct.series.count == 1)
        let positions = ct.series[0].instances.map { $0.header.imagePositionPatient![2] }
        #expect(positions == positions.sorted())
        // Files are named in reverse of position: order must not come from names.
        let names = ct.series[0].instances.map { ($0.path as NSString).lastPathComponent }
        #expect(names.first == "IM0028.dcm" && names.last == "IM0001.dcm")
        let cine = try #require(studies.first { $0.header.modality == "XA" })
        #expect(cine.imageCount == 16)
    }
}

/// The worklist from the index's summaries equals the worklist built from every header, and a
/// study loaded on its own equals the one the full scan assembles.
struct WorklistSummaryTests {
    @Test func summariesFromTheIndexEqualThoseOfTheAssembledStudies() throws {
        let data = TemporaryFolder("summary-index")
        let index = try SQLiteWorklistIndex(path: data.file("index.sqlite"))
        let indexer = FolderIndexer(reader: DcmtkInstanceReader(), index: index)
        let full = try indexer.scan(root: Fixtures.samples)
        let worklist = try indexer.worklist(root: Fixtures.samples)
        #expect(worklist.studies.count == 5 && full.studies.count == 5)
        for (summary, study) in zip(worklist.studies, full.studies) {
            var expected = study.summary
            expected.modalities.sort()
            var got = summary
            got.seriesDescriptions.sort()
            expected.seriesDescriptions = Array(Set(expected.seriesDescriptions.filter { !$0.isEmpty })).sorted()
            #expect(got == expected)
        }
        // One study on its own, from the index.
        for study in full.studies {
            #expect(try index.study(study.studyInstanceUID, under: FolderIndexer.normalized(Fixtures.samples)) == study)
        }
        #expect(try index.study("2.25.404", under: Fixtures.samples) == nil)
    }

    @Test func brokenFilesAreListedWithTheirReasonsAndCostOnlyTheirOwnRow() throws {
        let data = TemporaryFolder("problems-index"), source = TemporaryFolder("problems-source")
        try Fixtures.write(Fixtures.header(rows: 8, columns: 8, study: "2.25.7", series: "2.25.7.1", instance: 1), to: source.file("good.dcm"))
        try Data("definitely not DICOM".utf8).write(to: URL(fileURLWithPath: source.file("broken.dcm")))
        var truncated = try Data(contentsOf: URL(fileURLWithPath: source.file("good.dcm")))
        truncated = truncated.prefix(truncated.count - 40)
        try truncated.write(to: URL(fileURLWithPath: source.file("short.dcm")))
        try Data("notes".utf8).write(to: URL(fileURLWithPath: source.file("README.txt")))
        let index = try SQLiteWorklistIndex(path: data.file("index.sqlite"))
        let worklist = try FolderIndexer(reader: DcmtkInstanceReader(), index: index).worklist(root: source.path)
        #expect(worklist.studies.map(\.studyInstanceUID) == ["2.25.7"])
        #expect(worklist.skipped == 1, "the README")
        #expect(worklist.problems.map { ($0.path as NSString).lastPathComponent } == ["broken.dcm", "short.dcm"])
        #expect(worklist.problems.allSatisfy { $0.message.hasPrefix($0.path + ": ") })
        #expect(worklist.problems.first?.reason == "not DICOM")
    }
}

struct FolderListingTests {
    @Test func listsNestedFilesSkipsHiddenOnesAndSurvivesALinkLoop() throws {
        let root = TemporaryFolder("listing")
        let manager = FileManager.default
        try manager.createDirectory(atPath: root.file("a/b"), withIntermediateDirectories: true)
        try manager.createDirectory(atPath: root.file(".hidden"), withIntermediateDirectories: true)
        for path in ["one.dcm", "a/two.dcm", "a/b/three.dcm", ".hidden/secret.dcm", "a/.dotfile"] {
            try Data("x\(path)".utf8).write(to: URL(fileURLWithPath: root.file(path)))
        }
        // A link back up the tree, and a link to a file.
        try manager.createSymbolicLink(atPath: root.file("a/b/loop"), withDestinationPath: root.path)
        try manager.createSymbolicLink(atPath: root.file("linked.dcm"), withDestinationPath: root.file("one.dcm"))
        let listed = try FolderIndexer.listFiles(root: root.path)
        let names = listed.map { String($0.path.dropFirst(root.path.count + 1)) }
        #expect(names == ["a/b/three.dcm", "a/two.dcm", "linked.dcm", "one.dcm"], "\(names)")
        let one = try #require(listed.first { $0.path.hasSuffix("/one.dcm") })
        #expect(one.stamp.size == 8)
        // The stamp changes when the file does, so a rescan reads it again.
        try Data("changed!!".utf8).write(to: URL(fileURLWithPath: root.file("one.dcm")))
        #expect(try FolderIndexer.listFiles(root: root.path).first { $0.path.hasSuffix("/one.dcm") }?.stamp != one.stamp)
    }
}
