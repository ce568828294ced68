import DicomReading
import DicomWeb
import Foundation
import LightboxCore
import LightboxServices
import ReviewApp
import Store
import Testing
import TestSupport

/// The faults, each against the real Orthanc or a real socket: nobody listening, an association
/// rejected or aborted, a peer that accepts TCP and never answers, HTTP 401/403/404/500, answers
/// that are not JSON or are cut, multipart bodies cut or with a wrong boundary, an instance that
/// is not what the listing promised, Orthanc killed in the middle of a retrieve. Each names the
/// source and the reason, within its timeout; what was cached stays valid; no credential shows.
@Suite(.serialized) struct PacsFaultTests {
    let home = TemporaryFolder("pacs-faults")

    func cache() -> InstanceCache { InstanceCache(root: home.file("cache"), budgetBytes: 1 << 30) }

    func source(_ connection: any PacsConnection, key: String = "test") throws -> PacsStudySource {
        PacsStudySource(connection: connection, cache: cache(), cacheKey: key, index: try SQLiteWorklistIndex(path: home.file("index.sqlite")))
    }

    /// The error `body` throws, as a PacsError (or a recorded issue), with how long it took.
    func failure(_ body: () throws -> Void) -> (error: PacsError?, seconds: Double) {
        let started = Date()
        do {
            try body()
            Issue.record("no error")
            return (nil, Date().timeIntervalSince(started))
        } catch let error as PacsError {
            return (error, Date().timeIntervalSince(started))
        } catch {
            Issue.record("not a PacsError: \(error)")
            return (nil, Date().timeIntervalSince(started))
        }
    }

    static let study = "2.25.40896484734383168002216604741367057351"

    // MARK: nobody there, or nobody answering

    @Test func nobodyListeningIsSaidAtOnce() throws {
        let port = try OrthancServer.freePort()
        let web = DicomWebClient(endpoint: DicomWebEndpoint(baseURL: "http://127.0.0.1:\(port)/dicom-web", timeout: 10), name: "pacs-web")
        let dimse = try DimseClient(endpoint: DimseEndpoint(host: "127.0.0.1", port: port, calledAETitle: "ORTHANC"), name: "pacs-dimse")
        for connection in [web, dimse] as [any PacsConnection] {
            let (error, seconds) = failure { try connection.echo() }
            #expect(error?.kind == .unreachable, "\(String(describing: error))")
            #expect(error?.source == connection.displayName)
            #expect("\(error.map { "\($0)" } ?? "")".lowercased().contains("refused"))
            #expect(seconds < 3, "\(connection.displayName) took \(seconds) s")
        }
    }

    @Test func aPeerThatNeverAnswersTimesOut() throws {
        // Accepts TCP (the kernel does), then silence.
        let silent = try OrthancServer.silentListener()
        defer { silent.close() }
        var peer = DimseEndpoint(host: "127.0.0.1", port: silent.port, calledAETitle: "ORTHANC")
        peer.timeout = 2
        let web = DicomWebClient(endpoint: DicomWebEndpoint(baseURL: "http://127.0.0.1:\(silent.port)/dicom-web", timeout: 2))
        for connection in [try DimseClient(endpoint: peer), web] as [any PacsConnection] {
            let (error, seconds) = failure { _ = try connection.allStudies(StudyQuery()) }
            #expect(error?.kind == .timeout || error?.kind == .unreachable || error?.kind == .refused, "\(String(describing: error))")
            #expect(seconds < 12, "\(connection.displayName) waited \(seconds) s")
            #expect(seconds >= 1.5, "\(connection.displayName) gave up before its timeout (\(seconds) s)")
        }
    }

    // MARK: DIMSE refusals, against the real Orthanc

    @Test func aWrongCalledTitleIsRejectedAndAnUnknownCallerAborted() throws {
        guard let server = try PacsFixture.shared(PacsFixture.faultFixture)?.server else { return }
        let wrong = try DimseClient(endpoint: DimseEndpoint(host: "127.0.0.1", port: server.dicomPort, calledAETitle: "NOT_ORTHANC"))
        let (rejected, _) = failure { _ = try wrong.allStudies(StudyQuery()) }
        #expect(rejected?.kind == .refused)
        #expect(rejected?.reason.contains("rejected") == true, "\(String(describing: rejected))")
        let stranger = try DimseClient(endpoint: DimseEndpoint(host: "127.0.0.1", port: server.dicomPort, calledAETitle: server.aeTitle,
                                                               callingAETitle: "STRANGER"))
        let (aborted, _) = failure { _ = try stranger.allStudies(StudyQuery()) }
        #expect(aborted?.kind == .refused)
        #expect(aborted?.reason.contains("aborted") == true && aborted?.reason.contains("STRANGER") == true, "\(String(describing: aborted))")
    }

