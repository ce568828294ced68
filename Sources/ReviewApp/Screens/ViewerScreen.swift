import Foundation
import LightboxCore
import TerminalUI

/// The viewer: the slice with its overlay layer, the side panel and the decision bar.
enum ViewerScreen {
    static func panelWidth(_ width: Int) -> Int { min(44, max(30, width / 3)) }

    static func draw(_ state: AppState, context: ScreenContext, into buffer: inout ScreenBuffer) {
        let theme = context.theme
        guard let viewer = state.viewer else { return }
        guard let study = state.currentStudy else {
            // The series are loading (or could not be loaded): say so under the study's title.
            let summary = state.currentSummary
            Screens.titleBar("Lightbox · \(summary?.modality ?? "") \(Screens.date(summary?.studyDate ?? "")) · \(state.identifierDisplay.show(summary?.patientName ?? "", personName: true))",
                             state: state, context: context, into: &buffer)
            let retrieving = state.retrievals[viewer.studyInstanceUID].map { "Retrieving the study from \(state.sourceName): \($0.stored) of \($0.total) images…" }
            let text = SafeText.sanitize(viewer.studyError.map { "This study could not be opened: \($0)" } ?? retrieving ?? "Opening the study…")
            for (index, line) in SidePanel.wrap(text, width: max(10, state.width - 8)).enumerated() {
                buffer.put(line, x: 4, y: state.height / 2 + index, style: viewer.studyError == nil ? theme.dimStyle : theme.errorStyle,
                           maxWidth: state.width - 8)
            }
            Screens.statusBar("\(state.keyMap.keyName(.quit)) back", state: state, context: context, into: &buffer)
            return
        }
        let h = study.header
        Screens.titleBar("Lightbox · \(h.modality) \(Screens.date(h.studyDate)) · \(state.identifierDisplay.show(h.patientName, personName: true)) · \(h.studyDescription)",
                         state: state, context: context, into: &buffer)
        let panel = panelWidth(state.width)
        let imageRect = ViewerLayout.imageRect(width: state.width, height: state.height)
        if let compare = state.compare {
            // Side by side: the current slice on the left, the similar case on the right.
            let half = imageRect.width / 2
            drawImage(state, viewer: viewer, context: context, in: Rect(x: imageRect.x, y: imageRect.y, width: half - 1, height: imageRect.height), into: &buffer)
            let right = Rect(x: imageRect.x + half + 1, y: imageRect.y + 1, width: imageRect.width - half - 1, height: imageRect.height - 1)
            buffer.put(SafeText.sanitize(compare.caption), x: right.x, y: imageRect.y, style: theme.accentStyle, maxWidth: right.width)
            if let image = compare.image {
                let window = compare.window ?? WindowPreset.initialWindow(for: image)
                let whole = PixelRegion(x: 0, y: 0, width: image.width, height: image.height)
                let size = ViewerLayout.pictureSize(image, region: whole, in: right, mode: state.cellMode)
                place(SliceRenderer.render(image, window: window, targetWidth: size.width, targetHeight: size.height), in: right, mode: state.cellMode, into: &buffer)
            } else {
                buffer.put("Loading…", x: right.x + max(0, right.width / 2 - 4), y: right.y + right.height / 2, style: theme.dimStyle)
            }
        } else {
            drawImage(state, viewer: viewer, context: context, in: imageRect, into: &buffer)
        }
        let panelRect = Rect(x: state.width - panel, y: 1, width: panel, height: state.height - 3)
        SidePanel.draw(state, context: context, in: panelRect, into: &buffer)
        // Decision bar.
        let keys = state.keyMap
        var decision = "\(keys.keyName(.accept)) accept · \(keys.keyName(.override)) override · \(keys.keyName(.deferStudy)) defer · \(keys.keyName(.similar)) similar"
        var decisionStyle = theme.dimStyle
        if state.save.isSaving {
            decision += " — saving…"
        } else if case .failed(_, let error) = state.save {
            decision = "NOT saved (\(error)) — \(keys.keyName(.retrySave)) retries"
            decisionStyle = theme.errorStyle
        } else if let claim = state.claims[study.studyInstanceUID] {
            decision = "\(context.symbol("◉", "@")) being read by \(claim.reader): viewing only, decisions on it are refused while their claim lasts"
            decisionStyle = theme.warningStyle
        } else if state.activeResult != nil {
            decision += " — on " + (state.currentFinding.map { "finding \($0 + 1)" } ?? "the whole study")
            if let external = state.activeExternal { decision += " of \(external.title)" }
            if let saved = state.decisions[study.studyInstanceUID] {
                decision += " · saved: \(Review.describe(saved)) by \(saved.reader)"
            }
        }
        if let image = viewer.image, viewer.loadedKey == state.currentSlice?.key, let probe = probeText(viewer, image: image) {
            // The probe's read-out takes the decision bar's row while the probe is on.
            decision = probe + " · \(keys.keyName(.setMark)) mark · \(keys.keyName(.toggleProbe)) probe off"
            decisionStyle = theme.accentStyle
        }
        buffer.fill(Rect(x: 0, y: state.height - 2, width: state.width, height: 1), with: Cell(" ", style: theme.textStyle))
        buffer.put(SafeText.sanitize(decision), x: 1, y: state.height - 2, style: decisionStyle, maxWidth: state.width - 2)
        if let prompt = state.overridePrompt { drawOverridePrompt(prompt, context: context, in: imageRect, into: &buffer) }
        if let panel = state.similar { drawSimilar(panel, context: context, in: imageRect, into: &buffer) }
        // Status bar.
        let slices = state.currentSlices.count
        var parts = ["slice \(viewer.sliceIndex + 1)/\(slices)", "series \(viewer.seriesIndex + 1)/\(study.series.count)"]
        if let window = viewer.window {
            parts.append(String(format: "W %.0f L %.0f (%@)", window.width, window.center, viewer.windowName))
        }
        if state.overlayLabel != nil {
            parts.append(viewer.overlayVisible ? "overlay \(Int((viewer.overlayOpacity * 100).rounded()))%\(viewer.contourOnly ? " contour" : "")" : "overlay off")
        }
        if let image = viewer.image, viewer.loadedKey == state.currentSlice?.key {
            if let zoom = zoomText(viewer, image: image) { parts.append(zoom) }
        }
        Screens.statusBar(parts.joined(separator: " · "), right: "\(state.keyMap.keyName(.help)) help · \(state.keyMap.keyName(.quit)) back ", state: state, context: context, into: &buffer)
    }

