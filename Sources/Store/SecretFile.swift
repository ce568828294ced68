import Foundation

/// A secret kept in a file of its own (the pseudonym key, the checkpoint signing key): created
/// once with random bytes, mode 0600, exclusively; never replaced.
enum SecretFile {
    /// Reads the secret at `path`, creating it when absent. Two processes starting at once end up
    /// with the same secret; a file of the wrong length is refused, never replaced (`consequence`
    /// says why replacing it would hurt).
    static func loadOrCreate(path: String, length: Int, what: String, consequence: String) throws -> Data {
        for _ in 0..<2 {
            if let data = FileManager.default.contents(atPath: path) {
                guard data.count == length else {
                    throw StoreError(path: path, reason: "the \(what) is \(data.count) bytes, not \(length); refusing to replace it "
                                     + "(\(consequence)): restore it from a backup, or move the file away to start a new one")
                }
                return data
            }
            // Written whole into a private file first, then linked into place: link() fails when
            // the file exists, so the first creator wins and no reader ever sees half a secret.
            let temporary = path + ".new-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            guard descriptor >= 0 else {
                throw StoreError(path: path, reason: "cannot create the \(what): \(String(cString: strerror(errno)))")
            }
            defer { unlink(temporary) }
            var bytes = [UInt8](repeating: 0, count: length)
            var generator = SystemRandomNumberGenerator()
            for index in 0..<length { bytes[index] = UInt8.random(in: 0...255, using: &generator) }
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, length) }
            let synced = fsync(descriptor)
            close(descriptor)
            guard written == length, synced == 0 else { throw StoreError(path: path, reason: "cannot write the \(what)") }
            if link(temporary, path) != 0 {
                // Another process put its secret there first: use theirs.
                if errno == EEXIST { continue }
                throw StoreError(path: path, reason: "cannot create the \(what): \(String(cString: strerror(errno)))")
            }
            return Data(bytes)
        }
        throw StoreError(path: path, reason: "the \(what) appeared and vanished while it was read")
    }
}
