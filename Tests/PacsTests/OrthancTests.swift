import DicomReading
import DicomWeb
import Foundation
import LightboxCore
import LightboxServices
import ReviewApp
import Store
import Testing
import TestSupport

/// Against a real Orthanc started here on loopback (Debian's orthanc and orthanc-dicomweb),
/// loaded with the bundled samples and 24 generated CT studies: query, page, filter, and
/// retrieve by WADO-RS, C-GET and C-MOVE equal to what was uploaded; the cache resumes; offline use.
@Suite(.serialized) struct OrthancTests {
    let server: OrthancServer?
    let home: TemporaryFolder
    /// The files uploaded, by SOP Instance UID.
    let uploaded: [String: String]
    static let generatedStudies = PacsFixture.generatedStudies

    init() throws {
        let fixture = try PacsFixture.shared()
        server = fixture?.server
        uploaded = fixture?.uploaded ?? [:]
        home = TemporaryFolder("pacs-home")
    }

    var configuration: Configuration { Configuration() }

    func source(_ url: String, query: StudyQuery = StudyQuery()) throws -> PacsStudySource {
        let pacs = try #require(try SourceResolver.pacs(url, configuration: configuration))
        return PacsStudySource(connection: pacs.connection, cache: InstanceCache(root: home.file("cache"), budgetBytes: 1 << 30),
                               cacheKey: pacs.cacheKey, index: try SQLiteWorklistIndex(path: home.file("index.sqlite")), query: query)
    }

    static let ctStudy = "2.25.40896484734383168002216604741367057351"
    static let mrStudy = "2.25.65269845307672499395214673459424662192"

    // MARK: query

    @Test func bothProtocolsAnswerAnEcho() throws {
        guard let server else { return }
        for url in [server.dicomWebURL, server.dimseURL] {
            try #require(try SourceResolver.pacs(url, configuration: configuration)).connection.echo()
        }
    }

    @Test func qidoAndCFindListTheSameStudies() throws {
        guard let server else { return }
        let web = try source(server.dicomWebURL).loadWorklist(progress: nil)
        let dimse = try source(server.dimseURL).loadWorklist(progress: nil)
        #expect(web.studies.count == 5 + Self.generatedStudies)
        #expect(web.studies.count == dimse.studies.count)
        // Body part is a series attribute: QIDO-RS finds it for a study, a study-level C-FIND does not.
        for (a, b) in zip(web.studies, dimse.studies) {
            var a = a
            a.bodyPartExamined = b.bodyPartExamined
            #expect(a == b, "\(a.studyInstanceUID)")
        }
        let ct = try #require(web.studies.first { $0.studyInstanceUID == Self.ctStudy })
        #expect(ct.modalities == ["CT"] && ct.imageCount == 28 && ct.seriesCount == 1)
        #expect(ct.studyDescription == "CT CHEST (synthetic phantom, 3 nodules)")
        #expect(!ct.patientName.isEmpty && !ct.accessionNumber.isEmpty && ct.studyDate == "20260112")
        // Oldest first, as a folder's worklist.
        #expect(web.studies.map(\.studyDate) == web.studies.map(\.studyDate).sorted())
    }

    @Test func qidoPagesArriveInTurnAndAddUpToTheWhole() throws {
        guard let server else { return }
        let client = DicomWebClient(endpoint: DicomWebEndpoint(baseURL: server.dicomWebURL))
        var pages: [Int] = []
        try client.findStudies(StudyQuery(pageSize: 7)) { page in
            pages.append(page.count)
            return true
        }
        #expect(pages == [7, 7, 7, 7, 1])
        var uids = Set<String>()
        try client.findStudies(StudyQuery(pageSize: 7)) { page in
            uids.formUnion(page.map { $0.string(0x0020, 0x000D) })
            return true
        }
        #expect(uids.count == 29)
        // A limit stops the paging; a page handler can stop it too.
        #expect(try client.allStudies(StudyQuery(limit: 10, pageSize: 4)).count == 10)
        var seen = 0
        try client.findStudies(StudyQuery(pageSize: 5)) { page in
            seen += page.count
            return false
        }
        #expect(seen == 5)
    }

