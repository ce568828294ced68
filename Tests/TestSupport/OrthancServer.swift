public import Foundation
#if canImport(Glibc)
public import Glibc
#endif

/// A real Orthanc (Debian's `orthanc` with the `orthanc-dicomweb` plugin) for the PACS tests:
/// its own configuration and storage in a temporary folder, HTTP and DICOM on free loopback
/// ports, the client's AE title registered, `--no-jobs`. Stopped (SIGTERM) when released.
/// `LIGHTBOX_REQUIRE_ORTHANC=1` (set by `make test`) makes a missing Orthanc a failure.
public final class OrthancServer: @unchecked Sendable {
    public static let executable = "/usr/sbin/Orthanc"
    public static let dicomWebPlugin = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"

    /// Whether Orthanc and its DICOMweb plugin are installed.
    public static var available: Bool {
        FileManager.default.isExecutableFile(atPath: executable) && FileManager.default.fileExists(atPath: dicomWebPlugin)
    }

    /// Whether the tests must have it (make test), rather than skip.
    public static var required: Bool { ProcessInfo.processInfo.environment["LIGHTBOX_REQUIRE_ORTHANC"] == "1" }

    public let folder: TemporaryFolder
    public let httpPort: Int
    public let dicomPort: Int
    public let aeTitle = "ORTHANC"
    /// The AE title the tests call from, registered with the storage port C-MOVE would use.
    public let clientAETitle = "LIGHTBOX"
    public let clientPort: Int
    private var pid: pid_t?
    private let settings: [String: Any]

    /// `settings` are added to (or replace) the test configuration's.
    public init(settings: [String: Any] = [:]) throws {
        folder = TemporaryFolder("orthanc")
        httpPort = try Self.freePort()
        dicomPort = try Self.freePort()
        clientPort = try Self.freePort()
        self.settings = settings
        try start()
    }

    deinit { stop() }

    public var dicomWebURL: String { "http://127.0.0.1:\(httpPort)/dicom-web" }
    public var dimseURL: String { "dicom://\(aeTitle)@127.0.0.1:\(dicomPort)?calling=\(clientAETitle)" }
    /// C-MOVE to LIGHTBOX, whose storage port Orthanc knows as `clientPort`.
    public var dimseMoveURL: String { dimseURL + "&retrieve=move&port=\(clientPort)" }
    /// A caller Orthanc knows with a port nobody listens on (a move destination set up wrongly).
    public let misregisteredAETitle = "ELSEWHERE"
    public let misregisteredPort = 9

    /// Starts it (again, on the same storage) and waits until it answers HTTP.
    public func start() throws {
        var configuration: [String: Any] = [
            "Name": "LightboxTest",
            "StorageDirectory": folder.file("storage"),
            "IndexDirectory": folder.file("storage"),
            "HttpPort": httpPort,
            "DicomPort": dicomPort,
            "DicomAet": aeTitle,
            "RemoteAccessAllowed": false,
            "AuthenticationEnabled": false,
            "DicomCheckCalledAet": true,
            "DicomAlwaysAllowEcho": true,
            "DicomAlwaysAllowFind": false,
            "DicomAlwaysAllowGet": false,
            "DicomAlwaysAllowMove": false,
            "DicomAlwaysAllowStore": false,
            "UnknownSopClassAccepted": true,
            "StorageCompression": false,
            "LimitFindResults": 0,
            "LimitFindInstances": 0,
            "HttpTimeout": 60,
            "Plugins": [Self.dicomWebPlugin],
            "DicomWeb": ["Enable": true, "Root": "/dicom-web/", "EnableWado": false, "Host": "127.0.0.1"],
            "DicomModalities": [clientAETitle.lowercased(): [clientAETitle, "127.0.0.1", clientPort],
                                misregisteredAETitle.lowercased(): [misregisteredAETitle, "127.0.0.1", misregisteredPort]],
        ]
        for (key, value) in settings { configuration[key] = value }
        let configPath = folder.file("orthanc.json")
        let data = try JSONSerialization.data(withJSONObject: configuration, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: configPath))
        let pid = try Spawn.start([Self.executable, "--no-jobs", "--logdir=\(folder.path)", configPath], log: folder.file("stdout.log"))
        self.pid = pid
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if !Spawn.isRunning(pid) {
                self.pid = nil
                throw OrthancError("Orthanc exited at start: \(tail())")
            }
            // Up when it answers HTTP at all (a server with authentication answers 401).
            if let (status, data) = try? curl(["-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(httpPort)/system"]),
               status == 0, String(decoding: data, as: UTF8.self) != "000" { return }
            usleep(100_000)
        }
        throw OrthancError("Orthanc did not answer on port \(httpPort) within 30 s: \(tail())")
    }

    /// SIGTERM, and waits for the exit.
    public func stop() {
        guard let pid else { return }
        Glibc.kill(pid, SIGTERM)
        Spawn.wait(pid)
        self.pid = nil
    }

    /// SIGKILL: as if it crashed.
    public func kill() {
        guard let pid else { return }
        Glibc.kill(pid, SIGKILL)
        Spawn.wait(pid)
        self.pid = nil
    }

    public var isRunning: Bool { pid.map(Spawn.isRunning) ?? false }

    private func tail() -> String {
        let text = (try? String(contentsOfFile: folder.file("stdout.log"), encoding: .utf8)) ?? ""
        return String(text.suffix(600))
    }

    // MARK: REST, through curl (a real client, not the code under test)

    /// Runs curl; its output and status.
    @discardableResult
    public func curl(_ arguments: [String]) throws -> (status: Int32, output: Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-s", "-S", "--max-time", "60"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, data)
    }

    public func get(_ path: String) throws -> Data {
        let (status, data) = try curl(["-f", "http://127.0.0.1:\(httpPort)\(path)"])
        guard status == 0 else { throw OrthancError("GET \(path): curl exit \(status)") }
        return data
    }

    /// Uploads DICOM files (POST /instances), returning how many Orthanc took.
    @discardableResult
    public func upload(_ paths: [String]) throws -> Int {
        var stored = 0
        for path in paths {
            let (status, data) = try curl(["-f", "-X", "POST", "-H", "Content-Type: application/dicom", "--data-binary", "@\(path)",
                                           "http://127.0.0.1:\(httpPort)/instances"])
            guard status == 0 else { throw OrthancError("upload \(path): curl exit \(status) \(String(decoding: data, as: UTF8.self))") }
            stored += 1
        }
        return stored
    }

    /// Every regular file under `folder` that looks like DICOM (the DICM preamble).
    public static func dicomFiles(under folder: String) -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: folder)
        var files: [String] = []
        while let name = enumerator?.nextObject() as? String {
            let path = folder + "/" + name
            guard let handle = FileHandle(forReadingAtPath: path) else { continue }
            let head = (try? handle.read(upToCount: 132)) ?? Data()
            try? handle.close()
            if head.count == 132 && head.suffix(4) == Data("DICM".utf8) { files.append(path) }
        }
        return files.sorted()
    }

    /// A socket that listens on loopback and never accepts: the kernel completes the TCP
    /// handshake, and nothing is ever said (a hung server). Closed when `close` is called.
    public static func silentListener() throws -> (port: Int, close: () -> Void) {
        let (fd, port) = try LoopbackProxy.listening(backlog: 16)
        return (port, { Glibc.close(fd) })
    }

    /// A free TCP port on loopback (bound and released).
    public static func freePort() throws -> Int {
        let (fd, port) = try LoopbackProxy.listening(listen: false)
        close(fd)
        return port
    }
}

public struct OrthancError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
