import Foundation
import LightboxCore
import TerminalUI

/// The viewer: the slice with its overlay layer, the side panel and the decision bar.
enum ViewerScreen {
    static func panelWidth(_ width: Int) -> Int { min(44, max(30, width / 3)) }

    static func draw(_ state: AppState, context: ScreenContext, into buffer: inout ScreenBuffer) {
        let theme = context.theme
        guard let viewer = state.viewer, let study = state.currentStudy else { return }
        let h = study.header
        Screens.titleBar("Lightbox · \(h.modality) \(Screens.date(h.studyDate)) · \(state.identifierDisplay.show(h.patientName, personName: true)) · \(h.studyDescription)",
                         state: state, context: context, into: &buffer)
        let panel = panelWidth(state.width)
        let imageRect = Rect(x: 1, y: 1, width: state.width - panel - 2, height: state.height - 3)
        drawImage(state, viewer: viewer, context: context, in: imageRect, into: &buffer)
        let panelRect = Rect(x: state.width - panel, y: 1, width: panel, height: state.height - 3)
        SidePanel.draw(state, context: context, in: panelRect, into: &buffer)
        // Decision bar.
        let keys = state.keyMap
        let decision = "\(keys.keyName(.accept)) accept · \(keys.keyName(.override)) override · \(keys.keyName(.deferStudy)) defer · \(keys.keyName(.similar)) similar  (decisions: coming release)"
        buffer.fill(Rect(x: 0, y: state.height - 2, width: state.width, height: 1), with: Cell(" ", style: theme.textStyle))
        buffer.put(decision, x: 1, y: state.height - 2, style: theme.dimStyle, maxWidth: state.width - 2)
        // Status bar.
        let slices = state.currentSlices.count
        var parts = ["slice \(viewer.sliceIndex + 1)/\(slices)", "series \(viewer.seriesIndex + 1)/\(study.series.count)"]
        if let window = viewer.window {
            parts.append(String(format: "W %.0f L %.0f (%@)", window.width, window.center, viewer.windowName))
        }
        if state.overlayLabel != nil {
            parts.append(viewer.overlayVisible ? "overlay \(Int((viewer.overlayOpacity * 100).rounded()))%\(viewer.contourOnly ? " contour" : "")" : "overlay off")
        }
        Screens.statusBar(parts.joined(separator: " · "), right: "? help · q back ", state: state, context: context, into: &buffer)
    }

    static func drawImage(_ state: AppState, viewer: ViewerState, context: ScreenContext, in rect: Rect, into buffer: inout ScreenBuffer) {
        let theme = context.theme
        func centred(_ text: String, _ style: CellStyle) {
            let shown = SafeText.sanitize(text)
            buffer.put(shown, x: rect.x + max(0, (rect.width - shown.count) / 2), y: rect.y + rect.height / 2, style: style, maxWidth: rect.width)
        }
        guard let slice = state.currentSlice else { centred("No images in this series", theme.textStyle); return }
        if let error = viewer.sliceError {
            let lines = SidePanel.wrap(SafeText.sanitize(error), width: max(10, rect.width - 4))
            for (index, line) in lines.prefix(rect.height).enumerated() {
                buffer.put(line, x: rect.x + 2, y: rect.y + max(0, rect.height / 2 - lines.count / 2) + index, style: theme.errorStyle, maxWidth: rect.width - 4)
            }
            return
        }
        // A slice already decoded is drawn at once; the window is the series' (set by its first image).
        guard let window = viewer.window, let image = context.store.image(slice.key) else {
            centred("Loading…", theme.dimStyle)
            return
        }
        let mode = context.imageMode
        let size: (width: Int, height: Int)
        if mode == .halfBlock {
            size = GridFit.fitCells(width: image.width, height: image.height, pixelAspect: image.header.pixelAspectRatio,
                                    columns: rect.width, rows: rect.height)
        } else {
            size = GridFit.fit(width: image.width, height: image.height, pixelAspect: image.header.pixelAspectRatio * 2,
                               maxWidth: rect.width, maxHeight: rect.height)
        }
        let overlayOn = viewer.overlayVisible && context.heatmaps != nil
        let key = ScreenContext.PictureKey(slice: slice.key, window: window, width: size.width, height: size.height,
                                           overlay: overlayOn, opacity: viewer.overlayOpacity, contour: viewer.contourOnly)
        let picture: RGBImage
        if let last = context.lastPicture, last.key == key {
            picture = last.picture
        } else {
            var rendered = SliceRenderer.render(image, window: window, targetWidth: size.width, targetHeight: size.height)
            if overlayOn, let heatmap = context.heatmaps?.heatmap(for: slice.header, frame: slice.key.frame) {
                rendered = OverlayBlender.blend(rendered, heatmap: heatmap, colormap: context.theme.colormap,
                                                opacity: viewer.overlayOpacity, contourOnly: viewer.contourOnly)
            }
            picture = rendered
            context.lastPicture = (key, rendered)
        }
        let cellRows = (picture.height + mode.pixelsPerRow - 1) / mode.pixelsPerRow
        let x = rect.x + max(0, (rect.width - picture.width) / 2)
        let y = rect.y + max(0, (rect.height - cellRows) / 2)
        ImageView.draw(picture, at: x, y: y, mode: mode, into: &buffer)
    }
}

