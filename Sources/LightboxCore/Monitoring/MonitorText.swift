import Foundation

/// The monitor report as text: a table of alerts and a sparkline per alert (the CLI and the
/// reviewer's monitor screen draw the same lines).
public enum MonitorText {
    static let blocks: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
    static let asciiBlocks: [Character] = ["_", ".", "-", "~", "=", "+", "*", "#"]

    /// One character per weekly value (a gap as "·"), scaled from 0 to the larger of the largest
    /// value and 1.25 × the threshold; and the block level the threshold falls on.
    public static func sparkline(_ values: [Double?], threshold: Double, unicode: Bool = true) -> (line: String, thresholdBlock: Character) {
        let glyphs = unicode ? blocks : asciiBlocks
        let finite = values.compactMap { $0 }.filter(\.isFinite)
        let top = max(finite.max() ?? 0, threshold.isFinite ? threshold * 1.25 : 0, 1e-12)
        func level(_ value: Double) -> Int { min(7, max(0, Int((value / top * 8).rounded(.up)) - 1)) }
        let line = String(values.map { value -> Character in
            guard let value, value.isFinite else { return unicode ? "·" : " " }
            return glyphs[level(value)]
        })
        return (line, glyphs[threshold.isFinite ? level(threshold) : 0])
    }

    static func day(_ date: Date) -> String { Timestamp(date).day }

    /// Numbers for a table cell: 3 significant digits, never "nan".
    public static func number(_ value: Double) -> String {
        guard value.isFinite else { return "—" }
        if value != 0 && (abs(value) < 0.001 || abs(value) >= 100_000) { return String(format: "%.2e", value) }
        return String(format: "%.3g", value)
    }

    /// The whole report: alerts (paging ones first), a chart under each, then the notes.
    public static func lines(_ report: MonitorReport, unicode: Bool = true) -> [String] {
        var lines: [String] = []
        let open = report.openAlerts.count
        lines.append("Monitoring at \(day(report.generatedAt)): \(report.studies) analysed studies, \(report.verdicts) verdicts, "
                     + "\(report.windowDays)-day window — \(report.alerts.count) alert(s), \(open) open (paging)")
        for reference in report.references {
            lines.append("  reference \(reference.model): \(reference.basis), \(day(reference.from))…\(day(reference.to))")
        }
        if report.alerts.isEmpty { lines.append("No alerts.") }
        for alert in report.alerts {
            let level = alert.gated ? (alert.acknowledged ? "ACKED" : "ALERT") : "watch"
            lines.append("")
            lines.append("\(level) \(alert.id)  \(alert.kind.rawValue): \(alert.what)")
            lines.append("  where  \(alert.stratum)")
            lines.append("  since  \(day(alert.since)) (window \(day(alert.windowStart))…\(day(alert.windowEnd)); \(alert.count) in the window, \(alert.referenceCount) in the reference)")
            lines.append("  test   \(alert.statistic)")
            let chart = sparkline(alert.series.map(\.value), threshold: alert.chartThreshold, unicode: unicode)
            lines.append("  weekly \(chart.line)  \(alert.chartLabel); threshold \(number(alert.chartThreshold)) at \(chart.thresholdBlock)")
            if alert.kind == .automationBias { lines.append("  (a signal for quality review, never a page)") }
        }
        if !report.notes.isEmpty {
            lines.append("")
            lines.append("Not computed:")
            for note in report.notes { lines.append("  - " + note) }
        }
        return lines
    }
}