    /// C-MOVE set up wrongly: the storage port taken by another program; the PACS sending to an
    /// address where nothing listens. Each is said with what to check; the storage SCP listens
    /// only while a retrieve runs.
    @Test func cMoveMisconfigurationsAreWordedAndTheStoragePortIsFreedAfter() throws {
        guard let server = try PacsFixture.shared(PacsFixture.faultFixture)?.server else { return }
        if !server.isRunning { try server.start() }
        let pacs = try #require(try SourceResolver.pacs(server.dimseMoveURL, configuration: Configuration()))
        let study = PacsFixture.bigStudy
        // Another program holds the storage port.
        let (holder, _) = try LoopbackProxy.listening()
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(holder, $0, &length) } }
        let heldPort = Int(UInt16(bigEndian: address.sin_port))
        var busyEndpoint = DimseEndpoint(host: "127.0.0.1", port: server.dicomPort, calledAETitle: server.aeTitle, callingAETitle: server.clientAETitle)
        busyEndpoint.retrieve = .move
        busyEndpoint.storePort = heldPort
        let busy = try DimseClient(endpoint: busyEndpoint)
        let (taken, _) = failure { _ = try self.source(busy, key: UUID().uuidString).retrieve(study) }
        close(holder)
        #expect(taken?.reason.contains("cannot listen on the storage port \(heldPort)") == true, "\(String(describing: taken))")
        // The PACS knows this caller at a port where nothing listens: every instance fails to go.
        var elsewhereEndpoint = DimseEndpoint(host: "127.0.0.1", port: server.dicomPort, calledAETitle: server.aeTitle,
                                              callingAETitle: server.misregisteredAETitle)
        elsewhereEndpoint.retrieve = .move
        elsewhereEndpoint.storePort = try OrthancServer.freePort()
        let elsewhere = try DimseClient(endpoint: elsewhereEndpoint)
        let lost = try self.source(elsewhere, key: UUID().uuidString)
        let (unsent, seconds) = failure { _ = try lost.retrieve(study) }
        #expect(unsent?.reason.contains("could not send to ELSEWHERE") == true && unsent?.reason.contains("reach that port") == true, "\(String(describing: unsent))")
        #expect(seconds < 30)
        #expect(lost.cache.cached(lost.folder(of: study)).isEmpty)
        // A move that worked leaves nothing listening on the storage port.
        let good = try self.source(pacs.connection, key: UUID().uuidString)
        _ = try good.retrieve(study)
        #expect(good.cache.isComplete(good.folder(of: study)))
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(probe) }
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = UInt16(server.clientPort).bigEndian
        target.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let connected = withUnsafePointer(to: &target) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(probe, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        #expect(connected != 0, "the storage port \(server.clientPort) still listens after the retrieve")
    }

    // MARK: HTTP refusals and broken answers

    @Test func credentialsAreAskedForRefusedAndNeverShown() throws {
        guard try PacsFixture.shared(PacsFixture.faultFixture) != nil else { return }
        let password = "pw-\(UUID().uuidString)"
        let server = try OrthancServer(settings: ["AuthenticationEnabled": true, "RegisteredUsers": ["alice": password]])
        defer { server.stop() }
        var configuration = Configuration()
        var named = NamedSource(name: "department")
        named.url = server.dicomWebURL
        named.username = "alice"
        named.passwordEnvironment = "LIGHTBOX_TEST_PACS_PASSWORD"
        configuration.sources["department"] = named
        // Without the variable: the source says which one is missing.
        #expect(throws: PacsError.self) { _ = try SourceResolver.pacs("department", configuration: configuration, environment: [:]) }
        // A wrong password: refused, the password nowhere in the message.
        let wrong = try #require(try SourceResolver.pacs("department", configuration: configuration,
                                                         environment: ["LIGHTBOX_TEST_PACS_PASSWORD": "wrong-\(password)"]))
        let (refused, _) = failure { try wrong.connection.echo() }
        #expect(refused?.kind == .refused && refused?.source == "department")
        #expect(refused.map { "\($0)" }?.contains("refused the credentials") == true)
        // No credential at all: what to set.
        let anonymous = DicomWebClient(endpoint: DicomWebEndpoint(baseURL: server.dicomWebURL))
        let (asked, _) = failure { try anonymous.echo() }
        #expect(asked?.reason.contains("password_env or password_file") == true, "\(String(describing: asked))")
        // The right one from the environment works.
        let right = try #require(try SourceResolver.pacs("department", configuration: configuration,
                                                         environment: ["LIGHTBOX_TEST_PACS_PASSWORD": password]))
        try right.connection.echo()
        // And from a file only its owner can read (a readable one is refused).
        let file = home.file("pacs-password")
        try Data((password + "\n").utf8).write(to: URL(fileURLWithPath: file))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        named.passwordEnvironment = nil
        named.passwordFile = file
        configuration.sources["department"] = named
        #expect(throws: PacsError.self) { _ = try SourceResolver.pacs("department", configuration: configuration) }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        try #require(try SourceResolver.pacs("department", configuration: configuration)).connection.echo()
        // The command line: doctor-style echo through the binary, the password in neither stream.
        let config = home.file("config.toml")
        try Data("[sources.department]\nurl = \"\(server.dicomWebURL)\"\nusername = \"alice\"\npassword_file = \"\(file)\"\n".utf8)
            .write(to: URL(fileURLWithPath: config))
        let run = try CommandRun.lightbox(["pacs", "find", "department"], home: home.path)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!run.stdout.contains(password) && !run.stderr.contains(password))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        try Data(("wrong-" + password + "\n").utf8).write(to: URL(fileURLWithPath: file))
        let failed = try CommandRun.lightbox(["pacs", "echo", "department"], home: home.path)
        #expect(failed.status == 1 && failed.stderr.contains("department: the server refused the credentials (HTTP 401)"), "\(failed.stderr)")
        #expect(!failed.stderr.contains(password) && !failed.stdout.contains(password))
        // A password in a URL is refused before anything is sent.
        let inURL = try CommandRun.lightbox(["pacs", "echo", "http://alice:\(password)@127.0.0.1:\(server.httpPort)/dicom-web"], home: home.path)
        #expect(inURL.status == 1 && inURL.stderr.contains("credentials in a URL are not accepted"))
        #expect(!inURL.stderr.contains(password))
    }

    @Test func httpStatusesAreWorded() throws {
        let statuses = ["403 Forbidden": PacsError.Kind.refused, "404 Not Found": .notFound, "500 Internal Server Error": .serverError,
                        "503 Service Unavailable": .serverError]
        for (status, kind) in statuses {
            let server = try CannedHTTPServer { _ in CannedHTTPServer.response(status: status, contentType: "text/plain", body: Array("no".utf8)) }
            defer { server.stop() }
            let client = DicomWebClient(endpoint: DicomWebEndpoint(baseURL: server.baseURL, timeout: 5), name: "canned")
            let (error, _) = failure { _ = try client.allStudies(StudyQuery()) }
            #expect(error?.kind == kind, "\(status): \(String(describing: error))")
            #expect(error?.description.hasPrefix("canned: ") == true)
            #expect(error?.reason.contains(String(status.prefix(3))) == true, "\(status): \(String(describing: error))")
        }
    }

    @Test func answersThatAreNotJSONOrAreCutAreNamed() throws {
        let answers: [(String, [UInt8])] = [
            ("not JSON", CannedHTTPServer.response(contentType: "text/html", body: Array("<html>proxy error</html>".utf8))),
            ("cut", CannedHTTPServer.response(contentType: "application/dicom+json", body: Array("[{\"0020000D\":{\"vr\":\"UI\",\"Val".utf8), length: 400)),
            ("wrong shape", CannedHTTPServer.response(contentType: "application/dicom+json", body: Array("[{\"study\":1}]".utf8))),
        ]
        for (label, answer) in answers {
            let server = try CannedHTTPServer { _ in answer }
            defer { server.stop() }
            let client = DicomWebClient(endpoint: DicomWebEndpoint(baseURL: server.baseURL, timeout: 5), name: "canned")
            let (error, seconds) = failure { _ = try client.allStudies(StudyQuery()) }
            #expect(error?.kind == .badAnswer, "\(label): \(String(describing: error))")
            #expect(seconds < 6, "\(label): \(seconds) s")
        }
    }

    /// A canned PACS that lists one instance of the CT and answers its retrieve with `wado`.
    func cannedRetrieve(_ wado: [UInt8]) throws -> (CannedHTTPServer, PacsStudySource) {
        let file = try #require(OrthancServer.dicomFiles(under: Fixtures.samples + "/chest-ct").first)
        let identity = try DicomFile.open(file).identity
        let listing = """
        [{"0020000D":{"vr":"UI","Value":["\(identity.study)"]},"0020000E":{"vr":"UI","Value":["\(identity.series)"]},
          "00080018":{"vr":"UI","Value":["\(identity.sopInstance)"]},"00080016":{"vr":"UI","Value":["\(identity.sopClass)"]}}]
        """
        let server = try CannedHTTPServer { line in
            line.contains("/instances?") || line.hasSuffix("/instances HTTP/1.1")
                ? CannedHTTPServer.response(contentType: "application/dicom+json", body: Array(listing.utf8))
                : wado
        }
        let source = try source(DicomWebClient(endpoint: DicomWebEndpoint(baseURL: server.baseURL, timeout: 5), name: "canned"), key: UUID().uuidString)
        return (server, source)
    }

    func expectNothingKept(_ source: PacsStudySource, study: String) {
        let folder = source.folder(of: study)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        #expect(!names.contains { $0.hasSuffix(".dcm") || $0.hasSuffix(".partial") }, "\(names)")
    }

    @Test func multipartBodiesCutOrWithAnotherBoundaryAreRefused() throws {
        let file = try #require(OrthancServer.dicomFiles(under: Fixtures.samples + "/chest-ct").first)
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        let whole = CannedHTTPServer.multipart([bytes], boundary: "lightbox-boundary")
        let cases: [(String, [UInt8])] = [
            ("cut mid-part", CannedHTTPServer.response(contentType: "multipart/related; type=\"application/dicom\"; boundary=lightbox-boundary",
                                                       body: Array(whole.prefix(whole.count / 2)), length: whole.count)),
            ("wrong boundary", CannedHTTPServer.response(contentType: "multipart/related; type=\"application/dicom\"; boundary=another",
                                                         body: whole)),
            ("no boundary", CannedHTTPServer.response(contentType: "application/dicom", body: bytes)),
        ]
        for (label, answer) in cases {
            let (server, source) = try cannedRetrieve(answer)
            defer { server.stop() }
            let study = try DicomFile.open(file).identity.study
            let (error, _) = failure { _ = try source.retrieve(study) }
            #expect(error?.kind == .badAnswer, "\(label): \(String(describing: error))")
            #expect(error?.source == "canned")
            expectNothingKept(source, study: study)
        }
        // The whole body: kept, byte for byte.
        let (server, source) = try cannedRetrieve(CannedHTTPServer.response(contentType: "multipart/related; type=\"application/dicom\"; boundary=lightbox-boundary", body: whole))
        defer { server.stop() }
        let identity = try DicomFile.open(file).identity
        let folder = try source.retrieve(identity.study)
        #expect(FileManager.default.contentsEqual(atPath: file, andPath: folder + "/" + identity.sopInstance + ".dcm"))
    }

    @Test func anInstanceThatIsNotWhatTheListingPromisedIsNotKept() throws {
        // The listing names the CT's instance; the answer carries the MR's.
        let other = try #require(OrthancServer.dicomFiles(under: Fixtures.samples + "/brain-mr").first)
        let body = CannedHTTPServer.multipart([Array(try Data(contentsOf: URL(fileURLWithPath: other)))], boundary: "b")
        let (server, source) = try cannedRetrieve(CannedHTTPServer.response(contentType: "multipart/related; type=\"application/dicom\"; boundary=b", body: body))
        defer { server.stop() }
        let study = try DicomFile.open(try #require(OrthancServer.dicomFiles(under: Fixtures.samples + "/chest-ct").first)).identity.study
        let (error, _) = failure { _ = try source.retrieve(study) }
        #expect(error?.kind == .badAnswer)
        #expect(error?.reason.contains("not what the query listed") == true, "\(String(describing: error))")
        expectNothingKept(source, study: study)
    }

    // MARK: the server killed in the middle

    @Test func orthancKilledInTheMiddleOfARetrieveLeavesAValidCache() throws {
        guard let fixture = try PacsFixture.shared(PacsFixture.faultFixture) else { return }
        let server = fixture.server, uploaded = fixture.uploaded
        for url in [server.dicomWebURL, server.dimseURL, server.dimseMoveURL] {
            if !server.isRunning { try server.start() }
            let pacs = try #require(try SourceResolver.pacs(url, configuration: Configuration()))
            let source = try source(pacs.connection, key: UUID().uuidString)
            let (error, _) = failure {
                _ = try source.retrieve(PacsFixture.bigStudy) { progress in
                    if progress.stored == 6 { server.kill() }
                    return true
                }
            }
            #expect(error != nil && error?.source == pacs.connection.displayName, "\(url): \(String(describing: error))")
            let folder = source.folder(of: PacsFixture.bigStudy)
            let kept = source.cache.cached(folder)
            #expect(kept.count >= 6 && kept.count < PacsFixture.bigSlices, "\(url): \(kept.count) kept")
            // Every file kept is whole: equal to what was uploaded (the data set, for C-GET).
            for uid in kept {
                let original = try #require(uploaded[uid])
                #expect(try OrthancTests.dataSetDump(original) == OrthancTests.dataSetDump(folder + "/" + uid + ".dcm"), "\(uid)")
            }
            // Offline, the study is not whole: it does not open, and says why.
            let (offline, _) = failure { _ = try source.study(PacsFixture.bigStudy) }
            #expect(offline?.kind == .unreachable, "\(String(describing: offline))")
            // Back up: the rest arrives, nothing twice.
            try server.start()
            let fetched = Counter()
            _ = try source.retrieve(PacsFixture.bigStudy) { _ in
                fetched.add()
                return true
            }
            #expect(fetched.value == PacsFixture.bigSlices - kept.count, "\(url): fetched \(fetched.value) after \(kept.count)")
            #expect(source.cache.isComplete(folder))
        }
    }
}