    @Test func filtersRunOnTheServerForBothProtocols() throws {
        guard let server else { return }
        for url in [server.dicomWebURL, server.dimseURL] {
            let connection = try #require(try SourceResolver.pacs(url, configuration: configuration)).connection
            let february = try connection.allStudies(StudyQuery(dateRange: "20260201-20260210"))
            #expect(february.count == 10, "\(url)")
            let mr = try connection.allStudies(StudyQuery(modalities: ["MR"])).map(\.studySummary)
            #expect(mr.count == 1 + 8 && mr.allSatisfy { $0.modalities.contains("MR") }, "\(url)")
            let several = try connection.allStudies(StudyQuery(modalities: ["MR", "DX"])).map(\.studySummary)
            #expect(several.count == 1 + 8 + 1, "\(url)")
            let accession = try connection.allStudies(StudyQuery(accessionNumber: "GEN-5")).map(\.studySummary)
            #expect(accession.map(\.studyDescription) == ["GENERATED 5"], "\(url)")
            let patient = try connection.allStudies(StudyQuery(patientName: "TEST^*"))
            #expect(patient.count == Self.generatedStudies, "\(url)")
        }
    }

    // MARK: retrieve

    @Test func wadoRsRetrievesTheFilesByteForByte() throws {
        guard let server else { return }
        let source = try source(server.dicomWebURL)
        let folder = try source.retrieve(Self.ctStudy)
        let files = source.cache.cached(folder)
        #expect(files.count == 28)
        for uid in files {
            let original = try #require(uploaded[uid])
            #expect(FileManager.default.contentsEqual(atPath: original, andPath: folder + "/" + uid + ".dcm"), "\(uid)")
        }
        let study = try source.study(Self.ctStudy)
        #expect(study.series.count == 1 && study.imageCount == 28)
        // Decoded from the cache like a folder.
        let slice = try #require(study.series.first?.slices.first)
        #expect(try source.decode(slice.key).values.count == 256 * 256)
    }

    @Test(arguments: ["get", "move"]) func cGetAndCMoveRetrieveTheSameDataSets(method: String) throws {
        guard let server else { return }
        let source = try source(method == "move" ? server.dimseMoveURL : server.dimseURL)
        for studyUID in [Self.mrStudy, Self.ctStudy] {
            let folder = try source.retrieve(studyUID)
            let files = source.cache.cached(folder)
            #expect(!files.isEmpty)
            #expect(files.count == (try source.connection.findInstances(studyInstanceUID: studyUID).count), "\(method): all of \(studyUID)")
            for uid in files {
                let original = try #require(uploaded[uid])
                // C-GET and C-MOVE send the data set (DCMTK writes the file's meta header here): every
                // attribute outside group 0002, pixel data included, is the same.
                #expect(try Self.dataSetDump(original) == Self.dataSetDump(folder + "/" + uid + ".dcm"), "\(uid)")
                #expect(try DicomFile.open(original).pixelInfo().transferSyntaxUID == DicomFile.open(folder + "/" + uid + ".dcm").pixelInfo().transferSyntaxUID)
            }
        }
    }

