import AsyncHTTPClient
import DicomReading
import Foundation
public import LightboxCore
import MultipartKit
import NIOCore
import NIOHTTP1
import Synchronization

/// A DICOMweb service as a PACS (the `PacsConnection` port): QIDO-RS for the worklist and a
/// study's instances, WADO-RS (multipart/related, `transfer-syntax=*`) streamed into the cache.
/// Calls block the calling thread (never an event loop) and end within the timeouts.
public struct DicomWebClient: PacsConnection {
    public let endpoint: DicomWebEndpoint
    public let displayName: String

    public init(endpoint: DicomWebEndpoint, name: String? = nil) {
        self.endpoint = endpoint
        self.displayName = name ?? endpoint.baseURL
    }

    /// What the worklist shows, asked for by `includefield` (QIDO-RS returns only the required
    /// attributes otherwise).
    static let studyFields = ["00080020", "00080030", "00080050", "00080061", "00081030", "00100010", "00100020",
                              "00180015", "00201206", "00201208", "0020000D"]

    // MARK: requests

    /// One HTTP client per timeout for the process: connections are pooled across calls, and
    /// the clients live as long as the process (they are never shut down under a caller).
    private static let clients = Mutex<[Int64: HTTPClient]>([:])

    private var client: HTTPClient {
        let milliseconds = Int64(max(0.1, endpoint.timeout) * 1000)
        return Self.clients.withLock { clients in
            if let client = clients[milliseconds] { return client }
            let timeout = HTTPClient.Configuration.Timeout(connect: .milliseconds(milliseconds), read: .milliseconds(milliseconds))
            var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: timeout)
            // A refused connection is an answer (the server is down): said at once, not retried
            // until the timeout.
            configuration.connectionPool.retryConnectionEstablishment = false
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            clients[milliseconds] = client
            return client
        }
    }

    private func request(_ path: String, query: [(String, String)] = [], accept: String, method: HTTPMethod = .GET,
                         contentType: String? = nil, body: Data? = nil) throws -> HTTPClient.Request {
        // Each query part encoded to RFC 3986's unreserved characters (and the wildcards and the
        // comma of a list, which a query may hold as they are), so no value a user typed can
        // break the URL.
        var url = endpoint.baseURL + path
        if !query.isEmpty { url += "?" + query.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&") }
        guard URL(string: url) != nil else {
            throw PacsError(source: displayName, kind: .configuration, reason: "cannot form a URL from \(endpoint.baseURL)")
        }
        var headers = HTTPHeaders([("Accept", accept)])
        if let contentType { headers.add(name: "Content-Type", value: contentType) }
        if let password = endpoint.password {
            if let username = endpoint.username, !username.isEmpty {
                headers.add(name: "Authorization", value: "Basic " + Data("\(username):\(password.reveal())".utf8).base64EncodedString())
            } else {
                headers.add(name: "Authorization", value: "Bearer " + password.reveal())
            }
        }
        do { return try HTTPClient.Request(url: url, method: method, headers: headers, body: body.map { .data($0) }) } catch {
            throw PacsError(source: displayName, kind: .configuration, reason: "cannot form a request for \(url): \(error)")
        }
    }

    static let queryCharacters = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~*?,")

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: queryCharacters) ?? text
    }

    /// The failure of a request worded for the user (never the URL's query or a header).
    func failure(_ error: any Error, path: String) -> PacsError {
        if let error = error as? PacsError { return error }
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: return PacsError(source: displayName, kind: .timeout, reason: "no connection within \(Self.seconds(endpoint.timeout))")
            case .readTimeout: return PacsError(source: displayName, kind: .timeout, reason: "no answer within \(Self.seconds(endpoint.timeout)) (\(path))")
            case .deadlineExceeded: return PacsError(source: displayName, kind: .timeout, reason: "the request took too long (\(path))")
            case .remoteConnectionClosed:
                return PacsError(source: displayName, kind: .badAnswer, reason: "the server closed the connection in the middle of the answer (\(path))")
            default: break
            }
        }
        let text = "\(error)"
        if text.contains("stream ended at an unexpected time") || text.contains("invalidEOFState") {
            return PacsError(source: displayName, kind: .badAnswer, reason: "the answer ended before its declared length (\(path))")
        }
        if text.contains("refused") || text.contains("ECONNREFUSED") {
            return PacsError(source: displayName, kind: .unreachable, reason: "connection refused (is the server running?)")
        }
        if text.contains("uncleanShutdown") || text.contains("ioOnClosedChannel") || text.contains("Connection reset") {
            return PacsError(source: displayName, kind: .badAnswer, reason: "the connection broke in the middle of the answer (\(path))")
        }
        return PacsError(source: displayName, kind: .unreachable, reason: "the request failed (\(path)): \(SafeText.sanitize(String(text.prefix(200))))")
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : String(format: "%.1f s", value)
    }

    /// An answer's status worded: 2xx passes; 401/403, 404 and the rest each say what they mean.
    func check(_ status: HTTPResponseStatus, path: String) throws {
        switch status.code {
        case 200..<300: return
        case 401: throw PacsError(source: displayName, kind: .refused,
                                  reason: endpoint.password == nil ? "the server wants credentials (HTTP 401): set password_env or password_file for this source in config.toml"
                                                                    : "the server refused the credentials (HTTP 401)")
        case 403: throw PacsError(source: displayName, kind: .refused, reason: "access forbidden (HTTP 403) to \(path)")
        case 404: throw PacsError(source: displayName, kind: .notFound, reason: "not found (HTTP 404): \(path) (is the base URL the DICOMweb root, e.g. …/dicom-web?)")
        case 500..<600: throw PacsError(source: displayName, kind: .serverError, reason: "the server failed (HTTP \(status.code)) on \(path)")
        default: throw PacsError(source: displayName, kind: .serverError, reason: "unexpected HTTP \(status.code) on \(path)")
        }
    }

    /// Whether an error is a pooled connection the server had closed (it restarted): the GET is
    /// sent again once on a new connection.
    static func isStaleConnection(_ error: any Error) -> Bool {
        if let error = error as? HTTPClientError, error == .remoteConnectionClosed { return true }
        let text = "\(error)"
        return text.contains("ioOnClosedChannel") || text.contains("I/O on closed channel")
    }

    /// STOW-RS: the files in one multipart/related POST to the study's URL. The answer's
    /// FailedSOPSequence (00081198), when there is one, names what was not stored.
    public func store(_ files: [String], studyInstanceUID: String) throws {
        guard !files.isEmpty else { return }
        let boundary = "lightbox-" + UUID().uuidString.lowercased()
        var body = Data()
        for file in files {
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch {
                throw PacsError(source: displayName, kind: .cache, reason: "\(file): cannot be read to be stored (\(error.localizedDescription))")
            }
            body.append(Data("--\(boundary)\r\nContent-Type: application/dicom\r\n\r\n".utf8))
            body.append(data)
            body.append(Data("\r\n".utf8))
        }
        body.append(Data("--\(boundary)--\r\n".utf8))
        let path = "/studies/" + Self.encode(studyInstanceUID)
        let request = try request(path, accept: "application/dicom+json", method: .POST,
                                  contentType: "multipart/related; type=\"application/dicom\"; boundary=\(boundary)", body: body)
        // Sent again on a pooled connection the server had closed: a STOW of the same instances
        // stores nothing twice (the PACS keys them by SOP Instance UID).
        let response = try send(request, path: path)
        let answer = response.body.map { Data($0.readableBytesView) } ?? Data()
        if let datasets = try? DicomJSON.datasets(from: answer),
           let failed = datasets.first?.elements[0x0008_1198]?.items, !failed.isEmpty {
            let reasons = failed.map { $0.string(0x0008, 0x1197) }.filter { !$0.isEmpty }.joined(separator: ", ")
            throw PacsError(source: displayName, kind: .serverError,
                            reason: "the server did not store \(failed.count) of \(files.count) object(s) (failure reason \(reasons.isEmpty ? "not given" : reasons))")
        }
    }

    /// Sends a request whose answer is read whole (within four timeouts), once more on a pooled
    /// connection the server had closed; a status other than 2xx is worded.
    private func send(_ request: HTTPClient.Request, path: String) throws -> HTTPClient.Response {
        let response: HTTPClient.Response
        do {
            let deadline = NIODeadline.now() + .milliseconds(Int64(max(1, endpoint.timeout) * 4000))
            do { response = try client.execute(request: request, deadline: deadline).wait() } catch where Self.isStaleConnection(error) {
                response = try client.execute(request: request, deadline: deadline).wait()
            }
        } catch {
            throw failure(error, path: path)
        }
        try check(response.status, path: path)
        return response
    }

    /// A JSON answer (QIDO-RS); 204 No Content is no rows.
    private func json(_ path: String, query: [(String, String)]) throws -> [DicomJSONDataset] {
        let response = try send(try request(path, query: query, accept: "application/dicom+json"), path: path)
        if response.status == .noContent { return [] }
        let body = response.body.map { Data($0.readableBytesView) } ?? Data()
        do { return try DicomJSON.datasets(from: body) } catch {
            throw PacsError(source: displayName, kind: .badAnswer, reason: "\(path): \(error)")
        }
    }

    // MARK: the port

    public func echo() throws {
        _ = try json("/studies", query: [("limit", "1")])
    }

    static func studyQuery(_ query: StudyQuery) -> [(String, String)] {
        var items: [(String, String)] = studyFields.map { ("includefield", $0) }
        if let range = query.dateRange { items.append(("StudyDate", range)) }
        if !query.modalities.isEmpty { items.append(("ModalitiesInStudy", query.modalities.joined(separator: ","))) }
        // Orthanc's DICOMweb plugin (1.7) does not percent-decode query values, and a caret or a
        // space cannot go into a URL as it is: each is sent as the one-character wildcard, and
        // the rows are checked against the name as typed after.
        if let name = query.patientName {
            items.append(("PatientName", name.replacingOccurrences(of: "^", with: "?").replacingOccurrences(of: " ", with: "?")))
        }
        if let accession = query.accessionNumber { items.append(("AccessionNumber", accession)) }
        if let uid = query.studyInstanceUID { items.append(("StudyInstanceUID", uid)) }
        return items
    }

    public func findStudies(_ query: StudyQuery, page: ([DicomJSONDataset]) throws -> Bool) throws {
        var offset = 0
        var largest: Int?
        let filters = Self.studyQuery(query)
        while true {
            // A first page of at most 100, so the list is on screen in the time the server takes
            // to answer 100 rows (a fifth of a second on Orthanc), then pages of the size asked.
            let size = min(offset == 0 ? min(100, query.pageSize) : query.pageSize, (query.limit ?? Int.max) - offset)
            if size <= 0 { return }
            var rows = try json("/studies", query: filters + [("limit", "\(size)"), ("offset", "\(offset)")])
            let received = rows.count
            if !query.modalities.isEmpty {
                // Servers that match one modality only for a list are checked here too.
                rows = rows.filter { !Set($0.strings(0x0008, 0x0061)).isDisjoint(with: query.modalities) }
            }
            if let name = query.patientName {
                rows = rows.filter { DicomMatching.wildcard(name, matches: $0.string(0x0010, 0x0010)) }
            }
            if !rows.isEmpty, try !page(rows) { return }
            // A page shorter than a page before it is the last; a first page shorter than asked
            // may be the server's own cap (Orthanc's LimitFindResults), so one more is asked for.
            if received == 0 { return }
            if let largest, received < largest { return }
            if received == size, let limit = query.limit, offset + received >= limit { return }
            largest = max(largest ?? 0, received)
            offset += received
        }
    }

    public func findInstances(studyInstanceUID: String) throws -> [InstanceMatch] {
        try json("/studies/\(Self.encode(studyInstanceUID))/instances",
                 query: ["00200013", "00080060", "00200011", "00200032", "00200037"].map { ("includefield", $0) })
            .map { dataset in
                var match = dataset.instanceMatch
                if match.studyInstanceUID.isEmpty { match.studyInstanceUID = studyInstanceUID }
                return match
            }
    }

    public func retrieve(_ instances: [InstanceMatch], into folder: String, progress: @escaping @Sendable (RetrieveProgress) -> Bool) throws {
        guard let first = instances.first else { return }
        let wanted = Set(instances.map(\.sopInstanceUID))
        let state = RetrieveState(total: instances.count, wanted: wanted, study: first.studyInstanceUID)
        // The first instance alone first (it is on screen while the rest arrives), then each
        // series in one request; when the cache already holds part of the study (a resumed
        // retrieve), only the missing instances, one request each.
        let resuming = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).contains { $0.hasSuffix(".dcm") }
        var paths: [String] = ["/studies/\(Self.encode(first.studyInstanceUID))/series/\(Self.encode(first.seriesInstanceUID))/instances/\(Self.encode(first.sopInstanceUID))"]
        let bySeries = Dictionary(grouping: instances.dropFirst(), by: \.seriesInstanceUID)
        let order = bySeries.keys.sorted { ($0 == first.seriesInstanceUID ? 0 : 1, $0) < ($1 == first.seriesInstanceUID ? 0 : 1, $1) }
        for series in order {
            let members = bySeries[series] ?? []
            let seriesPath = "/studies/\(Self.encode(first.studyInstanceUID))/series/\(Self.encode(series))"
            if members.count <= 3 || (resuming && members.count <= 500) {
                paths += members.map { "\(seriesPath)/instances/\(Self.encode($0.sopInstanceUID))" }
            } else {
                paths.append(seriesPath)
            }
        }
        for path in paths {
            if state.lock.withLock({ state.wantedLeft.isEmpty || state.stopped }) { break }
            try fetch(path, into: folder, state: state, progress: progress)
        }
        if !state.unexpected.isEmpty {
            throw PacsError(source: displayName, kind: .badAnswer,
                            reason: "\(state.unexpected.count) instance(s) in the answer were not what the query listed (\(state.unexpected.prefix(3).joined(separator: "; "))): not kept")
        }
    }

    /// One WADO-RS request, its parts streamed to files in `folder`.
    private func fetch(_ path: String, into folder: String, state: RetrieveState, progress: @escaping @Sendable (RetrieveProgress) -> Bool) throws {
        let request = try request(path, accept: "multipart/related; type=\"application/dicom\"; transfer-syntax=*")
        var delegate = MultipartFileDelegate(folder: folder, state: state, path: path, client: self, progress: progress)
        do {
            do { try client.execute(request: request, delegate: delegate).futureResult.wait() } catch where Self.isStaleConnection(error) && !delegate.receivedHead {
                delegate = MultipartFileDelegate(folder: folder, state: state, path: path, client: self, progress: progress)
                try client.execute(request: request, delegate: delegate).futureResult.wait()
            }
        } catch {
            delegate.discardPartial()
            throw delegate.failure ?? failure(error, path: path)
        }
    }
}

