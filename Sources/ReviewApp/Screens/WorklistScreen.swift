import LightboxCore
import TerminalUI

/// The worklist: one row per study, sortable and filterable; identifiers masked by default.
enum WorklistScreen {
    /// The modalities a row shows: reports, key object selections and presentation states (a
    /// verdict SR, say) are not what the reader looks for in the list, so only the images'
    /// unless there is nothing else.
    static func shownModalities(_ modalities: [String]) -> [String] {
        let images = modalities.filter { !["SR", "KO", "PR", "SEG"].contains($0) }
        return images.isEmpty ? modalities : images
    }

    static func draw(_ state: AppState, context: ScreenContext, into buffer: inout ScreenBuffer) {
        let theme = context.theme
        Screens.titleBar("Lightbox · worklist · \(state.sourceName)", state: state, context: context, into: &buffer)
        // Row 1: filter line.
        if let draft = state.filterDraft {
            let end = buffer.put("Filter: ", x: 1, y: 1, style: theme.accentStyle)
            let textEnd = buffer.put(SafeText.sanitize(draft), x: end, y: 1, style: theme.textStyle)
            buffer.put(context.symbol("▏", "_"), x: textEnd, y: 1, style: theme.accentStyle)
            buffer.put("Enter apply · Esc cancel", x: max(textEnd + 3, state.width - 26), y: 1, style: theme.dimStyle)
        } else if let alert = state.alertFilter {
            buffer.put(SafeText.sanitize("Alert \(alert.alertID): \(state.visible.count) studies · \(alert.label)  (\(state.keyMap.keyName(.clearFilter)) shows all)"),
                       x: 1, y: 1, style: theme.warningStyle, maxWidth: state.width - 2)
        } else if !state.filter.isEmpty {
            buffer.put("Filter: \(SafeText.sanitize(state.filter))  (/ to change)", x: 1, y: 1, style: theme.accentStyle)
        } else {
            var header = "\(state.studies.count) studies\(state.loading ? " so far, more arriving" : "") · sort: \(state.sort.rawValue) · identifiers \(state.showIdentifiers ? "shown" : "masked")"
            if state.failedFiles > 0 {
                header += " · \(state.failedFiles) file(s) could not be read (\(state.keyMap.keyName(.problems)) lists them)"
            }
            if !state.claims.isEmpty {
                header += " · \(state.claims.count) being read by others"
            }
            if state.sort == .priority, state.results.values.contains(where: { $0.reason != nil }) {
                header += " · \(outsideMark(context)) outside the model's domain, ranked after judged studies"
            }
            // Open monitoring alerts first, so they are not cut off.
            if let report = state.monitorReport, !report.openAlerts.isEmpty {
                let alerts = "\(context.symbol("▲", "!")) \(report.openAlerts.count) open monitoring alert(s) (\(state.keyMap.keyName(.monitor)))  "
                let end = buffer.put(alerts, x: 1, y: 1, style: theme.warningStyle, maxWidth: state.width - 2)
                buffer.put(header, x: end, y: 1, style: theme.dimStyle, maxWidth: max(0, state.width - 1 - end))
            } else {
                buffer.put(header, x: 1, y: 1, style: theme.dimStyle, maxWidth: state.width - 2)
            }
        }
        let tableRect = Rect(x: 1, y: 2, width: state.width - 2, height: state.height - 3)
        if state.loading && state.studies.isEmpty {
            let progress = state.loadProgress.map { " \($0.done)/\($0.total) files" } ?? ""
            buffer.put("Scanning \(SafeText.sanitize(state.sourceName))…\(progress)", x: 2, y: 3, style: theme.textStyle)
        } else if let error = state.loadError {
            buffer.put(SafeText.sanitize(error), x: 2, y: 3, style: theme.errorStyle, maxWidth: state.width - 4)
        } else if state.visible.isEmpty {
            buffer.put(state.studies.isEmpty ? "No studies found." : "No study matches the filter.", x: 2, y: 3, style: theme.textStyle)
        } else {
            table(state, context: context).draw(in: tableRect, into: &buffer)
        }
        if let prompt = state.claimPrompt { claimPrompt(prompt, state: state, context: context, into: &buffer) }
        // Hints name the keys the map gives, so rebinding keeps them true.
        let keys = state.keyMap
        var hint = "\(keys.keyName(.open)) open · \(keys.keyName(.filter)) filter · \(keys.keyName(.cycleSort)) sort · "
            + "\(keys.keyName(.toggleIdentifiers)) identifiers · \(keys.keyName(.help)) help · \(keys.keyName(.quit)) quit"
        if state.failedFiles > 0 { hint = "\(state.failedFiles) file(s) unreadable (\(keys.keyName(.problems)) lists them) · " + hint }
        Screens.statusBar(hint, right: "\(min(state.selectedRow + 1, state.visible.count))/\(state.visible.count) ",
                          state: state, context: context, into: &buffer)
    }

    /// Status as symbol and text (never colour alone).
    static func statusCell(_ status: ReviewStatus, context: ScreenContext) -> String {
        switch status {
        case .accepted: context.symbol("✓ accepted", "+ accepted")
        case .overridden: context.symbol("✗ overridden", "x overridden")
        case .deferred: context.symbol("↷ deferred", "> deferred")
        case .viewed: context.symbol("◐ viewed", "o viewed")
        case .new: context.symbol("● new", "* new")
        }
    }