    /// The override dialog over the image: reasons 1–6, then the comment being typed.
    static func drawOverridePrompt(_ prompt: OverridePrompt, context: ScreenContext, in area: Rect, into buffer: inout ScreenBuffer) {
        let theme = context.theme
        let reasons = OverrideReason.allCases
        let width = min(area.width, 52), height = min(area.height, reasons.count + 7)
        let rect = Rect(x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width: width, height: height)
        buffer.fill(rect, with: Cell(" ", style: theme.textStyle))
        Box.draw(rect, title: "Override the AI result", into: &buffer, style: theme.accentStyle, titleStyle: theme.accentStyle, borders: context.borders)
        var lines: [TextBlock.Line] = [TextBlock.Line(prompt.reason == nil ? "Why? (1-\(reasons.count))" : "Reason:", theme.dimStyle)]
        for (index, reason) in reasons.enumerated() {
            let chosen = prompt.reason == reason
            lines.append(TextBlock.Line("\(chosen ? context.symbol("▶", ">") : " ") \(index + 1) \(reason.label)", chosen ? theme.selectionStyle : theme.textStyle))
        }
        lines.append(TextBlock.Line("", theme.textStyle))
        if prompt.reason != nil {
            lines.append(TextBlock.Line("Comment (optional): " + SafeText.sanitize(prompt.comment) + context.symbol("▏", "_"), theme.textStyle))
            lines.append(TextBlock.Line("Enter saves · Esc cancels", theme.dimStyle))
        } else {
            lines.append(TextBlock.Line("Esc cancels", theme.dimStyle))
        }
        TextBlock(lines: lines).draw(in: rect.inset(1), into: &buffer)
    }