extension PacsFaultTests {
    /// Whether this machine lets a test mount a small filesystem of its own (a user and mount
    /// namespace: `unshare -rm`, from util-linux).
    static var canMountPrivately: Bool {
        (try? CommandRun.program("/usr/bin/unshare", ["-rm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"]))?.status == 0
    }

    @Test func aFullDiskStopsTheRetrieveWithAReasonAndKeepsTheCacheValid() throws {
        guard let fixture = try PacsFixture.shared(PacsFixture.faultFixture) else { return }
        guard Self.canMountPrivately else {
            // Said, not passed silently: this machine cannot give the test a small filesystem.
            Issue.record("cannot mount a private tmpfs here (unshare -rm): the disk-full fault is not exercised")
            return
        }
        try Data("[sources.big]\nurl = \"\(fixture.server.dicomWebURL)\"\n".utf8).write(to: URL(fileURLWithPath: home.file("config.toml")))
        // The cache on a 6 MB filesystem; the study is 16 MB. After the failure, the same shell
        // scans what the cache kept (the filesystem goes with the namespace).
        let script = """
        set -u
        mkdir -p "$HOME_DIR/data/pacs-cache"
        mount -t tmpfs -o size=6m tmpfs "$HOME_DIR/data/pacs-cache" || exit 90
        "$LIGHTBOX" pacs retrieve big \(PacsFixture.bigStudy) 2>"$HOME_DIR/retrieve.err"
        echo "exit=$?"
        "$LIGHTBOX" scan "$HOME_DIR/data/pacs-cache" --json
        """
        let run = try CommandRun.program("/usr/bin/unshare", ["-rm", "sh", "-c", script],
                                         environment: ["HOME_DIR": home.path, "LIGHTBOX_HOME": home.path, "LIGHTBOX": Fixtures.builtProgram("lightbox")])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("exit=1"), "\(run.stdout)")
        let message = (try? String(contentsOfFile: home.file("retrieve.err"), encoding: .utf8)) ?? ""
        #expect(message.contains("big: ") && message.contains("the disk is full"), "\(message)")
        // What was kept is whole: every file the scan read is an image, none an error.
        let json = String(run.stdout.drop { $0 != "{" })
        let scan = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect((scan["images"] as? Int ?? 0) > 5, "\(scan)")
        #expect((scan["errors"] as? [String])?.isEmpty == true, "\(scan)")
    }
}