    /// A study opened while the next ones are fetched ahead: two C-MOVE retrieves of one process at
    /// once share the storage port (each routed to its own study and folder), both whole.
    @Test func twoCMovesAtOnceShareTheStoragePort() throws {
        guard let server else { return }
        let source = try source(server.dimseMoveURL)
        let studies = [Self.ctStudy, Self.mrStudy]
        let failures = Counter()
        DispatchQueue.concurrentPerform(iterations: studies.count) { index in
            do { _ = try source.retrieve(studies[index]) } catch {
                Issue.record("\(studies[index]): \(error)")
                failures.add()
            }
        }
        #expect(failures.value == 0)
        for study in studies {
            let folder = source.folder(of: study)
            #expect(source.cache.cached(folder).count == (try source.connection.findInstances(studyInstanceUID: study).count), "\(study)")
            for uid in source.cache.cached(folder) { #expect(uploaded[uid] != nil, "\(uid) is not of \(study)") }
        }
    }

    /// dcmdump of every attribute but the meta header, values in full.
    static func dataSetDump(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/dcmdump")
        process.arguments = ["-q", "+L", "+U8", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n")
            .filter { !$0.hasPrefix("#") && !$0.hasPrefix("(0002,") && !$0.isEmpty }.joined(separator: "\n")
    }

    @Test func anInterruptedRetrieveResumesWithWhatIsMissing() throws {
        guard let server else { return }
        for url in [server.dicomWebURL, server.dimseURL, server.dimseMoveURL] {
            let source = try source(url)
            let folder = try source.retrieve(Self.ctStudy)
            // A crash left half the files missing and one partial file behind.
            let names = source.cache.cached(folder).sorted()
            for uid in names.prefix(14) { try FileManager.default.removeItem(atPath: folder + "/" + uid + ".dcm") }
            try Data("cut".utf8).write(to: URL(fileURLWithPath: folder + "/.wado-x.partial"))
            let fetched = Counter()
            _ = try source.retrieve(Self.ctStudy) { _ in
                fetched.add()
                return true
            }
            #expect(fetched.value >= 14 && fetched.value <= 15, "\(url): fetched \(fetched.value)")
            #expect(source.cache.cached(folder).count == 28)
            #expect(!FileManager.default.fileExists(atPath: folder + "/.wado-x.partial"))
            // Complete: nothing is fetched again.
            fetched.reset()
            _ = try source.retrieve(Self.ctStudy) { _ in
                fetched.add()
                return true
            }
            #expect(fetched.value == 0)
        }
    }

    @Test func theCacheKeepsItsBudgetLeastRecentlyUsedFirst() throws {
        guard let server else { return }
        let pacs = try #require(try SourceResolver.pacs(server.dicomWebURL, configuration: configuration))
        // Room for the CT (3.5 MB) and little else.
        let cache = InstanceCache(root: home.file("small-cache"), budgetBytes: 4_000_000)
        let source = PacsStudySource(connection: pacs.connection, cache: cache, cacheKey: pacs.cacheKey,
                                     index: try SQLiteWorklistIndex(path: home.file("index.sqlite")))
        let mr = try source.retrieve(Self.mrStudy)
        Thread.sleep(forTimeInterval: 0.05)
        let ct = try source.retrieve(Self.ctStudy)
        #expect(!FileManager.default.fileExists(atPath: mr), "the older study made room")
        #expect(cache.isComplete(ct), "the study being opened is never evicted")
        #expect(cache.size <= 4_000_000)
    }

    @Test func triageOfAPacsSourceAnalysesEveryStudy() throws {
        guard let server else { return }
        let run = try CommandRun.lightbox(["triage", server.dicomWebURL, "--model", Fixtures.repositoryRoot + "/models/default", "--json"],
                                          home: home.path)
        #expect(run.status == 0, "\(run.stderr)")
        let results = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]]
        #expect(results?.count == 5 + Self.generatedStudies)
        #expect(results?.contains { $0["studyInstanceUID"] as? String == Self.ctStudy && ($0["imagesAnalysed"] as? Int ?? 0) == 28 } == true)
    }

    // MARK: offline

    @Test func withThePacsDownTheCachedStudiesStillOpen() throws {
        guard let server else { return }
        let source = try source(server.dicomWebURL)
        _ = try source.study(Self.ctStudy)
        server.stop()
        defer { try? server.start() }
        let worklist = try source.loadWorklist(progress: nil)
        #expect(worklist.studies.map(\.studyInstanceUID) == [Self.ctStudy])
        let notice = try #require(worklist.notice)
        #expect(notice.contains(server.dicomWebURL) && notice.contains("connection refused") && notice.contains("1 cached study"))
        let study = try source.study(Self.ctStudy)
        #expect(study.imageCount == 28)
        #expect(throws: PacsError.self) { try source.study(Self.mrStudy) }
        do { _ = try source.study(Self.mrStudy) } catch {
            #expect("\(error)".contains(server.dicomWebURL) && "\(error)".contains("refused"), "\(error)")
        }
    }
}

/// A thread-safe count.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    func reset() { lock.withLock { count = 0 } }
    var value: Int { lock.withLock { count } }
}

/// The built `lightbox` run with a home of its own.
struct CommandRun {
    let status: Int32
    let stdout: String
    let stderr: String

    static func lightbox(_ arguments: [String], home: String, environment extra: [String: String] = [:]) throws -> CommandRun {
        try program(Fixtures.builtProgram("lightbox"), arguments, environment: extra.merging(["LIGHTBOX_HOME": home]) { $1 })
    }

