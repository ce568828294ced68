import CDicomShim
import Foundation
public import LightboxCore

/// A DIMSE peer as a PACS (the `PacsConnection` port): C-ECHO, C-FIND at study and instance level
/// and C-GET or C-MOVE through DCMTK's DcmSCU in the shim (for C-MOVE a storage SCP listens on the
/// endpoint's storage port only while a retrieve runs). Each call opens an association of its own.
public struct DimseClient: PacsConnection {
    public let endpoint: DimseEndpoint
    public let displayName: String

    public init(endpoint: DimseEndpoint, name: String? = nil) throws {
        try endpoint.validate()
        self.endpoint = endpoint
        self.displayName = name ?? endpoint.description
    }

    /// Each phase's timeout for the shim, in whole seconds.
    private var timeoutSeconds: Int32 { Int32(max(1, min(3600, endpoint.timeout.rounded(.up)))) }

    /// Calls `body` with the shim's peer (C strings alive for the call).
    fileprivate func withPeer<T>(_ body: (UnsafePointer<lbx_dimse_peer>) throws -> T) rethrows -> T {
        try endpoint.host.withCString { host in
            try endpoint.calledAETitle.withCString { called in
                try endpoint.callingAETitle.withCString { calling in
                    var peer = lbx_dimse_peer(host: host, port: UInt16(endpoint.port), called_ae_title: called,
                                              calling_ae_title: calling, connect_timeout: timeoutSeconds, acse_timeout: timeoutSeconds,
                                              dimse_timeout: timeoutSeconds)
                    return try body(&peer)
                }
            }
        }
    }

