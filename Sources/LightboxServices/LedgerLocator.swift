public import DepartmentStore
public import Foundation
public import LightboxCore
public import ReviewApp
public import Store

/// Which decision ledger the commands and the reviewer use: this workstation's SQLite file, or
/// the department's PostgreSQL server when config.toml's `ledger` names one.
public enum LedgerLocator {
    /// The configured department server, nil for the workstation's file.
    public static func department(_ configuration: Configuration) throws -> PostgresLocation? {
        guard let ledger = configuration.ledger else { return nil }
        let user = ProcessInfo.processInfo.environment["PGUSER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "postgres"
        do { return try PostgresLocation(ledger, defaultUser: user) } catch { throw CLIFailure("config.toml: ledger: \(error)") }
    }

    /// The password for `location` (never from the command line).
    public static func password(_ location: PostgresLocation, configuration: Configuration) throws -> String? {
        do { return try location.password(passwordFile: configuration.passwordFile) } catch { throw CLIFailure("\(error)") }
    }

    /// The ledger to read and write, with words for where it is.
    public static func open(_ paths: AppPaths, configuration: Configuration) throws -> (store: any DecisionStore, name: String) {
        if let location = try department(configuration) {
            do {
                return (try PostgresDecisionLedger(location, password: try password(location, configuration: configuration)), location.description)
            } catch { throw CLIFailure("\(error)") }
        }
        do { return (try SQLiteDecisionLedger(path: paths.ledgerDatabase), paths.ledgerDatabase) } catch {
            throw CLIFailure("\(paths.ledgerDatabase): \(error)")
        }
    }

    /// Who records decisions: on a department server the role connecting (the server stamps it
    /// and refuses any other), else config.toml's `reader` or $USER.
    public static func reader(_ configuration: Configuration) -> String {
        (try? department(configuration))??.user ?? Reader.name(configuration)
    }

    /// Every reader's decisions, for department-wide figures (stats, monitoring): on a department
    /// server all readers' (another reader's rows without their name, patient ID or comment,
    /// unless the asker is an auditor), on a workstation its own ledger.
    public static func allDecisions(_ store: any DecisionStore) throws -> [Decision] {
        if let department = store as? PostgresDecisionLedger { return try department.departmentDecisions() }
        return try store.decisions()
    }
}

/// Where analysis results, the case base and monitoring records are kept: the department's
/// server when config.toml's `ledger` names one (every workstation shares them), else this
/// installation's SQLite files.
public enum AnalysisStores {
    public static func results(_ paths: AppPaths, configuration: Configuration) throws -> any ResultCache & MonitoringStore {
        if let shared = try department(configuration) { return shared }
        do { return try SQLiteResultCache(path: paths.resultsDatabase) } catch { throw CLIFailure("\(paths.resultsDatabase): \(error)") }
    }

    public static func cases(_ paths: AppPaths, configuration: Configuration) throws -> any CaseStore {
        if let shared = try department(configuration) { return shared }
        do { return try SQLiteCaseStore(path: paths.casesDatabase) } catch { throw CLIFailure("\(paths.casesDatabase): \(error)") }
    }

    /// The department's tables, when config.toml's `ledger` names a server.
    static func department(_ configuration: Configuration) throws -> PostgresAnalysisStore? {
        guard let location = try LedgerLocator.department(configuration) else { return nil }
        do { return try PostgresAnalysisStore(location, password: try LedgerLocator.password(location, configuration: configuration)) } catch {
            throw CLIFailure("\(error)")
        }
    }
}