    /// Any program, with `extra` added to this process's environment.
    static func program(_ path: String, _ arguments: [String], environment extra: [String: String] = [:]) throws -> CommandRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let errData = ReadAll(err.fileHandleForReading)
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandRun(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                          stderr: String(decoding: errData.wait(), as: UTF8.self))
    }
}

/// Reads a pipe to its end on a thread of its own (so stdout and stderr cannot block each other).
final class ReadAll: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var data = Data()

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}

/// An Orthanc for a suite, loaded once: the bundled samples and 24 small generated studies (the
/// query and retrieve suite), and one bigger study (120 × 256 × 256 × 16 bits, 16 MB: more than
/// the loopback's socket buffers hold, for a server killed in the middle of sending it).
final class PacsFixture: @unchecked Sendable {
    static let generatedStudies = 24
    static let bigStudy = "2.25.88"
    static let bigSlices = 120
    let server: OrthancServer
    let uploaded: [String: String]
    let generated = TemporaryFolder("pacs-generated")
    nonisolated(unsafe) static var running: [OrthancServer] = []
    nonisolated(unsafe) static var folders: [String] = []

    /// The query and retrieve suite's server (OrthancTests), which stops and starts it.
    static let fixture = Result { try PacsFixture(small: true) }
    /// The fault suite's own (it kills it), so the suites, which run side by side, never share one.
    static let faultFixture = Result { try PacsFixture(small: false) }
    /// The verdict suite's own (it stores SRs into the CT and stops the server): the chest CT only.
    static let pushFixture = Result { try PacsFixture(small: true, only: "chest-ct") }

    /// A fixture's server, running; nil when Orthanc is not installed and not required (the test
    /// is skipped), a failure when `make test` requires it.
    static func shared(_ which: Result<PacsFixture, any Error> = fixture) throws -> PacsFixture? {
        guard OrthancServer.available else {
            if OrthancServer.required { throw OrthancError("Orthanc is not installed (make test installs orthanc and orthanc-dicomweb)") }
            return nil
        }
        let fixture = try which.get()
        if !fixture.server.isRunning { try fixture.server.start() }
        return fixture
    }

    init(small: Bool, only sample: String? = nil) throws {
        server = try OrthancServer()
        var files: [String] = []
        if let sample {
            files = OrthancServer.dicomFiles(under: Fixtures.samples + "/" + sample)
        } else if small {
            files = OrthancServer.dicomFiles(under: Fixtures.samples)
            for study in 0..<Self.generatedStudies {
                for slice in 1...2 {
                    var header = Fixtures.header(rows: 16, columns: 16, study: "2.25.77\(study)", series: "2.25.77\(study).1", instance: slice)
                    header.sopInstanceUID = "2.25.77\(study).1.\(slice)"
                    header.studyDate = String(format: "202602%02d", study + 1)
                    header.modality = study % 3 == 0 ? "MR" : "CT"
                    header.sopClassUID = study % 3 == 0 ? "1.2.840.10008.5.1.4.1.1.4" : "1.2.840.10008.5.1.4.1.1.2"
                    header.studyDescription = "GENERATED \(study)"
                    header.accessionNumber = "GEN-\(study)"
                    let path = generated.file("gen-\(study)-\(slice).dcm")
                    try Fixtures.write(header, to: path)
                    files.append(path)
                }
            }
        } else {
            for slice in 1...Self.bigSlices {
                var header = Fixtures.header(rows: 256, columns: 256, study: Self.bigStudy, series: Self.bigStudy + ".1", instance: slice)
                header.sopInstanceUID = Self.bigStudy + ".1.\(slice)"
                header.studyDate = "20260301"
                header.studyDescription = "GENERATED BIG"
                let path = generated.file("big-\(slice).dcm")
                try Fixtures.write(header, to: path)
                files.append(path)
            }
        }
        try server.upload(files)
        var uploaded: [String: String] = [:]
        for file in files { uploaded[try DicomFile.open(file).identity.sopInstance] = file }
        self.uploaded = uploaded
        Self.running.append(server)
        Self.folders += [server.folder.path, generated.path]
        // The servers, their storage and the generated files go with the test process.
        atexit {
            for server in PacsFixture.running { server.kill() }
            for folder in PacsFixture.folders { try? FileManager.default.removeItem(atPath: folder) }
        }
    }
}