    fileprivate func failure(_ error: lbx_dimse_error) -> PacsError {
        let message = withUnsafeBytes(of: error.error.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        // The shim names the peer by its address; a named source goes by its name.
        let prefix = endpoint.description + ": "
        let reason = message.hasPrefix(prefix) ? String(message.dropFirst(prefix.count)) : message
        let kind: PacsError.Kind
        switch error.failure {
        case LBX_DIMSE_CONNECT: kind = .unreachable
        case LBX_DIMSE_TIMEOUT: kind = .timeout
        case LBX_DIMSE_REJECTED, LBX_DIMSE_ABORTED, LBX_DIMSE_NO_CONTEXT: kind = .refused
        case LBX_DIMSE_STATUS: kind = .serverError
        default: kind = reason.contains("could not write") ? .cache : .serverError
        }
        return PacsError(source: displayName, kind: kind, reason: reason)
    }

    public func echo() throws {
        var error = lbx_dimse_error()
        let status = withPeer { lbx_dimse_echo($0, &error) }
        if status != LBX_OK { throw failure(error) }
    }

    /// Runs one C-FIND, handing each match's JSON to `match` (false stops the query).
    private func find(level: String, keys: [(UInt16, UInt16, String)], match: (DicomJSONDataset) throws -> Bool) throws {
        /// Each match decoded and handed over as it arrives (false cancels the query with
        /// C-CANCEL); an error is kept here and thrown after, so none crosses the C++ frames.
        final class Matches {
            let match: (DicomJSONDataset) throws -> Bool
            var failure: (any Error)?
            init(match: @escaping (DicomJSONDataset) throws -> Bool) { self.match = match }
        }
        var error = lbx_dimse_error()
        let strings = CStrings()
        defer { strings.free() }
        let queryKeys = keys.map { lbx_query_key(group: $0.0, element: $0.1, value: strings.make($0.2)) }
        let (status, failure) = withoutActuallyEscaping(match) { match in
            let matches = Matches(match: match)
            let status = withPeer { peer in
                level.withCString { levelText in
                    queryKeys.withUnsafeBufferPointer { buffer in
                        lbx_dimse_find(peer, levelText, buffer.baseAddress, buffer.count, { context, json, length in
                            guard let context, let json else { return 1 }
                            let box = Unmanaged<Matches>.fromOpaque(context).takeUnretainedValue()
                            do {
                                for dataset in try DicomJSON.datasets(from: Data(bytes: json, count: length)) where try !box.match(dataset) { return 0 }
                                return 1
                            } catch {
                                box.failure = error
                                return 0
                            }
                        }, Unmanaged.passUnretained(matches).toOpaque(), &error)
                    }
                }
            }
            return (status, matches.failure)
        }
        if let failure = failure as? DicomJSONError {
            throw PacsError(source: displayName, kind: .badAnswer, reason: "a C-FIND match could not be read: \(failure)")
        }
        if let failure { throw failure }
        if status != LBX_OK { throw self.failure(error) }
    }

    /// The study-level keys the worklist shows, with the query's matching values.
    static func studyKeys(_ query: StudyQuery) -> [(UInt16, UInt16, String)] {
        [(0x0020, 0x000D, query.studyInstanceUID ?? ""), (0x0008, 0x0020, query.dateRange ?? ""), (0x0008, 0x0030, ""),
         (0x0008, 0x0050, query.accessionNumber ?? ""), (0x0010, 0x0010, query.patientName ?? ""), (0x0010, 0x0020, ""),
         (0x0008, 0x1030, ""), (0x0018, 0x0015, ""), (0x0008, 0x0061, query.modalities.joined(separator: "\\")), (0x0020, 0x1206, ""),
         (0x0020, 0x1208, ""), (0x0008, 0x0005, "")]
    }

    public func findStudies(_ query: StudyQuery, page: ([DicomJSONDataset]) throws -> Bool) throws {
        var rows: [DicomJSONDataset] = []
        var total = 0
        var stopped = false
        try find(level: "STUDY", keys: Self.studyKeys(query)) { dataset in
            // C-FIND matches on several modalities with a multi-valued key only where the SCP
            // supports it: the rows are checked here too.
            if !query.modalities.isEmpty && Set(dataset.strings(0x0008, 0x0061)).isDisjoint(with: query.modalities) { return true }
            rows.append(dataset)
            total += 1
            let reachedLimit = query.limit.map { total >= $0 } ?? false
            if rows.count >= query.pageSize || reachedLimit {
                stopped = try !page(rows) || reachedLimit
                rows.removeAll(keepingCapacity: true)
            }
            // Enough: the rest of the query is cancelled (C-CANCEL), not read and dropped.
            return !stopped
        }
        if !stopped && !rows.isEmpty { _ = try page(rows) }
    }

    public func findInstances(studyInstanceUID: String) throws -> [InstanceMatch] {
        var instances: [InstanceMatch] = []
        try find(level: "IMAGE", keys: [(0x0020, 0x000D, studyInstanceUID), (0x0020, 0x000E, ""), (0x0008, 0x0018, ""),
                                        (0x0008, 0x0016, ""), (0x0020, 0x0013, ""), (0x0008, 0x0060, ""), (0x0020, 0x0011, ""),
                                        (0x0020, 0x0032, ""), (0x0020, 0x0037, "")]) { dataset in
            instances.append(dataset.instanceMatch)
            return true
        }
        return instances
    }

    public func retrieve(_ instances: [InstanceMatch], into folder: String, progress: @escaping @Sendable (RetrieveProgress) -> Bool) throws {
        guard let first = instances.first else { return }
        final class Progress {
            var stored = 0
            var bytes: Int64 = 0
            var total: Int
            var handler: (RetrieveProgress) -> Bool
            var wanted: Set<String>
            init(total: Int, wanted: Set<String>, handler: @escaping (RetrieveProgress) -> Bool) {
                self.total = total
                self.wanted = wanted
                self.handler = handler
            }
        }
        let wanted = Set(instances.map(\.sopInstanceUID))
        let seriesAll = Dictionary(grouping: instances, by: \.seriesInstanceUID)
        let box = Progress(total: instances.count, wanted: wanted, handler: progress)
        // The first instance alone first (the reviewer shows it while the rest arrives), then the
        // rest of each series in one request: at image level with the list of the UIDs still
        // missing (UID list matching), so a resumed retrieve asks only for those.
        var requests: [(series: String?, sop: String?)] = [(first.seriesInstanceUID, first.sopInstanceUID)]
        let ordered = seriesAll.sorted { ($0.key == first.seriesInstanceUID ? 0 : 1, $0.key) < ($1.key == first.seriesInstanceUID ? 0 : 1, $1.key) }
        for (series, members) in ordered {
            let rest = members.filter { $0.sopInstanceUID != first.sopInstanceUID }.map(\.sopInstanceUID)
            // At most 200 UIDs a request (about 13 KB of key).
            var start = 0
            while start < rest.count {
                requests.append((series, rest[start..<min(rest.count, start + 200)].joined(separator: "\\")))
                start += 200
            }
        }
        let strings = CStrings()
        defer { strings.free() }
        let classes = Array(Set(instances.map(\.sopClassUID)).filter { !$0.isEmpty }).sorted().map { strings.make($0) }
        let context = Unmanaged.passUnretained(box).toOpaque()
        let stored: lbx_dimse_stored_fn = { context, uid, path, _, _, _ in
            guard let context, let uid, let path else { return 1 }
            let box = Unmanaged<Progress>.fromOpaque(context).takeUnretainedValue()
            let sopUID = String(cString: uid)
            let file = String(cString: path)
            // One sent again (already here) is not progress.
            guard box.wanted.remove(sopUID) != nil else { return 1 }
            box.stored += 1
            let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int64) ?? nil
            box.bytes += size ?? 0
            return box.handler(RetrieveProgress(stored: box.stored, total: box.total, bytes: box.bytes,
                                                sopInstanceUID: sopUID, path: file)) ? 1 : 0
        }
        // C-MOVE: the storage SCP on this port listens while any retrieve of the process needs it
        // (a study opened while the next ones are fetched ahead), each routing its own study. Its
        // callbacks run on its own thread, one at a time, while this one waits in the move; the
        // box is read here only after a move returned (the shim hands over under its lock).
        var receiver: OpaquePointer?
        let port = UInt16(endpoint.storePort ?? 0)
        if endpoint.retrieve == .move {
            receiver = try MoveReceivers.shared.acquire(port: port, aeTitle: endpoint.callingAETitle, sopClasses: classes,
                                                        timeout: timeoutSeconds, failure: failure)
            var error = lbx_dimse_error()
            if lbx_dimse_receiver_route(receiver, first.studyInstanceUID, folder, stored, context, &error) != LBX_OK {
                MoveReceivers.shared.release(port: port)
                throw failure(error)
            }
        }
        defer {
            if let receiver {
                lbx_dimse_receiver_unroute(receiver, first.studyInstanceUID)
                MoveReceivers.shared.release(port: port)
            }
        }
        let study = strings.make(first.studyInstanceUID)
        for request in requests {
            var error = lbx_dimse_error()
            let (series, sop) = (strings.make(request.series), strings.make(request.sop))
            let status: lbx_status = withPeer { peer in
                if let receiver { return lbx_dimse_move(peer, receiver, study, series, sop, &error) }
                return classes.withUnsafeBufferPointer { lbx_dimse_get(peer, study, series, sop, $0.baseAddress, $0.count, folder, stored, context, &error) }
            }
            if status != LBX_OK { throw failure(error) }
            if box.wanted.isEmpty { break }
        }
        // What the listing promised and the C-GET or C-MOVE did not send is left for the caller,
        // which checks the folder against the listing.
    }
}

