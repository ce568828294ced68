import Crypto
public import Foundation
public import LightboxCore

/// The keys monitoring uses instead of identifiers: a study is a hash of its UID (so verdicts can
/// be joined to it and the worklist filtered by it), a station a hash of its name.
public enum MonitoringKeys {
    public static func study(_ studyInstanceUID: String) -> String {
        String(SHA256.hash(data: Data(("lightbox-monitoring-study\n" + studyInstanceUID).utf8)).hexadecimal.prefix(32))
    }

    public static func station(_ name: String) -> String {
        "station-" + String(SHA256.hash(data: Data(("lightbox-monitoring-station\n" + name).utf8)).hexadecimal.prefix(12))
    }

    /// Monitoring's view of the ledger's decisions (in ledger order).
    public static func verdicts(_ decisions: [Decision]) -> [VerdictRecord] {
        decisions.enumerated().compactMap { index, d in
            guard let time = d.decidedAt.date else { return nil }
            return VerdictRecord(studyKey: study(d.studyInstanceUID), model: d.modelIdentity.description, decidedAt: time, action: d.action,
                                 reason: d.reason, tier: d.tier, probability: d.probability, secondsSpent: d.secondsSpent, sequence: index + 1)
        }
    }
}

/// The monitoring log over the result store: keys the study, hashes the station, stamps the site
/// and the time, and keeps only the record.
public struct MonitoringRecorder: MonitoringLog {
    public let store: any MonitoringStore
    public let site: String
    let clock: @Sendable () -> Date

    public init(store: any MonitoringStore, site: String, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.site = site
        self.clock = clock
    }

    public func record(_ observation: StudyObservation) throws {
        try store.record(Self.record(observation, site: site, at: clock()))
    }

    public static func record(_ o: StudyObservation, site: String, at time: Date) -> MonitoringRecord {
        MonitoringRecord(studyKey: MonitoringKeys.study(o.studyInstanceUID), model: o.model, site: site, analysedAt: time,
                         fingerprint: ScannerFingerprint.of(o.header, hashStation: MonitoringKeys.station), input: o.input, rawScore: o.rawScore,
                         probability: o.probability, tier: o.tier, outOfDomain: o.outOfDomain, domainDistance: o.domainDistance, images: o.images)
    }
}