/// The side panel: study facts, then the AI result.
enum SidePanel {
    static func draw(_ state: AppState, context: ScreenContext, in rect: Rect, into buffer: inout ScreenBuffer) {
        let theme = context.theme
        guard let study = state.currentStudy, let viewer = state.viewer else { return }
        let slice = state.currentSlice
        let h = slice?.header ?? study.header
        let ids = state.identifierDisplay
        func row(_ label: String, _ value: String) -> TextBlock.Line {
            TextBlock.Line([(label.padding(toLength: 10, withPad: " ", startingAt: 0), theme.dimStyle), (SafeText.sanitize(value), theme.textStyle)])
        }
        let series = state.currentSeries?.header ?? h
        var facts: [TextBlock.Line] = [
            row("Patient", ids.show(h.patientName, personName: true)),
            row("ID", ids.show(h.patientID)),
            row("Sex", h.patientSex.isEmpty ? "—" : h.patientSex),
            row("Study", "\(Screens.date(h.studyDate)) \(h.modality)"),
            row("Accession", ids.show(h.accessionNumber)),
            row("Body part", h.bodyPartExamined.isEmpty ? "—" : h.bodyPartExamined),
            row("", h.studyDescription),
            row("Series", "\(viewer.seriesIndex + 1)/\(study.series.count) \(series.seriesDescription)"),
            row("Image", "\(viewer.sliceIndex + 1)/\(state.currentSlices.count)\(h.numberOfFrames > 1 ? " (frame \((slice?.key.frame ?? 0) + 1))" : "")"),
            row("Size", "\(h.columns)×\(h.rows)" + (h.pixelSpacing.map { String(format: " · %.2g×%.2g mm", $0[1], $0[0]) } ?? "")),
        ]
        if let z = h.imagePositionPatient?[2] {
            facts.append(row("Position", String(format: "z %.1f mm", z) + (h.sliceThickness.map { String(format: " · %.1f mm thick", $0) } ?? "")))
        }
        if let window = viewer.window {
            facts.append(row("Window", String(format: "%.0f / %.0f (%@)", window.center, window.width, viewer.windowName)))
        }
        let studyHeight = min(facts.count + 2, rect.height / 2 + 3)
        let studyRect = Rect(x: rect.x, y: rect.y, width: rect.width, height: studyHeight)
        Box.draw(studyRect, title: "Study", into: &buffer, style: theme.borderStyle, titleStyle: theme.accentStyle, borders: context.borders)
        TextBlock(lines: facts).draw(in: studyRect.inset(1), into: &buffer)

        let aiRect = Rect(x: rect.x, y: rect.y + studyHeight, width: rect.width, height: rect.height - studyHeight)
        Box.draw(aiRect, title: "AI result", into: &buffer, style: theme.borderStyle, titleStyle: theme.accentStyle, borders: context.borders)
        var ai: [TextBlock.Line] = [
            TextBlock.Line(context.symbol("○ No model", "- No model"), theme.warningStyle),
            TextBlock.Line("No AI result for this study:", theme.textStyle),
            TextBlock.Line("the inference engine is not", theme.textStyle),
            TextBlock.Line("part of this build.", theme.textStyle),
        ]
        if let label = state.overlayLabel {
            ai.append(TextBlock.Line("", theme.textStyle))
            ai.append(TextBlock.Line("Overlay (g):", theme.dimStyle))
            for part in wrap(label, width: aiRect.width - 2) { ai.append(TextBlock.Line(part, theme.textStyle)) }
            let findings = viewer.findingSlices
            if !findings.isEmpty {
                ai.append(TextBlock.Line("on images " + findings.map { String($0 + 1) }.joined(separator: ", ") + " (n/p)", theme.textStyle))
            }
        }
        TextBlock(lines: ai).draw(in: aiRect.inset(1), into: &buffer)
    }

    /// Splits text into lines of at most `width` characters at spaces.
    static func wrap(_ text: String, width: Int) -> [String] {
        guard width > 4 else { return [text] }
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ") {
            if current.isEmpty { current = String(word) }
            else if current.count + 1 + word.count <= width { current += " " + word }
            else { lines.append(current); current = String(word) }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }
}
