public import Foundation
public import LightboxCore
public import ReviewApp
public import Store

/// Monitoring over this installation's result store and ledger: the report (each model
/// version's default reference frozen the first time it is complete), acknowledgements as audit
/// events, reference periods set by hand.
public struct MonitorService: MonitorSource {
    public let store: any MonitoringStore
    public let ledger: any DecisionStore
    public let settings: MonitorSettings

    public init(store: any MonitoringStore, ledger: any DecisionStore, settings: MonitorSettings) {
        self.store = store
        self.ledger = ledger
        self.settings = settings
    }

    /// The store and ledger of `paths`, settings from the configuration.
    public static func open(_ paths: AppPaths, configuration: Configuration) throws -> MonitorService {
        let store = try AnalysisStores.results(paths, configuration: configuration)
        let ledger = try LedgerLocator.open(paths, configuration: configuration).store
        return MonitorService(store: store, ledger: ledger, settings: Self.settings(configuration))
    }

    public static func settings(_ configuration: Configuration) -> MonitorSettings {
        MonitorSettings(windowDays: configuration.monitorWindowDays, minimumStudies: configuration.monitorMinimumStudies,
                        referenceStudies: configuration.monitorReferenceStudies)
    }

    /// The event an acknowledgement is recorded as.
    public static let acknowledgementEvent = "monitor-acknowledge"

    /// The ids acknowledged in the ledger.
    public func acknowledged() throws -> Set<String> {
        Set(try ledger.events(Self.acknowledgementEvent).map(\.subject))
    }

    /// The report at `now`; a model whose default reference is complete has it frozen now.
    public func report(now: Date = Date(), since: Date? = nil) throws -> MonitorReport {
        let records = try store.monitoringRecords()
        var references = try store.references()
        for model in Set(records.map(\.model)).sorted() where !references.contains(where: { $0.model == model }) {
            if let reference = MonitorAnalysis.reference(model: model, records: records, saved: references, settings: settings) {
                try store.setReference(reference)
                references.append(reference)
            }
        }
        return MonitorAnalysis.report(records: records, verdicts: MonitoringKeys.verdicts(try LedgerLocator.allDecisions(ledger)), references: references,
                                      now: now, since: since, settings: settings, acknowledged: try acknowledged())
    }

    public func report() throws -> MonitorReport { try report(now: Date(), since: nil) }

    public func acknowledge(_ alert: MonitorAlert, comment: String, reader: String) throws -> LedgerReceipt {
        try acknowledge(alert, comment: comment, reader: reader, at: Date())
    }

    public func studies(matching keys: Set<String>, among uids: [String]) -> [String] {
        uids.filter { keys.contains(MonitoringKeys.study($0)) }
    }

    /// What an acknowledgement records in the chain.
    public struct Acknowledgement: Codable, Sendable, Equatable {
        public var alert: String
        public var kind: String
        public var stratum: String
        public var statistic: String
        public var comment: String
        public var reader: String
        public var at: Timestamp
    }

    /// Acknowledges `alert` with a comment: an audit event in the ledger's chain.
    @discardableResult
    public func acknowledge(_ alert: MonitorAlert, comment: String, reader: String, at date: Date = Date()) throws -> LedgerReceipt {
        let text = comment.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw CLIFailure("an acknowledgement needs a comment (what was checked, what was done)") }
        let record = Acknowledgement(alert: alert.id, kind: alert.kind.rawValue, stratum: alert.stratum.description, statistic: alert.statistic,
                                     comment: SafeText.sanitize(text), reader: reader, at: Timestamp(date))
        return try ledger.recordEvent(Self.acknowledgementEvent, subject: alert.id, details: CanonicalJSON.string(record))
    }

    /// Sets `model`'s reference to its first `first` studies, or to the studies analysed between two days.
    public func setReference(model: String, first: Int?, from: Date?, to: Date?) throws -> MonitorReference {
        let own = try store.monitoringRecords(model: model)
        guard !own.isEmpty else {
            let known = Set(try store.monitoringRecords().map(\.model)).sorted()
            throw CLIFailure("\(model): no analysed studies recorded for this model version (recorded: \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
        }
        let reference: MonitorReference
        if let from, let to {
            let inside = own.filter { $0.analysedAt >= from && $0.analysedAt <= to }
            guard !inside.isEmpty else { throw CLIFailure("\(model): no study was analysed between \(Timestamp(from).day) and \(Timestamp(to).day)") }
            reference = MonitorReference(model: model, from: from, to: to, basis: "\(Timestamp(from).day)…\(Timestamp(to).day) (\(inside.count) studies)")
        } else {
            let count = first ?? settings.referenceStudies
            guard count > 0, own.count >= count else { throw CLIFailure("\(model): \(own.count) studies recorded, fewer than the \(count) asked for") }
            reference = MonitorReference(model: model, from: own[0].analysedAt, to: own[count - 1].analysedAt, basis: "first \(count) studies")
        }
        try store.setReference(reference)
        _ = try ledger.recordEvent("monitor-reference", subject: model, details: CanonicalJSON.string(reference))
        return reference
    }
}