/// What a retrieve has done so far, shared by its requests (the delegate runs on an event loop,
/// the caller waits on its thread).
final class RetrieveState: @unchecked Sendable {
    let lock = NSLock()
    let total: Int
    let study: String
    var wantedLeft: Set<String>
    var stored = 0
    var bytes: Int64 = 0
    var unexpected: [String] = []
    var stopped = false

    init(total: Int, wanted: Set<String>, study: String) {
        self.total = total
        self.wantedLeft = wanted
        self.study = study
    }

    func take(_ uid: String) -> Bool {
        lock.withLock { wantedLeft.remove(uid) != nil }
    }

    func isWanted(_ uid: String) -> Bool {
        lock.withLock { wantedLeft.contains(uid) }
    }
}

/// Streams a multipart/related answer into files: each part to a temporary file, checked (a DICOM
/// file of the study asked for, an instance the listing named), then renamed to its SOP Instance UID.
final class MultipartFileDelegate: HTTPClientResponseDelegate, @unchecked Sendable {
    typealias Response = Void

    let folder: String
    let state: RetrieveState
    let path: String
    let client: DicomWebClient
    let progress: @Sendable (RetrieveProgress) -> Bool
    var parser: MultipartParser?
    var status: HTTPResponseStatus = .ok
    var failure: PacsError?
    var partHandle: FileHandle?
    var partPath: String?
    var partBytes: Int64 = 0
    var partsSeen = 0
    var partOpen = false
    var receivedHead = false
    var pending: [UInt8] = []

