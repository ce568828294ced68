/// Monitoring figures from the decisions: override and agreement rates per tier, model version and
/// reader; a calibration table (predicted probability against the abnormal rate the readers'
/// decisions imply, per tier); time to decision.
public enum DecisionStatistics {
    public struct Group: Codable, Sendable, Equatable {
        public var key: String
        public var decisions: Int
        public var accepted: Int
        public var overridden: Int
        public var deferred: Int
        /// Overridden / (accepted + overridden).
        public var overrideRate: Double?
        /// Accepted / (accepted + overridden).
        public var agreementRate: Double?
    }

    public struct CalibrationRow: Codable, Sendable, Equatable {
        public var tier: ConfidenceTier
        /// Decisions that imply a label (accept, or override for a reason that says what is true).
        public var labelled: Int
        public var meanPredicted: Double?
        public var observedAbnormal: Double?
    }

    public struct Report: Codable, Sendable, Equatable {
        public var decisions: Int
        public var byTier: [Group]
        public var byModelVersion: [Group]
        /// Lightbox's own models against each other system's result ("ext. NAME"; versions in `byModelVersion`).
        public var bySource: [Group]
        public var byReader: [Group]
        public var calibration: [CalibrationRow]
        public var medianSecondsToDecision: Double?
        public var p90SecondsToDecision: Double?
    }

    /// The label a decision implies: accepting confirms the AI's call; false positive says normal;
    /// false negative, wrong location or wrong finding type say abnormal; other reasons and
    /// deferrals say nothing.
    public static func impliedAbnormal(_ d: Decision) -> Bool? {
        impliedAbnormal(action: d.action, reason: d.reason, probability: d.probability)
    }

    /// The same label from a decision's parts (monitoring's verdicts carry only these).
    public static func impliedAbnormal(action: DecisionAction, reason: OverrideReason?, probability: Double?) -> Bool? {
        guard let p = probability else { return nil }
        switch action {
        case .accept: return p >= 0.5
        case .deferred: return nil
        case .override:
            switch reason {
            case .falsePositive: return false
            case .falseNegative, .wrongLocation, .wrongFindingType: return true
            default: return nil
            }
        }
    }

    static func group(_ key: String, _ items: [Decision]) -> Group {
        let accepted = items.filter { $0.action == .accept }.count
        let overridden = items.filter { $0.action == .override }.count
        let judged = accepted + overridden
        return Group(key: key, decisions: items.count, accepted: accepted, overridden: overridden, deferred: items.count - judged,
                     overrideRate: judged == 0 ? nil : Double(overridden) / Double(judged),
                     agreementRate: judged == 0 ? nil : Double(accepted) / Double(judged))
    }

    static func groups(_ decisions: [Decision], by key: (Decision) -> String) -> [Group] {
        Dictionary(grouping: decisions, by: key).sorted { $0.key < $1.key }.map { group($0.key, $0.value) }
    }

    public static func report(_ decisions: [Decision]) -> Report {
        let calibration = ConfidenceTier.allCases.map { tier -> CalibrationRow in
            let labelled = decisions.filter { $0.tier == tier }.compactMap { d in impliedAbnormal(d).map { (d.probability ?? 0, $0) } }
            return CalibrationRow(tier: tier, labelled: labelled.count,
                                  meanPredicted: labelled.isEmpty ? nil : labelled.map(\.0).reduce(0, +) / Double(labelled.count),
                                  observedAbnormal: labelled.isEmpty ? nil : Double(labelled.filter(\.1).count) / Double(labelled.count))
        }
        let seconds = decisions.map(\.secondsSpent).sorted()
        func percentile(_ p: Double) -> Double? { seconds.isEmpty ? nil : seconds[min(seconds.count - 1, Int(Double(seconds.count - 1) * p + 0.5))] }
        return Report(decisions: decisions.count, byTier: groups(decisions) { $0.tier?.rawValue ?? "none" },
                      byModelVersion: groups(decisions) { $0.modelIdentity.description },
                      bySource: groups(decisions) { $0.external == nil ? "embedded models" : "ext. \($0.model)" },
                      byReader: groups(decisions) { $0.reader },
                      calibration: calibration, medianSecondsToDecision: percentile(0.5), p90SecondsToDecision: percentile(0.9))
    }
}