extension DimseClient {
    /// C-STORE of the files in one association.
    public func store(_ files: [String], studyInstanceUID: String) throws {
        guard !files.isEmpty else { return }
        let strings = CStrings()
        defer { strings.free() }
        let pointers = files.map { strings.make($0) }
        var error = lbx_dimse_error()
        let status = withPeer { peer in
            pointers.withUnsafeBufferPointer { lbx_dimse_store(peer, $0.baseAddress, $0.count, &error) }
        }
        if status != LBX_OK { throw failure(error) }
    }
}

/// The process's C-MOVE storage SCPs, one per port, started by the first retrieve that needs one
/// and stopped when the last has finished.
final class MoveReceivers: @unchecked Sendable {
    static let shared = MoveReceivers()
    private let lock = NSLock()
    private var running: [UInt16: (receiver: OpaquePointer, users: Int)] = [:]

    func acquire(port: UInt16, aeTitle: String, sopClasses: [UnsafePointer<CChar>?], timeout: Int32,
                 failure: (lbx_dimse_error) -> PacsError) throws -> OpaquePointer {
        lock.lock()
        defer { lock.unlock() }
        if let entry = running[port] {
            running[port] = (entry.receiver, entry.users + 1)
            return entry.receiver
        }
        var receiver: OpaquePointer?
        var error = lbx_dimse_error()
        let status = aeTitle.withCString { title in
            sopClasses.withUnsafeBufferPointer { classes in
                lbx_dimse_receiver_start(port, title, classes.baseAddress, classes.count, timeout, &receiver, &error)
            }
        }
        guard status == LBX_OK, let receiver else { throw failure(error) }
        running[port] = (receiver, 1)
        return receiver
    }

    func release(port: UInt16) {
        lock.lock()
        guard let entry = running[port] else {
            lock.unlock()
            return
        }
        if entry.users > 1 {
            running[port] = (entry.receiver, entry.users - 1)
            lock.unlock()
            return
        }
        running[port] = nil
        // Stopped before the lock is given back: a retrieve starting now listens on the port
        // only once this one has let it go.
        lbx_dimse_receiver_stop(entry.receiver)
        lock.unlock()
    }
}
