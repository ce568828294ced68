import DicomReading
import DicomWeb
import Foundation
import LightboxCore
import LightboxServices
import Store

/// `lightbox-benchmark pacs`: against an Orthanc started here on loopback (Debian's orthanc and
/// orthanc-dicomweb) holding `studies` small studies and one 300-slice 512×512 CT: the worklist
/// by QIDO-RS (first page, all in pages of 1,000, all in one request) and by C-FIND beside the
/// same queries by curl and DCMTK's findscu; the CT retrieved (first image in the cache, the
/// whole study) by WADO-RS, C-GET and C-MOVE beside curl, getscu, movescu and, with --python, the
/// PyPI client dicomweb-client; decisions pushed as verdict SRs per second by STOW-RS and C-STORE
/// beside storescu. Orthanc's storage is kept in the working folder between runs.
struct PacsBenchmark {
    let folder: String
    let studies: Int
    let python: String?

    static let ctStudy = "2.25.99"
    static let ctSeries = "2.25.99.1"
    static let ctSlices = 300

    func run() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/Orthanc") else {
            throw CLIFailure("pacs: needs Orthanc (apt install orthanc orthanc-dicomweb; make bench installs them)")
        }
        let httpPort = 18_000 + Int(getpid() % 1000), dicomPort = httpPort + 1000
        let storage = folder + "/orthanc-storage"
        try FileManager.default.createDirectory(atPath: storage, withIntermediateDirectories: true)
        let configuration: [String: Any] = [
            "Name": "LightboxBench", "StorageDirectory": storage, "IndexDirectory": storage, "HttpPort": httpPort, "DicomPort": dicomPort,
            "DicomAet": "ORTHANC", "RemoteAccessAllowed": false, "AuthenticationEnabled": false, "DicomCheckCalledAet": true,
            "StorageCompression": false, "LimitFindResults": 0, "LimitFindInstances": 0, "HttpTimeout": 600,
            "Plugins": ["/usr/share/orthanc/plugins/libOrthancDicomWeb.so"],
            "DicomWeb": ["Enable": true, "Root": "/dicom-web/", "EnableWado": false, "Host": "127.0.0.1"],
            "DicomModalities": ["lightbox": ["LIGHTBOX", "127.0.0.1", dicomPort + 1]],
        ]
        let configPath = folder + "/orthanc.json"
        try JSONSerialization.data(withJSONObject: configuration, options: [.prettyPrinted]).write(to: URL(fileURLWithPath: configPath))
        let orthanc = Process()
        orthanc.executableURL = URL(fileURLWithPath: "/usr/sbin/Orthanc")
        orthanc.arguments = ["--no-jobs", "--logdir=\(folder)", configPath]
        orthanc.standardOutput = FileHandle.nullDevice
        orthanc.standardError = FileHandle.nullDevice
        try orthanc.run()
        defer {
            orthanc.terminate()
            orthanc.waitUntilExit()
        }
        let base = "http://127.0.0.1:\(httpPort)/dicom-web"
        let web = DicomWebClient(endpoint: DicomWebEndpoint(baseURL: base, timeout: 600))
        let deadline = Date().addingTimeInterval(30)
        while (try? web.echo()) == nil {
            guard Date() < deadline else { throw CLIFailure("pacs: Orthanc did not start (see \(folder)/Orthanc.log)") }
            usleep(100_000)
        }
        var dimseEndpoint = DimseEndpoint(host: "127.0.0.1", port: dicomPort, calledAETitle: "ORTHANC")
        dimseEndpoint.timeout = 600
        let dimse = try DimseClient(endpoint: dimseEndpoint)
        var moveEndpoint = dimseEndpoint
        moveEndpoint.retrieve = .move
        moveEndpoint.storePort = dicomPort + 1
        let move = try DimseClient(endpoint: moveEndpoint)
        try load(base: base, dicomPort: dicomPort, web: web)

        var lines = ["Lightbox PACS benchmark — \(ProcessInfo.processInfo.activeProcessorCount) cores, Orthanc 1.10 + DICOMweb 1.7 on loopback, "
                     + "\(studies) small studies + one \(Self.ctSlices)-slice 512×512 CT"]
        let all = studies + 1
        let fields = "includefield=00080020&includefield=00080030&includefield=00080050&includefield=00080061&includefield=00081030"
            + "&includefield=00100010&includefield=00100020&includefield=00180015&includefield=00201206&includefield=00201208&includefield=0020000D"
        // The worklist.
        let curlOne = try Self.median(3) { try Self.curl(["\(base)/studies?\(fields)&limit=\(all)&offset=0"]) }
        let curlPaged = try Self.median(3) {
            var offset = 0
            while offset < all {
                try Self.curl(["\(base)/studies?\(fields)&limit=1000&offset=\(offset)"])
                offset += 1000
            }
        }
        var firstPage = 0.0
        let oursPaged = try Self.median(3) {
            let start = Date()
            var rows = 0
            try web.findStudies(StudyQuery(pageSize: 1000)) { page in
                if rows == 0 { firstPage = Date().timeIntervalSince(start) }
                rows += page.count
                return true
            }
            guard rows == all else { throw CLIFailure("pacs: QIDO-RS listed \(rows) of \(all) studies") }
        }
        let oursOne = try Self.median(3) { _ = try web.allStudies(StudyQuery(pageSize: all)) }
        let findscu = try Self.median(3) {
            try Self.run("/usr/bin/findscu", ["-aet", "LIGHTBOX", "-aec", "ORTHANC", "-S", "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID",
                                              "-k", "StudyDate", "-k", "StudyTime", "-k", "AccessionNumber", "-k", "PatientName", "-k", "PatientID",
                                              "-k", "StudyDescription", "-k", "ModalitiesInStudy", "-k", "NumberOfStudyRelatedSeries",
                                              "-k", "NumberOfStudyRelatedInstances", "127.0.0.1", "\(dicomPort)"])
        }
        let oursFind = try Self.median(3) {
            let rows = try dimse.allStudies(StudyQuery(pageSize: 1000)).count
            guard rows == all else { throw CLIFailure("pacs: C-FIND listed \(rows) of \(all) studies") }
        }
        lines.append(String(format: "Worklist of %d studies, QIDO-RS: first page (100 rows) %.2f s; all in pages of 1,000 %.2f s (curl %.2f s, %.2f×); "
                            + "all in one request %.2f s (curl %.2f s, %.2f×)", all, firstPage, oursPaged, curlPaged, oursPaged / curlPaged,
                            oursOne, curlOne, oursOne / curlOne))
        lines.append(String(format: "Worklist of %d studies, C-FIND: %.2f s (findscu %.2f s, %.2f×)", all, oursFind, findscu, oursFind / findscu))

        // The CT.
        let listing = try web.findInstances(studyInstanceUID: Self.ctStudy)
        guard listing.count == Self.ctSlices else { throw CLIFailure("pacs: the CT lists \(listing.count) instances, not \(Self.ctSlices)") }
        var wholeStudy: [String: Double] = [:]
        for (name, connection) in [("WADO-RS", web as any PacsConnection), ("C-GET", dimse), ("C-MOVE", move)] {
            var first = 0.0
            let whole = try Self.median(3) {
                let target = folder + "/retrieve-\(name)"
                try? FileManager.default.removeItem(atPath: target)
                try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
                let start = Date()
                let firstSeen = FirstTime()
                try connection.retrieve(listing.sorted { ($0.instanceNumber ?? 0) < ($1.instanceNumber ?? 0) }, into: target) { _ in
                    firstSeen.mark(Date().timeIntervalSince(start))
                    return true
                }
                first = firstSeen.value
                let count = ((try? FileManager.default.contentsOfDirectory(atPath: target)) ?? []).filter { $0.hasSuffix(".dcm") }.count
                guard count == Self.ctSlices else { throw CLIFailure("pacs: \(name) stored \(count) of \(Self.ctSlices)") }
            }
            lines.append(String(format: "CT of %d slices by %@: first image in the cache %.3f s, whole study %.2f s (%.0f images/s)", Self.ctSlices, name,
                                first, whole, Double(Self.ctSlices) / whole))
            wholeStudy[name] = whole
        }
        /// How many times the peer's time ours is.
        func versus(_ name: String, _ peer: Double) -> String { String(format: "%@ %.2f×", name, (wholeStudy[name] ?? .nan) / peer) }
        let curlSeries = try Self.median(3) {
            try Self.curl(["-H", "Accept: multipart/related; type=\"application/dicom\"; transfer-syntax=*", "\(base)/studies/\(Self.ctStudy)/series/\(Self.ctSeries)"])
        }
        lines.append(String(format: "  peers: curl of the series' multipart body to /dev/null %.2f s (%@)", curlSeries, versus("WADO-RS", curlSeries)))
        let getscuFolder = folder + "/retrieve-getscu"
        let getscu = try Self.median(3) {
            try? FileManager.default.removeItem(atPath: getscuFolder)
            try FileManager.default.createDirectory(atPath: getscuFolder, withIntermediateDirectories: true)
            try Self.run("/usr/bin/getscu", ["-aet", "LIGHTBOX", "-aec", "ORTHANC", "-S", "-k", "QueryRetrieveLevel=STUDY", "-k",
                                             "StudyInstanceUID=\(Self.ctStudy)", "-od", getscuFolder, "127.0.0.1", "\(dicomPort)"])
        }
        lines.append(String(format: "  peers: getscu (DCMTK) %.2f s (%@)", getscu, versus("C-GET", getscu)))
        let movescuFolder = folder + "/retrieve-movescu"
        let movescu = try Self.median(3) {
            try? FileManager.default.removeItem(atPath: movescuFolder)
            try FileManager.default.createDirectory(atPath: movescuFolder, withIntermediateDirectories: true)
            try Self.run("/usr/bin/movescu", ["-aet", "LIGHTBOX", "-aem", "LIGHTBOX", "-aec", "ORTHANC", "--port", "\(dicomPort + 1)", "-S",
                                              "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=\(Self.ctStudy)", "-od", movescuFolder,
                                              "127.0.0.1", "\(dicomPort)"])
        }
        lines.append(String(format: "  peers: movescu (DCMTK) %.2f s (%@)", movescu, versus("C-MOVE", movescu)))
        if let python {
            let script = """
            import sys, time
            from dicomweb_client.api import DICOMwebClient
            client = DICOMwebClient(url=sys.argv[1])
            start = time.time()
            instances = client.retrieve_series(sys.argv[2], sys.argv[3])
            assert len(instances) == int(sys.argv[4]), len(instances)
            print(time.time() - start)
            """
            var times: [Double] = []
            for _ in 0..<3 {
                let output = try Self.run(python, ["-c", script, base, Self.ctStudy, Self.ctSeries, "\(Self.ctSlices)"])
                times.append(Double(output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? .nan)
            }
            let median = times.sorted()[1]
            lines.append(String(format: "  peers: dicomweb-client (PyPI) retrieve_series %.2f s (in memory, parsed by pydicom; %@)", median,
                                versus("WADO-RS", median)))
        }
        lines += try pushes(web: web, dimse: dimse, httpPort: httpPort, dicomPort: dicomPort)
        print(lines.joined(separator: "\n"))
    }

    /// Decisions pushed as verdict SRs per second, by STOW-RS and by C-STORE (each SR made from
    /// the decision, stored, its confirmation recorded in a SQLite ledger), beside storescu
    /// sending the same SR files (transport only). Study-level decisions on one small study,
    /// without a model (so without finding groups: the SRs are about 3 KB); the SRs are deleted
    /// from Orthanc afterwards, so the kept storage stays as loaded.
    func pushes(web: DicomWebClient, dimse: DimseClient, httpPort: Int, dicomPort: Int) throws -> [String] {
        let count = 200
        let work = folder + "/push-\(getpid())"
        try? FileManager.default.removeItem(atPath: work)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        // Each protocol pushes decisions of its own (new SRs each), within a minute a request.
        var webEndpoint = web.endpoint
        webEndpoint.timeout = 60
        var dimseEndpoint = dimse.endpoint
        dimseEndpoint.timeout = 60
        let study = "2.25.550"
        var lines: [String] = []
        var stowFolder = ""
        var cStoreSeconds = Double.nan
        for (name, connection, key) in [("STOW-RS", DicomWebClient(endpoint: webEndpoint) as any PacsConnection, "bench-web"),
                                        ("C-STORE", try DimseClient(endpoint: dimseEndpoint), "bench-dimse")] {
            let ledger = try SQLiteDecisionLedger(path: work + "/decisions-\(key).sqlite")
            let run = UUID().uuidString.lowercased()
            for index in 0..<count {
                var decision = Decision(id: "bench-\(run)-\(index)", studyInstanceUID: study, patientID: "BENCH", studyDate: "20260101",
                                        action: index % 3 == 0 ? .override : .accept, reason: index % 3 == 0 ? .falsePositive : nil,
                                        reader: "bench", secondsSpent: 5, model: "bench-model", modelVersion: "1", outputHash: "h\(index)",
                                        probability: 0.5, tier: .review)
                decision.decidedAt = Decision.timestamp()
                _ = try ledger.record(decision)
            }
            let index = try SQLiteWorklistIndex(path: work + "/index-\(key).sqlite")
            let source = PacsStudySource(connection: connection, cache: InstanceCache(root: work + "/cache", budgetBytes: 1 << 34), cacheKey: key,
                                         index: index)
            _ = try source.study(study)  // the study in the cache first: the figure is the push
            let pusher = VerdictPusher(destination: key, source: source, ledger: ledger, folder: work + "/sr-\(key)", allowComment: false,
                                       analyser: nil)
            let outcome = try pusher.push()
            guard outcome.failure == nil, outcome.stored.count == count else {
                throw CLIFailure("pacs: \(name) push stored \(outcome.stored.count) of \(count): \(outcome.failure ?? "")")
            }
            lines.append(String(format: "Decisions pushed as TID 1500 SR by %@: %d in %.2f s (%.0f decisions/s)", name, count, outcome.seconds,
                                Double(count) / outcome.seconds))
            if name == "STOW-RS" { stowFolder = work + "/sr-\(key)" } else { cStoreSeconds = outcome.seconds }
        }
        // The same files again (Orthanc answers each as already stored).
        let storescu = try Self.median(3) {
            try Self.run("/usr/bin/storescu", ["-aet", "LIGHTBOX", "-aec", "ORTHANC", "+sd", "127.0.0.1", "\(dicomPort)", stowFolder])
        }
        lines.append(String(format: "  peers: storescu (DCMTK) sending the same %d SR files %.2f s (%.0f files/s; C-STORE push %.2f×)", count, storescu,
                            Double(count) / storescu, cStoreSeconds / storescu))
        // The verdict series out again (Orthanc's REST API: look the UID up, delete the series).
        let series = VerdictPusher.seriesInstanceUID(studyInstanceUID: study)
        let found = try Self.run("/usr/bin/curl", ["-s", "-f", "-X", "POST", "--data", series, "http://127.0.0.1:\(httpPort)/tools/lookup"])
        if let data = found.data(using: .utf8), let items = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] {
            for item in items { if let id = item["ID"] as? String { try Self.run("/usr/bin/curl", ["-s", "-f", "-X", "DELETE", "http://127.0.0.1:\(httpPort)/series/\(id)"]) } }
        }
        return lines
    }

    /// Loads the small studies and the CT, unless Orthanc's kept storage holds them already.
    func load(base: String, dicomPort: Int, web: DicomWebClient) throws {
        let have = try web.allStudies(StudyQuery(pageSize: 5000)).count
        if have == studies + 1 { return }
        guard have == 0 else { throw CLIFailure("pacs: \(folder)/orthanc-storage holds \(have) studies, not \(studies + 1): remove it to reload") }
        let files = folder + "/pacs-files"
        try? FileManager.default.removeItem(atPath: files)
        try FileManager.default.createDirectory(atPath: files + "/small", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: files + "/ct", withIntermediateDirectories: true)
        let start = Date()
        let small = (0..<(16 * 16)).map { Int32($0 * 7 % 4096) }
        for index in 0..<studies {
            var header = Self.header(study: "2.25.55\(index)", series: "2.25.55\(index).1", sop: "2.25.55\(index).1.1", rows: 16, instance: 1)
            header.studyDate = String(format: "2025%02d%02d", 1 + index % 12, 1 + index % 28)
            header.modality = ["CT", "MR", "CR", "US"][index % 4]
            header.studyDescription = "BENCH \(index)"
            header.accessionNumber = "B\(index)"
            try SyntheticInstance(header: header, storedValues: small).write(to: files + "/small/\(index).dcm", syntax: .explicitLittleEndian)
        }
        let values = (0..<(512 * 512)).map { Int32(($0 % 512) * 8 % 4096) }
        for slice in 1...Self.ctSlices {
            var header = Self.header(study: Self.ctStudy, series: Self.ctSeries, sop: Self.ctSeries + ".\(slice)", rows: 512, instance: slice)
            header.studyDescription = "BENCH CT 300 SLICES"
            header.studyDate = "20260101"
            header.imagePositionPatient = [0, 0, Double(slice)]
            try SyntheticInstance(header: header, storedValues: values).write(to: files + "/ct/\(slice).dcm", syntax: .explicitLittleEndian)
        }
        let written = Date().timeIntervalSince(start)
        let uploadStart = Date()
        _ = try Self.run("/usr/bin/storescu", ["-aet", "LIGHTBOX", "-aec", "ORTHANC", "+sd", "+r", "127.0.0.1", "\(dicomPort)", files])
        FileHandle.standardError.write(Data(String(format: "pacs: wrote %d files in %.1f s, stored them in Orthanc by storescu in %.1f s\n",
                                                   studies + Self.ctSlices, written, Date().timeIntervalSince(uploadStart)).utf8))
    }

    static func header(study: String, series: String, sop: String, rows: Int, instance: Int) -> ImageHeader {
        var header = ImageHeader()
        header.sopClassUID = "1.2.840.10008.5.1.4.1.1.2"
        header.sopInstanceUID = sop
        header.studyInstanceUID = study
        header.seriesInstanceUID = series
        header.modality = "CT"
        header.patientName = "BENCH^PATIENT"
        header.patientID = "BENCH"
        header.rows = rows
        header.columns = rows
        header.bitsAllocated = 16
        header.bitsStored = 12
        header.highBit = 11
        header.photometricInterpretation = "MONOCHROME2"
        header.instanceNumber = instance
        return header
    }

    /// The median of `count` timed runs, in seconds.
    static func median(_ count: Int, _ body: () throws -> Void) throws -> Double {
        var times: [Double] = []
        for _ in 0..<count {
            let start = Date()
            try body()
            times.append(Date().timeIntervalSince(start))
        }
        return times.sorted()[count / 2]
    }

    @discardableResult
    static func curl(_ arguments: [String]) throws -> String {
        try run("/usr/bin/curl", ["-s", "-f", "-o", "/dev/null"] + arguments)
    }

    @discardableResult
    static func run(_ program: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CLIFailure("pacs: \(program) failed (exit \(process.terminationStatus))") }
        return output
    }
}

/// The first time a callback fired (set once, from any thread).
final class FirstTime: @unchecked Sendable {
    private let lock = NSLock()
    private var seconds: Double?
    func mark(_ value: Double) { lock.withLock { if seconds == nil { seconds = value } } }
    var value: Double { lock.withLock { seconds ?? .nan } }
}