    init(folder: String, state: RetrieveState, path: String, client: DicomWebClient, progress: @escaping @Sendable (RetrieveProgress) -> Bool) {
        self.folder = folder
        self.state = state
        self.path = path
        self.client = client
        self.progress = progress
    }

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        status = head.status
        receivedHead = true
        guard (200..<300).contains(head.status.code) else { return task.eventLoop.makeSucceededVoidFuture() }
        let contentType = head.headers.first(name: "Content-Type") ?? ""
        guard contentType.lowercased().hasPrefix("multipart/related"), let boundary = Self.boundary(contentType) else {
            failure = PacsError(source: client.displayName, kind: .badAnswer,
                                reason: "\(path): the answer is not multipart/related with a boundary (Content-Type: \(SafeText.sanitize(String(contentType.prefix(80)))))")
            task.cancel()
            return task.eventLoop.makeSucceededVoidFuture()
        }
        let parser = MultipartParser(boundary: boundary)
        parser.onHeader = { _, _ in }
        parser.onBody = { [unowned self] buffer in self.write(&buffer) }
        parser.onPartComplete = { [unowned self] in self.completePart() }
        self.parser = parser
        return task.eventLoop.makeSucceededVoidFuture()
    }

    static func boundary(_ contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2 && pair[0].lowercased() == "boundary" {
                let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                return value.isEmpty ? nil : value
            }
        }
        return nil
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        guard failure == nil else { return task.eventLoop.makeSucceededVoidFuture() }
        // No parser: an error status, whose body is not read.
        guard let parser else { return task.eventLoop.makeSucceededVoidFuture() }
        do { try parser.execute(buffer) } catch {
            failure = PacsError(source: client.displayName, kind: .badAnswer, reason: "\(path): the multipart body is malformed")
            task.cancel()
        }
        if failure != nil { task.cancel() }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    private func write(_ buffer: inout ByteBuffer) {
        guard failure == nil else { return }
        if !partOpen {
            partOpen = true
            partsSeen += 1
            let name = folder + "/.wado-\(UUID().uuidString).partial"
            guard FileManager.default.createFile(atPath: name, contents: nil), let handle = FileHandle(forWritingAtPath: name) else {
                failure = PacsError(source: client.displayName, kind: .cache, reason: "cannot write into the cache at \(folder)")
                return
            }
            partHandle = handle
            partPath = name
            partBytes = 0
        }
        // The parser hands the body over in pieces cut at every CR byte (every few hundred bytes
        // of pixel data): they are gathered and written a mebibyte at a time.
        pending.append(contentsOf: buffer.readableBytesView)
        partBytes += Int64(buffer.readableBytes)
        if pending.count >= 1 << 20 { flush() }
    }

    private func flush() {
        guard !pending.isEmpty, failure == nil else { return }
        do { try pending.withUnsafeBytes { try partHandle?.write(contentsOf: $0) } } catch {
            failure = PacsError(source: client.displayName, kind: .cache, reason: "cannot write into the cache at \(folder): \(Self.reason(error))")
            discardPartial()
        }
        pending.removeAll(keepingCapacity: true)
    }

    static func reason(_ error: any Error) -> String {
        let code = (error as NSError).code
        if code == Int(ENOSPC) || "\(error)".contains("No space") { return "the disk is full" }
        return (error as NSError).localizedDescription
    }

    private func completePart() {
        partOpen = false
        flush()
        guard failure == nil, let handle = partHandle, let temporary = partPath else { return }
        partHandle = nil
        partPath = nil
        // Closed, not fsynced: a cache is fetched again, not recovered (an fsync a file cost
        // 30 ms an image on a slow disk). A file a power loss damaged is found when it is indexed.
        do {
            try handle.close()
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            failure = PacsError(source: client.displayName, kind: .cache, reason: "cannot write into the cache at \(folder): \(Self.reason(error))")
            return
        }
        // The part names itself: its SOP Instance UID, read from the file's own header.
        guard let file = try? DicomFile.open(temporary) else {
            try? FileManager.default.removeItem(atPath: temporary)
            state.lock.withLock { state.unexpected.append("a part that is not a DICOM file") }
            return
        }
        let uids = file.identity
        let identity = (study: uids.study, sopInstanceUID: uids.sopInstance)
        guard identity.study == state.study, state.take(identity.sopInstanceUID) else {
            try? FileManager.default.removeItem(atPath: temporary)
            // A series request may send the first instance again; it is not unexpected.
            if identity.study == state.study && !identity.sopInstanceUID.isEmpty
                && FileManager.default.fileExists(atPath: folder + "/" + identity.sopInstanceUID + ".dcm") { return }
            state.lock.withLock { state.unexpected.append("\(identity.sopInstanceUID.isEmpty ? "no SOP Instance UID" : identity.sopInstanceUID) of study \(identity.study.isEmpty ? "(none)" : identity.study)") }
            return
        }
        let final = folder + "/" + identity.sopInstanceUID + ".dcm"
        if rename(temporary, final) != 0 {
            try? FileManager.default.removeItem(atPath: temporary)
            failure = PacsError(source: client.displayName, kind: .cache, reason: "cannot write into the cache at \(folder): rename failed")
            return
        }
        let update = state.lock.withLock { () -> RetrieveProgress in
            state.stored += 1
            state.bytes += partBytes
            return RetrieveProgress(stored: state.stored, total: state.total, bytes: state.bytes, sopInstanceUID: identity.sopInstanceUID, path: final)
        }
        if !progress(update) {
            state.lock.withLock { state.stopped = true }
        }
    }

    func discardPartial() {
        pending.removeAll()
        try? partHandle?.close()
        partHandle = nil
        if let partPath { try? FileManager.default.removeItem(atPath: partPath) }
        partPath = nil
    }

    func didReceiveError(task: HTTPClient.Task<Void>, _ error: any Error) {
        discardPartial()
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {
        if let failure { discardPartial(); throw failure }
        try client.check(status, path: path)
        if partOpen || partHandle != nil {
            discardPartial()
            throw PacsError(source: client.displayName, kind: .badAnswer, reason: "\(path): the multipart body ended in the middle of a part")
        }
        if partsSeen == 0 {
            throw PacsError(source: client.displayName, kind: .badAnswer, reason: "\(path): the answer holds no part with its boundary")
        }
    }
}
