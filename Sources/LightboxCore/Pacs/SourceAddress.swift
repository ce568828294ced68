import Foundation

/// Where a worklist comes from: a folder, a DICOMweb service or a DIMSE peer.
public enum SourceAddress: Sendable, Equatable {
    case folder(String)
    case dicomWeb(DicomWebEndpoint)
    case dimse(DimseEndpoint)

    /// Reads what the user typed: `http(s)://host:port/dicom-web`, `dicom://CALLED@host:port`
    /// (query: `calling=AET`, `retrieve=get|move`, `port=N` for C-MOVE's storage port), anything
    /// else a folder. A URL with a password in it is refused: credentials come from config.toml's
    /// named sources (an environment variable or a file), never from the command line.
    public static func parse(_ text: String, callingAETitle: String = "LIGHTBOX") throws -> SourceAddress {
        let lower = text.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            guard let components = URLComponents(string: text), let host = components.host, !host.isEmpty else {
                throw PacsError(source: redacted(text), kind: .configuration, reason: "not a valid URL")
            }
            if components.password != nil || components.user != nil {
                throw PacsError(source: redacted(text), kind: .configuration,
                                reason: "credentials in a URL are not accepted (they would show in the process list and the shell's history); name the source in config.toml's [sources.NAME] with password_env or password_file")
            }
            var base = components
            base.query = nil
            base.fragment = nil
            var url = base.string ?? text
            while url.hasSuffix("/") { url.removeLast() }
            return .dicomWeb(DicomWebEndpoint(baseURL: url))
        }
        if lower.hasPrefix("dicom://") {
            guard let components = URLComponents(string: text), let host = components.host, !host.isEmpty else {
                throw PacsError(source: text, kind: .configuration, reason: "not a valid dicom://CALLED_AET@host:port address")
            }
            guard let called = components.user, !called.isEmpty else {
                throw PacsError(source: text, kind: .configuration, reason: "no called AE title: write dicom://CALLED_AET@host:port")
            }
            if components.password != nil {
                throw PacsError(source: "dicom://\(called)@\(host)", kind: .configuration, reason: "a DIMSE address carries no password")
            }
            var endpoint = DimseEndpoint(host: host, port: components.port ?? 104, calledAETitle: called, callingAETitle: callingAETitle)
            for item in components.queryItems ?? [] {
                let value = item.value ?? ""
                switch item.name {
                case "calling": endpoint.callingAETitle = value
                case "retrieve":
                    guard let method = DimseEndpoint.Retrieve(rawValue: value) else {
                        throw PacsError(source: endpoint.description, kind: .configuration, reason: "retrieve must be get or move, not '\(value)'")
                    }
                    endpoint.retrieve = method
                case "port":
                    guard let port = Int(value), (1...65535).contains(port) else {
                        throw PacsError(source: endpoint.description, kind: .configuration, reason: "port must be a TCP port, not '\(value)'")
                    }
                    endpoint.storePort = port
                default:
                    throw PacsError(source: endpoint.description, kind: .configuration,
                                    reason: "unknown setting '\(item.name)' (known: calling, retrieve, port)")
                }
            }
            try endpoint.validate()
            return .dimse(endpoint)
        }
        return .folder(text)
    }

    /// A URL with any user information taken out, for messages.
    static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text) else { return "(a URL)" }
        components.user = nil
        components.password = nil
        return components.string ?? "(a URL)"
    }
}

/// A DICOMweb service: its base URL (the `/dicom-web` root), and how to sign in.
public struct DicomWebEndpoint: Sendable, Equatable, CustomStringConvertible {
    public var baseURL: String
    /// HTTP basic authentication (user name and password), or a bearer token as the password with
    /// no user name.
    public var username: String?
    public var password: Secret?
    /// Seconds for connecting and for each answer.
    public var timeout: Double = 30

    public init(baseURL: String, username: String? = nil, password: Secret? = nil, timeout: Double = 30) {
        self.baseURL = baseURL
        self.username = username
        self.password = password
        self.timeout = timeout
    }

    public var description: String { baseURL }
}

/// A DIMSE peer: where it listens, the AE titles, and how to retrieve.
public struct DimseEndpoint: Sendable, Equatable, CustomStringConvertible {
    public enum Retrieve: String, Sendable, Equatable { case get, move }

    public var host: String
    public var port: Int
    public var calledAETitle: String
    public var callingAETitle: String
    public var retrieve: Retrieve = .get
    /// C-MOVE's local storage port (the PACS must know this AE title at this port).
    public var storePort: Int?
    /// Seconds for the TCP connection, the association, and each DIMSE message.
    public var timeout: Double = 30

    public init(host: String, port: Int, calledAETitle: String, callingAETitle: String = "LIGHTBOX") {
        self.host = host
        self.port = port
        self.calledAETitle = calledAETitle
        self.callingAETitle = callingAETitle
    }

    public var description: String { "\(calledAETitle)@\(host):\(port)" }

    /// AE titles of 1 to 16 characters of the default repertoire, no backslash; a port in range.
    public func validate() throws {
        for (name, title) in [("called", calledAETitle), ("calling", callingAETitle)] {
            let valid = !title.trimmingCharacters(in: .whitespaces).isEmpty && title.count <= 16
                && title.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F && $0 != "\\" }
            if !valid {
                throw PacsError(source: description, kind: .configuration,
                                reason: "the \(name) AE title must be 1 to 16 plain characters, not '\(SafeText.sanitize(title))'")
            }
        }
        guard (1...65535).contains(port) else {
            throw PacsError(source: description, kind: .configuration, reason: "port \(port) is not a TCP port")
        }
        if retrieve == .move && storePort == nil {
            throw PacsError(source: description, kind: .configuration,
                            reason: "C-MOVE needs the local storage port (dicom://…?retrieve=move&port=N, or move_port in config.toml)")
        }
    }
}

/// A credential that never prints: `description`, `debugDescription` and string interpolation
/// show a placeholder; only `reveal()` hands out the value, for the one header that needs it.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let value: String

    public init(_ value: String) {
        self.value = value
    }

    public func reveal() -> String { value }
    public var description: String { "(secret)" }
    public var debugDescription: String { "(secret)" }
    public var customMirror: Mirror { Mirror(self, children: []) }
}
