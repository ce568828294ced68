import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An HTTP server on a real loopback socket that answers each request with bytes a test chose
/// (a broken answer a real server may send: not JSON, cut short, a wrong multipart boundary), or
/// passes the request through to a real server. It reads the request head, sends the answer,
/// and closes the connection.
public final class CannedHTTPServer: @unchecked Sendable {
    public let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var stopped = false
    private let answer: @Sendable (_ requestLine: String) -> [UInt8]
    /// Request lines received, in order.
    public private(set) var requests: [String] = []

    public init(answer: @escaping @Sendable (_ requestLine: String) -> [UInt8]) throws {
        self.answer = answer
        (listener, port) = try LoopbackProxy.listening()
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    deinit { stop() }

    public var baseURL: String { "http://127.0.0.1:\(port)/dicom-web" }

    public func stop() {
        lock.lock()
        let wasStopped = stopped
        stopped = true
        lock.unlock()
        guard !wasStopped else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private var isStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }

    private func acceptLoop() {
        while !isStopped {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { if isStopped { return } else { continue } }
            Thread.detachNewThread { [self] in serve(client) }
        }
    }

    private func serve(_ client: Int32) {
        var head = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while head.count < 65_536 {
            let count = buffer.withUnsafeMutableBufferPointer { recv(client, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            head += buffer[0..<count]
            if head.count >= 4, String(decoding: head, as: UTF8.self).contains("\r\n\r\n") { break }
        }
        let requestLine = String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n").first ?? ""
        lock.lock()
        requests.append(requestLine)
        lock.unlock()
        let reply = answer(requestLine)
        var sent = 0
        while sent < reply.count {
            let n = reply.withUnsafeBufferPointer { send(client, $0.baseAddress! + sent, reply.count - sent, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { break }
            sent += n
        }
        shutdown(client, Int32(SHUT_RDWR))
        close(client)
    }

    /// An HTTP/1.1 answer with a body (Content-Length from `length`, the body's own by default:
    /// a smaller body than the length is an answer cut short).
    public static func response(status: String = "200 OK", contentType: String, body: [UInt8], length: Int? = nil) -> [UInt8] {
        Array("HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(length ?? body.count)\r\nConnection: close\r\n\r\n".utf8) + body
    }

    /// A multipart/related body of DICOM parts with `boundary`.
    public static func multipart(_ parts: [[UInt8]], boundary: String) -> [UInt8] {
        var body = [UInt8]()
        for part in parts {
            body += Array("--\(boundary)\r\nContent-Type: application/dicom\r\n\r\n".utf8) + part + Array("\r\n".utf8)
        }
        return body + Array("--\(boundary)--\r\n".utf8)
    }
}
