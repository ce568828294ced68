import Foundation
import LightboxCore
import TerminalUI

/// Model monitoring in the reviewer: the alerts of the latest window (paging ones first), the
/// selected one's test, stratum and weekly chart, and what could not be computed.
enum MonitorScreen {
    static func level(_ alert: MonitorAlert, context: ScreenContext) -> String {
        alert.gated ? (alert.acknowledged ? context.symbol("✓ acked", "+ acked") : context.symbol("▲ ALERT", "! ALERT")) : context.symbol("· watch", ". watch")
    }

    static func draw(_ state: AppState, context: ScreenContext, into buffer: inout ScreenBuffer) {
        let theme = context.theme
        Screens.titleBar("Lightbox · model monitoring", state: state, context: context, into: &buffer)
        let width = state.width - 2
        guard let report = state.monitorReport else {
            let text = state.monitorProblem.map { "Monitoring could not be read: \($0)" } ?? "Reading the monitoring report…"
            buffer.put(SafeText.sanitize(text), x: 1, y: 2, style: state.monitorProblem == nil ? theme.textStyle : theme.errorStyle, maxWidth: width)
            Screens.statusBar("q or Esc back", state: state, context: context, into: &buffer)
            return
        }
        let summary = "\(report.alerts.count) alert(s), \(report.openAlerts.count) open · \(report.studies) analysed studies, "
            + "\(report.verdicts) verdicts · \(report.windowDays)-day window to \(Timestamp(report.generatedAt).day)"
        buffer.put(summary, x: 1, y: 1, style: report.openAlerts.isEmpty ? theme.dimStyle : theme.warningStyle, maxWidth: width)
        let listHeight = max(3, min(report.alerts.count + 1, (state.height - 4) / 2))
        if report.alerts.isEmpty {
            buffer.put("No alerts.", x: 2, y: 3, style: theme.textStyle)
        } else {
            let columns = [TableView.Column("Level", width: 8), TableView.Column("Id", width: 10), TableView.Column("Kind", width: 15),
                           TableView.Column("Where", width: 42), TableView.Column("Since", width: 10), TableView.Column("What", width: 60)]
            TableView(columns: columns, rowCount: report.alerts.count, rowAt: { row in
                let alert = report.alerts[row]
                return [level(alert, context: context), alert.id, alert.kind.rawValue, SafeText.sanitize(alert.stratum.description),
                        Timestamp(alert.since).day, SafeText.sanitize(alert.what)]
            }, selected: state.monitorSelected,
                      headerStyle: CellStyle(foreground: theme.accent, background: theme.background, attributes: [.bold, .underline]),
                      rowStyle: theme.textStyle, selectedStyle: theme.selectionStyle)
                .draw(in: Rect(x: 1, y: 2, width: width, height: listHeight), into: &buffer)
        }
        // The selected alert in full, then the notes.
        var lines: [TextBlock.Line] = []
        if state.monitorSelected < report.alerts.count {
            let alert = report.alerts[state.monitorSelected]
            let chart = MonitorText.sparkline(alert.series.map(\.value), threshold: alert.chartThreshold, unicode: context.capabilities.unicode)
            lines += [
                TextBlock.Line(SafeText.sanitize("\(alert.kind.rawValue): \(alert.what)"), alert.gated ? theme.warningStyle : theme.accentStyle),
                TextBlock.Line(SafeText.sanitize("where   \(alert.stratum)"), theme.textStyle),
                TextBlock.Line("since   \(Timestamp(alert.since).day) · window \(Timestamp(alert.windowStart).day)…\(Timestamp(alert.windowEnd).day) · "
                               + "\(alert.count) in the window, \(alert.referenceCount) in the reference", theme.textStyle),
                TextBlock.Line(SafeText.sanitize("test    \(alert.statistic)"), theme.textStyle),
                TextBlock.Line([("weekly  ", theme.textStyle), (chart.line, theme.accentStyle),
                                (SafeText.sanitize("  \(alert.chartLabel); threshold \(MonitorText.number(alert.chartThreshold)) at \(chart.thresholdBlock)"), theme.dimStyle)]),
            ]
            if alert.kind == .automationBias { lines.append(TextBlock.Line("a signal for quality review only, never a page", theme.dimStyle)) }
            lines.append(TextBlock.Line("", theme.textStyle))
        }
        if !report.notes.isEmpty {
            lines.append(TextBlock.Line("Not computed:", theme.dimStyle))
            for note in report.notes { lines.append(TextBlock.Line(SafeText.sanitize("  - " + note), theme.dimStyle)) }
        }
        TextBlock(lines: lines).draw(in: Rect(x: 1, y: 3 + listHeight, width: width, height: state.height - 4 - listHeight), into: &buffer)
        if let prompt = state.acknowledgePrompt {
            let area = Rect(x: 0, y: 1, width: state.width, height: state.height - 2)
            let boxWidth = min(area.width, 72), boxHeight = 7
            let rect = Rect(x: (area.width - boxWidth) / 2, y: area.y + (area.height - boxHeight) / 2, width: boxWidth, height: boxHeight)
            buffer.fill(rect, with: Cell(" ", style: theme.textStyle))
            Box.draw(rect, title: "Acknowledge alert \(prompt.alert.id)", into: &buffer, style: theme.accentStyle, titleStyle: theme.accentStyle,
                     borders: context.borders)
            TextBlock(lines: [
                TextBlock.Line(SafeText.sanitize("\(prompt.alert.kind.rawValue) · \(prompt.alert.stratum)"), theme.dimStyle),
                TextBlock.Line("Comment (required): " + SafeText.sanitize(prompt.comment) + context.symbol("▏", "_"), theme.textStyle),
                TextBlock.Line("", theme.textStyle),
                TextBlock.Line("Enter records it in the audit log · Esc cancels", theme.dimStyle),
            ]).draw(in: rect.inset(1), into: &buffer)
        }
        let keys = state.keyMap
        Screens.statusBar("↑/↓ choose · \(keys.keyName(.alertStudies)) its studies · \(keys.keyName(.acknowledgeAlert)) acknowledge · q back",
                          right: report.alerts.isEmpty ? "" : "\(state.monitorSelected + 1)/\(report.alerts.count) ", state: state, context: context, into: &buffer)
    }
}
