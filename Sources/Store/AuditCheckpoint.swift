import Crypto
public import Foundation
public import LightboxCore

/// A signed anchor of the audit chain: (ledger, sequence, head hash, time) signed with an Ed25519
/// key kept outside the database. Someone who can bypass the triggers (a superuser, a file
/// editor) can rewrite rows and recompute every hash after them, but not the signature: `audit
/// verify` with the checkpoints finds the rewrite.
public struct AuditCheckpoint: Codable, Sendable, Equatable {
    public var ledger: String
    public var sequence: Int
    public var hash: String
    public var time: Timestamp
    /// The signer's Ed25519 public key and the signature, hex.
    public var publicKey: String
    public var signature: String

    /// What is signed.
    var message: Data { Data("lightbox-checkpoint\n\(ledger)\n\(sequence)\n\(hash)\n\(time.text)".utf8) }

    /// Signs the chain head `head` of `ledger`.
    public static func sign(_ head: LedgerReceipt, ledger: String, key: CheckpointKey, at date: Date = Date()) throws -> AuditCheckpoint {
        var checkpoint = AuditCheckpoint(ledger: ledger, sequence: head.sequence, hash: head.hash, time: Timestamp(date),
                                         publicKey: key.publicKey, signature: "")
        checkpoint.signature = try key.key.signature(for: checkpoint.message).hexadecimal
        return checkpoint
    }

    /// True when the signature is the public key's over the checkpoint's fields.
    public var signatureIsValid: Bool {
        guard let keyBytes = Data(hexadecimal: publicKey), let signatureBytes = Data(hexadecimal: signature),
              let key = try? Curve25519.Signing.PublicKey(rawRepresentation: keyBytes) else { return false }
        return key.isValidSignature(signatureBytes, for: message)
    }

    /// The checkpoints in a file of JSON lines (one per `audit checkpoint`).
    public static func read(_ path: String) throws -> [AuditCheckpoint] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw StoreError(path: path, reason: "cannot read the checkpoints") }
        return try text.split(separator: "\n").enumerated().map { index, line in
            do { return try JSONDecoder().decode(AuditCheckpoint.self, from: Data(line.utf8)) } catch {
                throw StoreError(path: path, reason: "line \(index + 1) is not a checkpoint")
            }
        }
    }

    /// Appends the checkpoint as one JSON line (the file is created readable by its owner only).
    public func append(to path: String) throws {
        let line = CanonicalJSON.string(self) + "\n"
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw StoreError(path: path, reason: "cannot create the checkpoints file")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw StoreError(path: path, reason: "cannot write the checkpoints file") }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(line.utf8))
        try handle.synchronize()
    }

    /// Problems of `checkpoints` against the chain (`hashAt` gives the chain's hash at a sequence):
    /// a bad signature, a signer other than `expectedKey`, a row whose hash differs (rewritten),
    /// or a checkpoint past the end (rows removed).
    public static func problems(_ checkpoints: [AuditCheckpoint], expectedKey: String?, hashAt: (Int) throws -> String?) rethrows -> [String] {
        var problems: [String] = []
        for checkpoint in checkpoints {
            let name = "checkpoint of row \(checkpoint.sequence) (\(checkpoint.time.text))"
            guard checkpoint.signatureIsValid else { problems.append("\(name): the signature does not match (the checkpoint was altered)"); continue }
            if let expectedKey, checkpoint.publicKey != expectedKey {
                problems.append("\(name): signed by another key (\(checkpoint.publicKey.prefix(16))…), not this installation's")
                continue
            }
            guard let hash = try hashAt(checkpoint.sequence) else {
                problems.append("\(name): the chain has no row \(checkpoint.sequence) any more (rows removed)")
                continue
            }
            if hash != checkpoint.hash {
                problems.append("\(name): row \(checkpoint.sequence)'s hash is \(hash.prefix(16))…, the signed head was \(checkpoint.hash.prefix(16))…: the chain up to it was rewritten")
            }
        }
        return problems
    }
}

/// The Ed25519 key checkpoints are signed with: 32 random bytes in a file of its own (mode 0600,
/// created once), never in the database.
public struct CheckpointKey: Sendable {
    let key: Curve25519.Signing.PrivateKey

    public static func loadOrCreate(path: String) throws -> CheckpointKey {
        let bytes = try SecretFile.loadOrCreate(path: path, length: 32, what: "checkpoint signing key",
                                                consequence: "earlier checkpoints could no longer be told from forgeries")
        do { return CheckpointKey(key: try Curve25519.Signing.PrivateKey(rawRepresentation: bytes)) } catch {
            throw StoreError(path: path, reason: "not an Ed25519 key")
        }
    }

    /// The public key, hex (what checkpoints carry).
    public var publicKey: String { key.publicKey.rawRepresentation.hexadecimal }
}

extension Data {
    /// Bytes from lower- or upper-case hex; nil for anything else.
    init?(hexadecimal text: String) {
        guard text.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count / 2)
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self.init(bytes)
    }
}