    /// The similar cases over the image: similarity, label, decision, date, source.
    static func drawSimilar(_ panel: SimilarPanel, context: ScreenContext, in area: Rect, into buffer: inout ScreenBuffer) {
        let theme = context.theme
        let width = min(area.width, 76), height = min(area.height, 16)
        let rect = Rect(x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width: width, height: height)
        buffer.fill(rect, with: Cell(" ", style: theme.textStyle))
        Box.draw(rect, title: "Similar cases (cosine, model embedding)", into: &buffer, style: theme.accentStyle, titleStyle: theme.accentStyle,
                 borders: context.borders)
        var lines: [TextBlock.Line] = []
        if let error = panel.error {
            lines.append(TextBlock.Line(SafeText.sanitize(error), theme.errorStyle))
        } else if let cases = panel.cases {
            if cases.isEmpty { lines.append(TextBlock.Line("No other case in the case base for this model yet.", theme.dimStyle)) }
            for (index, item) in cases.enumerated() {
                let r = item.record
                let text = String(format: "%d. %.2f  %@  %@  %@  %@", index + 1, item.similarity, r.label.rawValue, r.decision ?? "no decision",
                                  Screens.date(r.date), r.source.rawValue)
                lines.append(TextBlock.Line(SafeText.sanitize(text), index == panel.selected ? theme.selectionStyle : theme.textStyle))
                lines.append(TextBlock.Line("   " + SafeText.sanitize(r.summary), theme.dimStyle))
            }
            lines.append(TextBlock.Line("", theme.textStyle))
            lines.append(TextBlock.Line("↑/↓ choose · Enter shows it beside this study · Esc closes", theme.dimStyle))
        } else {
            lines.append(TextBlock.Line(context.symbol("… searching the case base", "... searching the case base"), theme.dimStyle))
        }
        TextBlock(lines: lines).draw(in: rect.inset(1), into: &buffer)
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
        guard let window = viewer.window, let image = viewer.image, viewer.loadedKey == slice.key else {
            centred("Loading…", theme.dimStyle)
            return
        }
        let mode = state.cellMode
        // The view: the region of the full-resolution slice on screen (the whole slice at 1×).
        let region = viewer.viewport.region(width: image.width, height: image.height)
        // True pixels (Kitty, Sixel) unless a dialog covers the image: then cells, under the dialog.
        let pixels = state.pixelPictureCell.map { ViewerLayout.graphicsPicture(image, region: region, in: rect, cell: $0) }
        let size = pixels.map { ($0.width, $0.height) } ?? ViewerLayout.pictureSize(image, region: region, in: rect, mode: mode)
        // The overlay arrives as a message like the slice; nothing here reads a store.
        let heatmap = viewer.overlayKey == slice.key ? viewer.overlay : nil
        let overlayOn = viewer.overlayVisible && heatmap != nil
        let key = ScreenContext.PictureKey(slice: slice.key, window: window, width: size.0, height: size.1, region: region,
                                           overlay: overlayOn, opacity: viewer.overlayOpacity, contour: viewer.contourOnly)
        var picture: RGBImage
        if let last = context.lastPicture, last.key == key {
            picture = last.picture
        } else {
            var rendered = SliceRenderer.render(image, window: window, region: region, targetWidth: size.0, targetHeight: size.1)
            if overlayOn, let heatmap {
                rendered = OverlayBlender.blend(rendered, heatmap: heatmap, colormap: context.theme.colormap,
                                                opacity: viewer.overlayOpacity, contourOnly: viewer.contourOnly,
                                                region: region.normalised(imageWidth: image.width, imageHeight: image.height))
            }
            picture = rendered
            context.lastPicture = (key, rendered)
        }
        var marks = ""
        if let probe = viewer.probe {
            // The probe's cross (and the second point's) over the picture, never over the memo.
            let scale = max(1, size.0 / 120)
            if let mark = probe.mark, mark.sliceIndex == viewer.sliceIndex {
                drawCross(&picture, at: pictureCoordinate(mark.x, mark.y, region: region, size: size), colour: (0, 200, 255), scale: scale)
                marks += " mark \(mark.x),\(mark.y)"
            }
            drawCross(&picture, at: pictureCoordinate(probe.x, probe.y, region: region, size: size), colour: (255, 230, 0), scale: scale)
            marks += " probe \(probe.x),\(probe.y)"
        }
        if let pixels {
            // Blank cells under the picture; the backend draws it in true pixels over them.
            let cells = Rect(x: rect.x + max(0, (rect.width - pixels.columns) / 2), y: rect.y + max(0, (rect.height - pixels.rows) / 2),
                             width: pixels.columns, height: pixels.rows)
            buffer.fill(cells, with: Cell(" ", style: context.theme.textStyle))
            buffer.pictures.append(PlacedPicture(cells: cells, picture: picture, key: "\(key)\(marks)"))
            return
        }
        place(picture, in: rect, mode: mode, into: &buffer)
    }

