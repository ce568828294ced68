public import Foundation

/// Where a department's ledger is: `postgresql://[user@]host[:port]/database[?sslmode=MODE]`.
/// The password never comes from the URL or the command line: `PGPASSWORD`, then `~/.pgpass`
/// (host:port:database:user:password, `*` for any), then a file readable only by the user.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public enum TLSMode: String, Sendable {
        /// No TLS (refused unless the host is loopback).
        case disable
        /// TLS without checking the certificate.
        case require
        /// TLS with the certificate checked against the system's roots and the host name.
        case verifyFull = "verify-full"
    }

    public var user: String
    public var host: String
    public var port: Int
    public var database: String
    public var tls: TLSMode

    public struct Problem: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// Parses `text`; `defaultUser` when the URL names none (`PGUSER`, else `$USER`).
    public init(_ text: String, defaultUser: String) throws {
        guard let components = URLComponents(string: text), ["postgresql", "postgres"].contains(components.scheme ?? "") else {
            throw Problem(description: "\(text): not a postgresql:// URL (postgresql://user@host:port/database)")
        }
        guard components.password == nil else {
            throw Problem(description: "postgresql://…: a password in the URL is refused (it would end up in config files and logs); use PGPASSWORD, ~/.pgpass or password_file")
        }
        guard let host = components.host, !host.isEmpty else { throw Problem(description: "\(text): no host") }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else { throw Problem(description: "\(text): no database (postgresql://host:port/DATABASE)") }
        self.user = components.user ?? defaultUser
        self.host = host
        self.port = components.port ?? 5432
        self.database = database
        let mode = components.queryItems?.first { $0.name == "sslmode" }?.value
        let loopback = Self.isLoopback(host)
        switch mode {
        case nil: tls = loopback ? .disable : .verifyFull
        case "disable", "allow", "prefer":
            guard loopback else {
                throw Problem(description: "\(host): TLS is required for a server that is not on this machine (sslmode=require or verify-full)")
            }
            tls = .disable
        case "require": tls = .require
        case "verify-ca", "verify-full": tls = .verifyFull
        default: throw Problem(description: "sslmode=\(mode!): not one of disable, require, verify-full")
        }
    }

    /// A host on this machine (the one case where TLS is not required).
    static func isLoopback(_ host: String) -> Bool { ["localhost", "127.0.0.1", "::1"].contains(host) }

    /// The URL without any secret (what messages and logs show).
    public var description: String { "postgresql://\(user)@\(host):\(port)/\(database)" }

    /// The password: `PGPASSWORD`, else the first matching `~/.pgpass` line (the file must be
    /// readable by its owner only, as libpq requires), else `passwordFile` (the same rule); nil when none.
    public func password(environment: [String: String] = ProcessInfo.processInfo.environment, passwordFile: String? = nil) throws -> String? {
        if let password = environment["PGPASSWORD"], !password.isEmpty { return password }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let pgpass = environment["PGPASSFILE"] ?? home + "/.pgpass"
        if FileManager.default.fileExists(atPath: pgpass) {
            try Self.requirePrivate(pgpass)
            let text = (try? String(contentsOfFile: pgpass, encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                let fields = Self.pgpassFields(String(line))
                guard fields.count == 5 else { continue }
                let wanted = [host, String(port), database, user]
                if zip(fields.prefix(4), wanted).allSatisfy({ $0 == "*" || $0 == $1 }) { return fields[4] }
            }
        }
        return try passwordFile.map(Self.secret(in:))
    }

    /// The secret in `path` (its first line), which must be readable by its owner only.
    public static func secret(in path: String) throws -> String {
        try requirePrivate(path)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw Problem(description: "\(path): cannot read the password file")
        }
        return String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
    }

    /// A file holding a secret must be readable by its owner only.
    static func requirePrivate(_ path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw Problem(description: "\(path): no such file") }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let mode = (attributes?[.posixPermissions] as? NSNumber)?.intValue ?? 0o777
        guard mode & 0o077 == 0 else {
            throw Problem(description: "\(path): readable by others (mode \(String(mode, radix: 8))); chmod 600 it")
        }
    }

    /// A .pgpass line's fields (`\:` and `\\` escaped).
    static func pgpassFields(_ line: String) -> [String] {
        var fields: [String] = [], current = "", escaped = false
        for character in line {
            if escaped { current.append(character); escaped = false; continue }
            if character == "\\" { escaped = true; continue }
            if character == ":" { fields.append(current); current = ""; continue }
            current.append(character)
        }
        fields.append(current)
        return fields
    }
}