    /// The description, after "being read by NAME" while another reader holds the study.
    static func readingCell(_ state: AppState, _ study: StudySummary, context: ScreenContext) -> String {
        guard let claim = state.claims[study.studyInstanceUID] else { return SafeText.sanitize(study.studyDescription) }
        return SafeText.sanitize("\(context.symbol("◉", "@")) being read by \(claim.reader) · \(study.studyDescription)")
    }

    /// The question before opening a study another reader holds.
    static func claimPrompt(_ prompt: ClaimPrompt, state: AppState, context: ScreenContext, into buffer: inout ScreenBuffer) {
        let theme = context.theme
        let boxWidth = min(state.width - 2, 80), boxHeight = 7
        let rect = Rect(x: (state.width - boxWidth) / 2, y: max(1, (state.height - boxHeight) / 2), width: boxWidth, height: boxHeight)
        buffer.fill(rect, with: Cell(" ", style: theme.textStyle))
        Box.draw(rect, title: "Being read", into: &buffer, style: theme.warningStyle, titleStyle: theme.warningStyle, borders: context.borders)
        let description = state.row(of: prompt.claim.studyInstanceUID).flatMap { state.visibleStudy(at: $0) }.map { SafeText.sanitize($0.studyDescription) } ?? ""
        TextBlock(lines: [
            TextBlock.Line(SafeText.sanitize("\(prompt.claim.reader) is reading this study (\(description))."), theme.textStyle),
            TextBlock.Line("Open it to view? Your decisions on it are refused while their claim lasts.", theme.dimStyle),
            TextBlock.Line("", theme.textStyle),
            TextBlock.Line("y open to view · n leave it", theme.accentStyle),
        ]).draw(in: rect.inset(1), into: &buffer)
    }

    /// The mark of a result the domain guard sent to Review.
    static func outsideMark(_ context: ScreenContext) -> String { context.symbol("⊘", "(x)") }

    /// The Priority and AI cells of a study: calibrated probability, tier as symbol and text. A
    /// result outside the model's domain shows its probability in brackets with the mark: it is
    /// ranked after every study the model could judge, whatever its number.
    static func aiColumns(_ state: AppState, _ study: StudySummary, context: ScreenContext) -> (String, String) {
        let (priority, ai) = ownColumns(state, study, context: context)
        // Other systems' results (known once the study was opened): ≠ when the sources disagree.
        guard let externals = state.externalResults[study.studyInstanceUID], !externals.isEmpty else { return (priority, ai) }
        let mark = state.sourcesDisagree(study.studyInstanceUID) ? context.symbol(" ≠", " !=") : " +\(externals.count)"
        guard state.model.isReady else {
            let first = externals.first { $0.confidenceGiven } ?? externals[0]
            let tier = first.confidenceGiven ? "\(first.result.tier.symbol(unicode: context.capabilities.unicode)) \(first.result.tier.rawValue.capitalized)" : "? Review"
            return (first.confidenceGiven ? String(format: "%.0f%%", first.result.probability * 100) : "—", tier + mark)
        }
        return (priority, ai + mark)
    }

    static func ownColumns(_ state: AppState, _ study: StudySummary, context: ScreenContext) -> (String, String) {
        guard state.model.isReady else { return ("—", context.symbol("○ no model", "- no model")) }
        if let result = state.results[study.studyInstanceUID] {
            if result.reason != nil {
                let value = result.imagesAnalysed == 0 ? "—" : String(format: "(%.0f%%)", result.probability * 100)
                return (value, "\(outsideMark(context)) outside")
            }
            let tier = "\(result.tier.symbol(unicode: context.capabilities.unicode)) \(result.tier == .review ? "Review" : result.tier.rawValue.capitalized)"
            return (result.imagesAnalysed == 0 ? "—" : String(format: "%.0f%%", result.probability * 100), tier)
        }
        if state.analysisErrors[study.studyInstanceUID] != nil { return ("—", "! AI failed") }
        // With background analysis off, a study is analysed when it is opened.
        guard state.analyseWorklist else { return ("·", context.symbol("· on open", ". on open")) }
        return ("…", context.symbol("… pending", "... pending"))
    }

    static func table(_ state: AppState, context: ScreenContext) -> TableView {
        let theme = context.theme
        let columns = [
            TableView.Column("Priority", width: 8, alignRight: true),
            TableView.Column("AI", width: 11),
            TableView.Column("Patient", width: 18),
            TableView.Column("Mod", width: 4),
            TableView.Column("Date", width: 10),
            TableView.Column("Images", width: 6, alignRight: true),
            TableView.Column("Status", width: 12),
            TableView.Column("Description", width: 20),
        ]
        // Only the rows on screen are built.
        return TableView(columns: columns, rowCount: state.visible.count, rowAt: { row in
            guard let study = state.visibleStudy(at: row) else { return [] }
            let (priority, ai) = aiColumns(state, study, context: context)
            return [
                priority,
                ai,
                state.identifierDisplay.show(study.patientName, personName: true),
                SafeText.sanitize(Self.shownModalities(study.modalities).joined(separator: "/")),
                Screens.date(study.studyDate),
                String(study.imageCount),
                state.retrievals[study.studyInstanceUID].map { "\(context.capabilities.unicode ? "↓" : "v") \($0.stored)/\($0.total)" }
                    ?? statusCell(state.reviewStatus(study.studyInstanceUID), context: context),
                readingCell(state, study, context: context),
            ]
        }, selected: state.selectedRow,
                         headerStyle: CellStyle(foreground: theme.accent, background: theme.background, attributes: [.bold, .underline]),
                         rowStyle: theme.textStyle, selectedStyle: theme.selectionStyle)
    }
}
