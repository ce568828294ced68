import Foundation

/// The monitor report as small multiples: one panel per alert (its weekly statistic as bars,
/// the threshold as a red line, what, where and since as text), two panels a row, a header with
/// the counts. Paging alerts get a red frame, acknowledged ones grey.
public enum MonitorChart {
    public static let panelWidth = 640, panelHeight = 230, margin = 12

    /// The text the chart draws, in drawing order (for tests: nothing identifying may be in it).
    public static func texts(_ report: MonitorReport) -> [String] {
        var texts = [header(report)]
        for alert in report.alerts { texts += panelTexts(alert) }
        if report.alerts.isEmpty { texts.append("No alerts. " + (report.notes.first ?? "")) }
        return texts
    }

    static func header(_ report: MonitorReport) -> String {
        "LIGHTBOX MONITOR \(Timestamp(report.generatedAt).day): \(report.alerts.count) ALERTS, \(report.openAlerts.count) OPEN; \(report.studies) STUDIES, \(report.verdicts) VERDICTS"
    }

    static func panelTexts(_ alert: MonitorAlert) -> [String] {
        let level = alert.gated ? (alert.acknowledged ? "ACKED" : "ALERT") : "WATCH"
        return ["\(level) · \(alert.title)", "\(alert.kind.rawValue) · \(alert.stratum.description)",
                "since \(Timestamp(alert.since).day), \(alert.count) in window, \(alert.referenceCount) in reference", alert.statistic,
                "\(alert.chartLabel); threshold \(MonitorText.number(alert.chartThreshold))"]
    }

    static func fill(_ image: inout RGBImage, _ x0: Int, _ y0: Int, _ w: Int, _ h: Int, _ c: (UInt8, UInt8, UInt8)) {
        for y in max(0, y0)..<min(image.height, y0 + h) {
            for x in max(0, x0)..<min(image.width, x0 + w) {
                let i = (y * image.width + x) * 3
                image.pixels[i] = c.0
                image.pixels[i + 1] = c.1
                image.pixels[i + 2] = c.2
            }
        }
    }

    static func clip(_ text: String, _ pixels: Int, scale: Int) -> String {
        let count = pixels / (6 * scale)
        return text.count <= count ? text : String(text.prefix(max(0, count - 1))) + "…"
    }

    public static func render(_ report: MonitorReport) -> RGBImage {
        let columns = 2
        let rows = max(1, (report.alerts.count + columns - 1) / columns)
        let width = margin + columns * (panelWidth + margin), height = 40 + rows * (panelHeight + margin) + margin
        var image = RGBImage(width: width, height: height, pixels: [UInt8](repeating: 255, count: width * height * 3))
        let ink: (UInt8, UInt8, UInt8) = (20, 20, 20), red: (UInt8, UInt8, UInt8) = (200, 30, 30), grey: (UInt8, UInt8, UInt8) = (150, 150, 150)
        BitmapFont.draw(clip(header(report), width - 2 * margin, scale: 2), x: margin, y: 12, scale: 2, colour: ink, into: &image)
        if report.alerts.isEmpty {
            BitmapFont.draw(clip("No alerts. " + (report.notes.first ?? ""), width - 2 * margin, scale: 1), x: margin, y: 52, colour: ink, into: &image)
        }
        for (index, alert) in report.alerts.enumerated() {
            let x0 = margin + (index % columns) * (panelWidth + margin), y0 = 40 + (index / columns) * (panelHeight + margin)
            let frame = alert.gated ? (alert.acknowledged ? grey : red) : grey
            fill(&image, x0, y0, panelWidth, panelHeight, frame)
            fill(&image, x0 + 3, y0 + 3, panelWidth - 6, panelHeight - 6, (250, 250, 250))
            let texts = panelTexts(alert)
            BitmapFont.draw(clip(texts[0], panelWidth - 20, scale: 2), x: x0 + 10, y: y0 + 10, scale: 2, colour: alert.gated ? red : ink, into: &image)
            for (line, text) in texts.dropFirst().enumerated() {
                BitmapFont.draw(clip(text, panelWidth - 20, scale: 1), x: x0 + 10, y: y0 + 32 + line * 11, colour: ink, into: &image)
            }
            // Bars of the weekly statistic; the threshold a red line across.
            let chartX = x0 + 10, chartY = y0 + 84, chartW = panelWidth - 20, chartH = panelHeight - 96
            fill(&image, chartX, chartY + chartH, chartW, 1, ink)
            let values = alert.series.map(\.value)
            let finite = values.compactMap { $0 }.filter(\.isFinite)
            let top = max(finite.max() ?? 0, alert.chartThreshold.isFinite ? alert.chartThreshold * 1.25 : 0, 1e-12)
            let slot = max(1, chartW / max(1, values.count))
            // Orange: the weeks whose window raised the alert.
            for (k, point) in alert.series.enumerated() {
                guard let value = point.value, value.isFinite else { continue }
                let h = Int((value / top * Double(chartH)).rounded())
                fill(&image, chartX + k * slot + 1, chartY + chartH - h, max(1, slot - 2), h, point.alert ? (230, 120, 60) : (90, 120, 200))
            }
            if alert.chartThreshold.isFinite {
                let y = chartY + chartH - Int((alert.chartThreshold / top * Double(chartH)).rounded())
                var x = chartX
                while x < chartX + chartW {
                    fill(&image, x, y, 6, 2, red)
                    x += 10
                }
            }
        }
        return image
    }
}