    /// Where image pixel (x, y) lands in a picture of `size` showing `region`.
    static func pictureCoordinate(_ x: Int, _ y: Int, region: PixelRegion, size: (width: Int, height: Int)) -> (x: Int, y: Int) {
        (Int((Double(x - region.x) + 0.5) * Double(size.width) / Double(region.width)),
         Int((Double(y - region.y) + 0.5) * Double(size.height) / Double(region.height)))
    }

    /// A small cross around (but not on) a picture pixel, so the pixel itself stays visible.
    static func drawCross(_ picture: inout RGBImage, at point: (x: Int, y: Int), colour: (UInt8, UInt8, UInt8), scale: Int = 1) {
        // Arms from `scale` to 3·scale − 1 pixels out (1 and 2 in cells), a centre gap of the same size.
        var offsets: [(Int, Int)] = []
        for d in scale..<(3 * scale) { offsets += [(-d, 0), (d, 0), (0, -d), (0, d)] }
        for (dx, dy) in offsets {
            let x = point.x + dx, y = point.y + dy
            guard x >= 0, y >= 0, x < picture.width, y < picture.height else { continue }
            let i = (y * picture.width + x) * 3
            picture.pixels[i] = colour.0; picture.pixels[i + 1] = colour.1; picture.pixels[i + 2] = colour.2
        }
    }

    /// "zoom 4× · x 128–255 y 128–255 (64×64 mm)" while zoomed in; nil at 1×.
    static func zoomText(_ viewer: ViewerState, image: DecodedImage) -> String? {
        guard !viewer.viewport.isWhole else { return nil }
        let r = viewer.viewport.region(width: image.width, height: image.height)
        var text = "zoom \(viewer.viewport.zoom)× x \(r.x)–\(r.x + r.width - 1) y \(r.y)–\(r.y + r.height - 1)"
        if let spacing = image.header.pixelSpacing, spacing.count == 2 {
            text += String(format: " (%.0f×%.0f mm)", Double(r.width) * spacing[1], Double(r.height) * spacing[0])
        }
        if viewer.followFinding { text += " · following findings" }
        return text
    }

    /// The probe's read-out: position in pixels and mm, the modality value, the heat, the distance.
    static func probeText(_ viewer: ViewerState, image: DecodedImage) -> String? {
        guard let probe = viewer.probe else { return nil }
        let h = image.header
        var text = "probe (\(probe.x), \(probe.y)) px"
        if let p = PixelGeometryMath.patientPosition(h, x: Double(probe.x), y: Double(probe.y)) {
            text += String(format: " (%.1f, %.1f, %.1f) mm", p[0], p[1], p[2])
        }
        let frame = viewer.loadedKey?.frame ?? 0
        let values = image.frame(image.frames > 1 ? frame : 0)
        let base = values.startIndex + (probe.y * image.width + probe.x) * image.channels
        if image.channels == 3 {
            text += String(format: " RGB %.0f,%.0f,%.0f", values[base], values[base + 1], values[base + 2])
        } else {
            let unit = h.modality == "CT" && (h.rescaleType.isEmpty || h.rescaleType == "HU") ? " HU" : (h.rescaleType.isEmpty ? "" : " \(h.rescaleType)")
            text += String(format: " %@%@", Self.number(Double(values[base])), unit)
        }
        if let heatmap = viewer.overlay, viewer.overlayKey == viewer.loadedKey {
            let value = heatmap.value(atX: (Double(probe.x) + 0.5) / Double(image.width), y: (Double(probe.y) + 0.5) / Double(image.height))
            text += String(format: " heat %.2f", value)
        }
        if let mark = probe.mark {
            let here = PixelGeometryMath.patientPosition(h, x: Double(probe.x), y: Double(probe.y))
            if let a = mark.patient, let b = here {
                let d = zip(a, b).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
                text += String(format: " · %.1f mm to the mark", d)
            } else if mark.sliceIndex == viewer.sliceIndex,
                      let d = PixelGeometryMath.inPlaneDistance(h, from: (mark.x, mark.y), to: (probe.x, probe.y)) {
                text += String(format: " · %.1f mm to the mark", d)
            } else if mark.sliceIndex == viewer.sliceIndex {
                text += " · no spacing: distance unknown (\(abs(probe.x - mark.x)), \(abs(probe.y - mark.y)) px)"
            } else {
                text += " · the mark is on image \(mark.sliceIndex + 1), no position to measure across"
            }
        }
        return text
    }

