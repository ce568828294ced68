import DepartmentStore
public import DicomReading
import DicomWeb
public import Foundation
public import LightboxCore
public import ReviewApp
import Store

/// What the commands take as a SOURCE: a folder, a DICOMweb URL, a `dicom://` peer, or the name
/// of a `[sources.NAME]` in config.toml (whose credential comes from an environment variable or a
/// file readable only by its owner).
public enum SourceResolver {
    /// A resolved PACS: its connection and the cache folder key.
    public struct Pacs: Sendable {
        public let connection: any PacsConnection
        public let cacheKey: String
        /// The configured name, or the address.
        public let label: String
    }

    /// The PACS that `text` names, or nil when it names a folder.
    public static func pacs(_ text: String, configuration: Configuration,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Pacs? {
        if let named = configuration.sources[text] {
            return try pacs(named, configuration: configuration, environment: environment)
        }
        switch try SourceAddress.parse(text, callingAETitle: configuration.callingAETitle) {
        case .folder: return nil
        case .dicomWeb(let endpoint):
            return Pacs(connection: DicomWebClient(endpoint: endpoint), cacheKey: InstanceCache.sourceKey(endpoint.baseURL), label: endpoint.baseURL)
        case .dimse(let endpoint):
            return Pacs(connection: try DimseClient(endpoint: endpoint), cacheKey: InstanceCache.sourceKey(endpoint.description), label: endpoint.description)
        }
    }

    /// A configured source, with its credential read now.
    public static func pacs(_ named: NamedSource, configuration: Configuration,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Pacs {
        let label = named.name
        func fail(_ reason: String) -> PacsError { PacsError(source: label, kind: .configuration, reason: reason) }
        let address: SourceAddress
        do { address = try SourceAddress.parse(named.url, callingAETitle: named.callingAETitle ?? configuration.callingAETitle) } catch let error as PacsError {
            throw fail(error.reason)
        }
        switch address {
        case .folder:
            throw fail("url must be http(s)://…/dicom-web or dicom://CALLED_AET@host:port, not '\(SafeText.sanitize(named.url))'")
        case .dicomWeb(var endpoint):
            endpoint.username = named.username
            if let variable = named.passwordEnvironment {
                guard let value = environment[variable], !value.isEmpty else {
                    throw fail("password_env names \(variable), which is not set in the environment")
                }
                endpoint.password = Secret(value)
            } else if let file = named.passwordFile {
                let path = (file as NSString).expandingTildeInPath
                do { endpoint.password = Secret(try PostgresLocation.secret(in: path)) } catch {
                    throw fail("password_file: \(error)")
                }
            }
            if let timeout = named.timeout { endpoint.timeout = timeout }
            return Pacs(connection: DicomWebClient(endpoint: endpoint, name: label), cacheKey: InstanceCache.sourceKey(label + " " + endpoint.baseURL), label: label)
        case .dimse(var endpoint):
            if named.passwordEnvironment != nil || named.passwordFile != nil || named.username != nil {
                throw fail("a DIMSE peer takes no user name or password (AE titles identify the two ends)")
            }
            if let callingAETitle = named.callingAETitle { endpoint.callingAETitle = callingAETitle }
            if let retrieve = named.retrieve {
                guard let method = DimseEndpoint.Retrieve(rawValue: retrieve) else { throw fail("retrieve must be get or move, not '\(retrieve)'") }
                endpoint.retrieve = method
            }
            if let port = named.movePort { endpoint.storePort = port }
            if let timeout = named.timeout { endpoint.timeout = timeout }
            do {
                return Pacs(connection: try DimseClient(endpoint: endpoint, name: label), cacheKey: InstanceCache.sourceKey(label + " " + endpoint.description), label: label)
            } catch let error as PacsError {
                throw fail(error.reason)
            }
        }
    }

    /// The cache with config.toml's budget.
    public static func cache(_ paths: AppPaths, configuration: Configuration) -> InstanceCache {
        InstanceCache(root: paths.pacsCache, budgetBytes: Int64(configuration.pacsCacheMegabytes) * 1_048_576)
    }

    /// The study source `text` names: a PACS (through the cache and the index) or a folder.
    public static func studySource(_ text: String, paths: AppPaths, configuration: Configuration, index: any WorklistIndex & Sendable,
                                   query: StudyQuery = StudyQuery()) throws -> any StudySource {
        if let pacs = try pacs(text, configuration: configuration) {
            return PacsStudySource(connection: pacs.connection, cache: cache(paths, configuration: configuration), cacheKey: pacs.cacheKey,
                                   index: index, query: query)
        }
        guard FileManager.default.fileExists(atPath: text) else {
            throw CLIFailure("\(text): no such file or folder, and no source of that name in config.toml's [sources]")
        }
        return FolderStudySource(root: FolderIndexer.normalized(text), index: index)
    }
}
