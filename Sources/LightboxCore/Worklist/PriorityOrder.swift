/// The worklist's "most suspicious first", defined once for the reviewer and `triage`: results
/// the model could judge by calibrated probability (highest first), then results the domain
/// guard sent to Review (outside the model's domain, whatever their number), then studies with
/// no result yet; ties keep arrival order.
public enum PriorityOrder {
    /// The rank of a study's result: smaller goes first.
    public static func rank(_ result: StudyResult?) -> PriorityRank {
        guard let result else { return PriorityRank(group: 2, probability: 0) }
        return PriorityRank(group: result.reason == nil ? 0 : 1, probability: result.probability)
    }

    /// True when the study ranked `a` (arriving `arrivalA`) goes before the one ranked `b`.
    public static func precedes(_ a: PriorityRank, _ arrivalA: Int, _ b: PriorityRank, _ arrivalB: Int) -> Bool {
        a != b ? a < b : arrivalA < arrivalB
    }

    /// Items in priority order (stable: arrival order among equals).
    public static func sorted<T>(_ items: [T], result: (T) -> StudyResult?) -> [T] {
        items.enumerated().map { (rank(result($0.element)), $0.offset, $0.element) }
            .sorted { precedes($0.0, $0.1, $1.0, $1.1) }.map(\.2)
    }
}

/// Where a result stands in the priority order.
public struct PriorityRank: Sendable, Equatable, Comparable {
    /// 0 judged, 1 outside the model's domain, 2 no result yet.
    public let group: Int
    public let probability: Double

    public static func < (a: PriorityRank, b: PriorityRank) -> Bool {
        a.group != b.group ? a.group < b.group : a.probability > b.probability
    }
}
