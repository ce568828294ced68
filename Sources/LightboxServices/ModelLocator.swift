import Foundation
public import Inference
public import LightboxCore
import Store
public import ReviewApp

/// Where model folders come from: --model DIR (repeatable), else `models` in config.toml, else
/// models/default beside the program or here.
public enum ModelLocator {
    public static func folder(_ explicit: String?) throws -> String {
        if let explicit { return explicit }
        guard let found = CLI.bundledCandidates("models/default").first(where: { FileManager.default.fileExists(atPath: $0 + "/model.json") }) else {
            throw CLIFailure("no model: models/default was not found beside the program; pass --model DIR with a model folder (model.onnx + model.json)")
        }
        return found
    }

    public static func load(_ explicit: String?) throws -> ModelFolder {
        let path = try folder(explicit)
        do { return try ModelFolder(path: path) } catch { throw CLIFailure(error.description) }
    }

    /// The configured models: the --model options, else config.toml's `models`, else the default.
    public static func loadAll(_ explicit: [String], configured: [String]) throws -> [ModelFolder] {
        let chosen = !explicit.isEmpty ? explicit : configured
        if chosen.isEmpty { return [try load(nil)] }
        return try chosen.map { try load($0) }
    }

    /// The analyser over `folders`, caching results in the data directory.
    /// Each analysed study is recorded for monitoring under `site`.
    public static func analyser(_ folders: [ModelFolder], source: any StudySource, paths: AppPaths, configuration: Configuration) throws -> FusedTriage {
        let cache = try AnalysisStores.results(paths, configuration: configuration)
        let monitor = MonitoringRecorder(store: cache, site: configuration.site)
        let triages = folders.map {
            StudyTriage(source: source, detector: OnnxFindingDetector(folder: $0), cache: cache, settings: $0.triageSettings, monitor: monitor)
        }
        return FusedTriage(triages: triages, cache: cache, fusionTemperature: configuration.fusionTemperature)
    }
}

/// `lightbox model …`
