import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A TCP proxy on loopback between the client and the server, for the network faults: while
/// cut, it stops forwarding (connections stay open and silent, as a dead link does); restored,
/// it forwards again. With `answer` set it is not a proxy but a server that sends those bytes
/// and hangs up (something on the port that is not PostgreSQL). Cut from the start (`cut = true`
/// before connecting), it is a peer that accepts TCP and never answers.
public final class LoopbackProxy: @unchecked Sendable {
    public let port: Int
    private let listener: Int32
    private let target: Int
    private let answer: [UInt8]?
    private let lock = NSLock()
    private var cutFlag = false
    private var stopped = false

    public init(forwardingTo target: Int, answer: [UInt8]? = nil) throws {
        self.target = target
        self.answer = answer
        (listener, port) = try Self.listening()
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// A socket listening on a free loopback port (`listen` false: bound only, to learn a free port).
    public static func listening(listen shouldListen: Bool = true, backlog: Int32 = 64) throws -> (descriptor: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, !shouldListen || listen(fd, backlog) == 0 else {
            close(fd)
            throw ProxyError("cannot listen on loopback: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    struct ProxyError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// Stops forwarding (true) or forwards again (false).
    public var cut: Bool {
        get { lock.lock(); defer { lock.unlock() }; return cutFlag }
        set { lock.lock(); cutFlag = newValue; lock.unlock() }
    }

    public func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private var isStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }

    private func acceptLoop() {
        while !isStopped {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { if isStopped { return } else { continue } }
            if let answer {
                _ = answer.withUnsafeBufferPointer { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                close(client)
                continue
            }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: target)
            let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            guard connected == 0 else { close(client); close(server); continue }
            let pair = Pair(client, server)
            Thread.detachNewThread { [self] in pump(from: client, to: server, pair: pair) }
            Thread.detachNewThread { [self] in pump(from: server, to: client, pair: pair) }
        }
    }

    /// The two sockets of one forwarded connection. Either direction ending shuts both down (so
    /// the other direction's `recv` returns); the last one to finish closes them. Closing a
    /// socket while the other direction could still shut it down would let that `shutdown` land
    /// on whatever later connection the kernel gave the same descriptor number.
    private final class Pair: @unchecked Sendable {
        let sockets: (Int32, Int32)
        private let lock = NSLock()
        private var running = 2
        init(_ a: Int32, _ b: Int32) { sockets = (a, b) }

        func finished() {
            lock.lock()
            running -= 1
            let last = running == 0
            lock.unlock()
            shutdown(sockets.0, Int32(SHUT_RDWR))
            shutdown(sockets.1, Int32(SHUT_RDWR))
            if last {
                close(sockets.0)
                close(sockets.1)
            }
        }
    }

    /// Copies bytes one way; while cut, holds them (and reads nothing more) until restored.
    private func pump(from source: Int32, to destination: Int32, pair: Pair) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBufferPointer { recv(source, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            while cut && !isStopped { usleep(20_000) }
            var sent = 0
            while sent < count {
                let n = buffer.withUnsafeBufferPointer { send(destination, $0.baseAddress! + sent, count - sent, Int32(MSG_NOSIGNAL)) }
                guard n > 0 else { break }
                sent += n
            }
        }
        pair.finished()
    }
}