    /// A modality value without needless decimals (integers as integers).
    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e9 ? String(format: "%.0f", value) : String(format: "%.4g", value)
    }

    /// Draws a picture centred in `rect`.
    static func place(_ picture: RGBImage, in rect: Rect, mode: ImageCellMode, into buffer: inout ScreenBuffer) {
        let cellRows = (picture.height + mode.pixelsPerRow - 1) / mode.pixelsPerRow
        let cellColumns = (picture.width + mode.pixelsPerColumn - 1) / mode.pixelsPerColumn
        let x = rect.x + max(0, (rect.width - cellColumns) / 2)
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
        let ai = aiLines(state, viewer: viewer, study: study, width: aiRect.width - 2, context: context)
        TextBlock(lines: ai).draw(in: aiRect.inset(1), into: &buffer)
    }

    /// The AI panel: calibrated probability, tier (symbol and text), why a result is Review,
    /// findings, each model's contribution; or why there is no result.
    /// The keys that walk the findings, as the key map has them ("n/p").
    static func findingKeys(_ state: AppState) -> String {
        "\(state.keyMap.keyName(.nextFinding))/\(state.keyMap.keyName(.previousFinding))"
    }

    static func aiLines(_ state: AppState, viewer: ViewerState, study: Study, width: Int, context: ScreenContext) -> [TextBlock.Line] {
        let own = state.activeExternal.map { externalDetail($0, state: state, width: width, context: context) }
            ?? modelLines(state, viewer: viewer, study: study, width: width, context: context)
        return own + sourceLines(state, viewer: viewer, study: study, width: width, context: context)
            + verdictLines(state, study: study, width: width, context: context)
    }

    /// Every AI result of the study, the one on screen marked: the embedded models', then each
    /// other system's (its objects, its tier or that it gave no confidence).
    static func sourceLines(_ state: AppState, viewer: ViewerState, study: Study, width: Int, context: ScreenContext) -> [TextBlock.Line] {
        let theme = context.theme
        let externals = state.externalResults[study.studyInstanceUID] ?? []
        let problems = state.externalProblems[study.studyInstanceUID] ?? []
        guard !externals.isEmpty || !problems.isEmpty else { return [] }
        var lines: [TextBlock.Line] = [TextBlock.Line("", theme.textStyle),
                                       TextBlock.Line("AI results (\(state.keyMap.keyName(.cycleSource)) switches):", theme.dimStyle)]
        func add(_ text: String, _ style: CellStyle) {
            for part in wrap(SafeText.sanitize(text), width: width) { lines.append(TextBlock.Line(part, style)) }
        }
        let mark = context.symbol("▸", ">")
        if state.model.isReady {
            let models = state.results[study.studyInstanceUID].map { "\($0.tier.rawValue), \($0.findings.count) finding(s)" } ?? "analysing"
            add("\(viewer.activeSource == 0 ? mark : " ") embedded model · \(models)", viewer.activeSource == 0 ? theme.accentStyle : theme.textStyle)
        }
        for (index, external) in externals.enumerated() {
            let active = viewer.activeSource == index + 1
            let confidence = external.confidenceGiven ? external.result.tier.rawValue : "no confidence"
            add("\(active ? mark : " ") \(external.title) (\(external.objectKinds)) · \(confidence), \(external.findings.count) finding(s)",
                active ? theme.accentStyle : theme.textStyle)
        }
        if state.sourcesDisagree(study.studyInstanceUID) { add("The sources disagree: some found something, some nothing", theme.warningStyle) }
        for problem in problems.prefix(2) { add("! \(problem)", theme.warningStyle) }
        if problems.count > 2 { add("… and \(problems.count - 2) more unreadable object(s)", theme.dimStyle) }
        return lines
    }

    /// The external result on screen: who made it, its confidence (or that it gave none), its
    /// findings in this series, what could not be placed and what is wrong in its objects.
    static func externalDetail(_ external: ExternalResult, state: AppState, width: Int, context: ScreenContext) -> [TextBlock.Line] {
        let theme = context.theme
        var lines: [TextBlock.Line] = []
        func add(_ text: String, _ style: CellStyle) {
            for part in wrap(SafeText.sanitize(text), width: width) { lines.append(TextBlock.Line(part, style)) }
        }
        let result = external.result
        let tierStyle = CellStyle(foreground: result.tier == .high ? theme.tierHigh : (result.tier == .medium ? theme.tierMedium : theme.tierReview),
                                  background: theme.background, attributes: .bold)
        add(external.title, theme.accentStyle)
        add("another system's result (\(external.objectKinds))", theme.dimStyle)
        if external.confidenceGiven {
            let symbol = result.tier.symbol(unicode: context.capabilities.unicode)
            add("\(symbol) \(result.tier == .review ? "Review" : result.tier == .high ? "High" : "Medium") · \(String(format: "%.0f%%", result.probability * 100)) (the source's own probability, not calibrated here)", tierStyle)
        } else {
            add("? Review: \(ExternalResult.noConfidence)", tierStyle)
        }
        let series = state.currentSeries?.seriesInstanceUID
        let here = result.findings.indices.filter { result.findings[$0].seriesInstanceUID == series }
        if here.isEmpty {
            add(result.findings.isEmpty ? "No finding placed on this study" : "No finding in this series (\(result.findings.count) in others)", theme.dimStyle)
        } else {
            lines.append(TextBlock.Line("Findings (\(findingKeys(state))):", theme.dimStyle))
            for (number, index) in here.prefix(6).enumerated() {
                let f = result.findings[index].finding
                let finding = external.findings[index]
                let range = f.firstSlice == f.lastSlice ? "image \(f.firstSlice + 1)" : "images \(f.firstSlice + 1)–\(f.lastSlice + 1)"
                var words = ["\(number + 1). \(finding.label)", range]
                if let probability = finding.probability { words.append(String(format: "p %.2f", probability)) }
                words += finding.measurements.prefix(1)
                add(words.joined(separator: " · "), state.currentFinding == index ? theme.accentStyle : theme.textStyle)
            }
            if here.count > 6 { add("… and \(here.count - 6) more", theme.dimStyle) }
        }
        for item in external.unplaced.prefix(2) { add("Not placed: \(item)", theme.warningStyle) }
        if external.unplaced.count > 2 { add("… and \(external.unplaced.count - 2) more not placed", theme.dimStyle) }
        for problem in external.problems.prefix(2) { add("! \(problem)", theme.warningStyle) }
        if external.problems.count > 2 { add("… and \(external.problems.count - 2) more problem(s)", theme.dimStyle) }
        add("Overlay (\(state.keyMap.keyName(.toggleOverlay))): \(external.contour ? "its segments as contours" : "its map"). Research tool, not a diagnosis.", theme.dimStyle)
        return lines
    }

    /// The verdict SRs the study holds in its PACS, and why the last push failed: with or
    /// without a model.
    static func verdictLines(_ state: AppState, study: Study, width: Int, context: ScreenContext) -> [TextBlock.Line] {
        let theme = context.theme
        var lines: [TextBlock.Line] = []
        func add(_ text: String, _ style: CellStyle) {
            for part in wrap(SafeText.sanitize(text), width: width) { lines.append(TextBlock.Line(part, style)) }
        }
        if let reports = state.pacsVerdicts[study.studyInstanceUID], !reports.isEmpty {
            lines.append(TextBlock.Line("Verdicts in the PACS:", theme.dimStyle))
            for report in reports.suffix(3) { add(report.summary, theme.textStyle) }
            if reports.count > 3 { add("… and \(reports.count - 3) earlier", theme.dimStyle) }
        }
        if let problem = state.verdictPushProblem { add(problem, theme.warningStyle) }
        return lines
    }

    static func modelLines(_ state: AppState, viewer: ViewerState, study: Study, width: Int, context: ScreenContext) -> [TextBlock.Line] {
        let theme = context.theme
        var ai: [TextBlock.Line] = []
        func add(_ text: String, _ style: CellStyle) {
            for part in wrap(SafeText.sanitize(text), width: width) { ai.append(TextBlock.Line(part, style)) }
        }
        guard state.model.isReady else {
            ai.append(TextBlock.Line(context.symbol("○ No model", "- No model"), theme.warningStyle))
            if case .none(let reason) = state.model { add(reason, theme.textStyle) }
            if let label = state.overlayLabel {
                ai.append(TextBlock.Line("", theme.textStyle))
                ai.append(TextBlock.Line("Overlay (\(state.keyMap.keyName(.toggleOverlay))):", theme.dimStyle))
                add(label, theme.textStyle)
                let findings = viewer.findingSlices
                if !findings.isEmpty {
                    add("on images " + findings.map { String($0 + 1) }.joined(separator: ", ") + " (\(findingKeys(state)))", theme.textStyle)
                }
            }
            return ai
        }
        guard let result = state.results[study.studyInstanceUID] else {
            if let error = state.analysisErrors[study.studyInstanceUID] {
                ai.append(TextBlock.Line("! No AI result", theme.errorStyle))
                add(error, theme.textStyle)
            } else {
                ai.append(TextBlock.Line(context.symbol("… Analysing this study", "... Analysing this study"), theme.dimStyle))
            }
            return ai
        }
        let tierStyle = CellStyle(foreground: result.tier == .high ? theme.tierHigh : (result.tier == .medium ? theme.tierMedium : theme.tierReview),
                                  background: theme.background, attributes: .bold)
        let unicode = context.capabilities.unicode
        switch result.tier {
        case .high: ai.append(TextBlock.Line("\(result.tier.symbol(unicode: unicode)) High confidence", tierStyle))
        case .medium: ai.append(TextBlock.Line("\(result.tier.symbol(unicode: unicode)) Medium confidence", tierStyle))
        case .review:
            ai.append(TextBlock.Line("? Review", tierStyle))
            add("human review recommended", tierStyle)
        }
        if result.imagesAnalysed > 0 {
            add(String(format: "Abnormal: %.0f%% (calibrated)", result.probability * 100), theme.textStyle)
        }
        if let reason = result.reason { add(reason, theme.warningStyle) }
        let series = state.currentSeries
        let here = result.findings.filter { $0.seriesInstanceUID == series?.seriesInstanceUID }
        if result.imagesAnalysed > 0 {
            if here.isEmpty {
                add(result.findings.isEmpty ? "No finding above the model's threshold" : "No finding in this series (\(result.findings.count) in others)", theme.dimStyle)
            } else {
                ai.append(TextBlock.Line("Findings (\(findingKeys(state))):", theme.dimStyle))
                for (number, item) in here.prefix(5).enumerated() {
                    let f = item.finding
                    let range = f.firstSlice == f.lastSlice ? "image \(f.firstSlice + 1)" : "images \(f.firstSlice + 1)–\(f.lastSlice + 1)"
                    // The heatmap's own peak (0–1, not calibrated): not on the scale of the study's probability.
                    add(String(format: "%d. %@ · heat %.2f", number + 1, range, f.peak), theme.textStyle)
                }
                if here.count > 5 { add("… and \(here.count - 5) more", theme.dimStyle) }
            }
        }
        if !result.contributions.isEmpty {
            ai.append(TextBlock.Line(result.contributions.count > 1 ? "Models (weight):" : "Model:", theme.dimStyle))
            for c in result.contributions {
                add(result.contributions.count > 1 ? String(format: "%@ %.0f%% · w %.2f", c.model, c.probability * 100, c.weight)
                    : c.model, theme.textStyle)
            }
        }
        add("Overlay (\(state.keyMap.keyName(.toggleOverlay))): the model's heatmap. Research tool, not a diagnosis.", theme.dimStyle)
        return ai
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
