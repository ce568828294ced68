import LightboxCore
import TerminalUI
import Foundation

/// The pure heart of the app: a state and a message in, the new state and effects out.
public enum Review {
    /// How many slices on each side of the current one are decoded ahead.
    public static let prefetchRadius = 6
    /// The smallest terminal the screens are drawn for; below it, a "too small" screen.
    public static let minimumSize = (width: 60, height: 16)
    /// How often, in department mode, claims are read again and this reader's is renewed (a
    /// claim lasts 120 s on the server, so three renewals can be missed before it lapses).
    public static let claimRefreshSeconds = 20.0

    public static func update(_ state: inout AppState, _ message: Message) -> [Effect] {
        switch message {
        case .resized(let width, let height):
            state.width = width
            state.height = height
            return []
        case .worklistProgress(let done, let total):
            state.loadProgress = (done, total)
            return []
        case .worklistPage(let worklist):
            // On screen while the rest arrives, sorted as the whole list will be.
            guard state.loading else { return [] }
            state.studies = worklist.studies
            state.refreshVisible()
            return []
        case .worklistLoaded(let worklist):
            state.loading = false
            state.loadProgress = nil
            state.studies = worklist.studies
            state.skippedFiles = worklist.skipped
            state.problems = worklist.problems
            if let notice = worklist.notice { state.message = notice }
            state.refreshVisible()
            let order = state.visible.map { state.studies[$0].studyInstanceUID }
            let external: [Effect] = state.externalsAvailable && !order.isEmpty ? [.readWorklistExternalResults(order)] : []
            guard state.model.isReady, state.analyseWorklist, !worklist.studies.isEmpty else { return external }
            return [.analyse(order, urgent: false)] + external
        case .studyOpened(let study):
            guard state.viewer?.studyInstanceUID == study.studyInstanceUID, state.viewer?.study == nil else { return [] }
            state.viewer?.study = study
            state.viewer?.studyError = nil
            return seriesChanged(&state) + (state.verdictsAvailable ? [.readVerdicts(study)] : [])
                + (state.externalsAvailable ? [.readExternalResults(study)] : [])
        case .studyCompleted(let study):
            guard var viewer = state.viewer, viewer.studyInstanceUID == study.studyInstanceUID else { return [] }
            guard viewer.study != nil else { return update(&state, .studyOpened(study)) }
            // The reader stays on the image on screen, wherever it falls in the whole study.
            let key = state.currentSlice?.key
            viewer.study = study
            viewer.studyError = nil
            var position = (series: min(viewer.seriesIndex, max(0, study.series.count - 1)), slice: viewer.sliceIndex)
            for (seriesIndex, series) in study.series.enumerated() {
                if let index = series.slices.firstIndex(where: { $0.key == key }) { position = (seriesIndex, index) }
            }
            viewer.seriesIndex = position.series
            viewer.slices = study.series.isEmpty ? [] : study.series[position.series].slices
            viewer.sliceIndex = min(position.slice, max(0, viewer.slices.count - 1))
            state.viewer = viewer
            if state.model.isReady {
                let findings = state.modelFindingSlices()
                state.viewer?.findingSlices = findings
            }
            let read: [Effect] = (state.verdictsAvailable ? [.readVerdicts(study)] : []) + (state.externalsAvailable ? [.readExternalResults(study)] : [])
            return (state.currentSlice?.key == key ? [] : sliceChanged(&state)) + read
        case .verdictsRead(let uid, let reports):
            state.pacsVerdicts[uid] = reports
            return []
        case .externalResultsRead(let uid, let results, let problems):
            state.externalResults[uid] = results
            state.externalProblems[uid] = problems
            guard state.viewer?.studyInstanceUID == uid else { return [] }
            if let active = state.viewer?.activeSource, active > results.count { state.viewer?.activeSource = 0 }
            // Without a model of its own, the first external result is the one on screen.
            if state.viewer?.activeSource == 0, !results.isEmpty, !state.model.isReady {
                state.viewer?.activeSource = 1
                state.viewer?.contourOnly = results[0].contour
            }
            let slices = state.modelFindingSlices()
            state.viewer?.findingSlices = slices
            if !results.isEmpty {
                let names = results.map(\.title).joined(separator: ", ")
                state.message = "Other AI results: \(names) (\(state.keyMap.keyName(.cycleSource)) shows each)"
            }
            applyExternalOverlay(&state)
            return []
        case .verdictsPushed(let summary):
            let destination = state.pushVerdictsTo ?? "the PACS"
            if let failure = summary.failure {
                let waiting = summary.pending > 0 ? "\(summary.pending) waiting, " : ""
                state.verdictPushProblem = "Verdict SR not sent to \(destination) (\(waiting)kept; sent with the next decision): \(failure)"
                state.message = state.verdictPushProblem
            } else {
                state.verdictPushProblem = nil
                if summary.stored > 0 {
                    state.message = (state.message.map { $0 + " · " } ?? "") + "verdict SR stored on \(destination)"
                }
            }
            return []
        case .studyOpenFailed(let uid, let text):
            guard state.viewer?.studyInstanceUID == uid else { return [] }
            state.viewer?.studyError = text
            return []
        case .compareLoaded(let uid, let key, let image, let window):
            guard state.compare?.studyInstanceUID == uid else { return [] }
            state.compare?.key = key
            state.compare?.image = image
            state.compare?.window = window
            return []
        case .compareFailed(let uid, let text):
            guard state.compare?.studyInstanceUID == uid else { return [] }
            state.compare?.error = text
            return []
        case .retrieveProgress(let uid, let stored, let total):
            if stored >= total { state.retrievals[uid] = nil } else { state.retrievals[uid] = (stored, total) }
            return []
        case .worklistFailed(let text):
            state.loading = false
            state.loadError = text
            return []
        case .sliceLoaded(let key, let image, let window):
            guard var viewer = state.viewer, state.currentSlice?.key == key else { return [] }
            if viewer.window == nil { viewer.window = window }
            if viewer.initialWindow == nil { viewer.initialWindow = window }
            viewer.loadedKey = key
            viewer.image = image
            viewer.sliceError = nil
            state.viewer = viewer
            return []
        case .overlayLoaded(let key, let heatmap):
            // An external result's layer is on screen: the models' heatmap waits for its turn.
            guard state.currentSlice?.key == key, state.activeExternal == nil else { return [] }
            state.viewer?.overlay = heatmap
            state.viewer?.overlayKey = key
            if state.viewer?.followFinding == true { followFinding(&state) }
            return []
        case .sliceFailed(let key, let text):
            guard state.currentSlice?.key == key else { return [] }
            state.viewer?.sliceError = text
            return []
        case .headerLoaded(let lines):
            state.headerLines = lines
            state.headerOffset = 0
            state.screen = .header
            return []
        case .headerFailed(let text):
            state.message = text
            return []
        case .findingsFound(let uid, let seriesIndex, let slices):
            if state.viewer?.studyInstanceUID == uid && state.viewer?.seriesIndex == seriesIndex {
                state.viewer?.findingSlices = slices
            }
            return []
        case .studyAnalysed(let result):
            state.results[result.studyInstanceUID] = result
            state.analysisErrors[result.studyInstanceUID] = nil
            // One row moves to its rank (the selected study stays selected); no full sort.
            if state.sort == .priority { state.reposition(result.studyInstanceUID) }
            if state.viewer?.studyInstanceUID == result.studyInstanceUID {
                let slices = state.modelFindingSlices()
                state.viewer?.findingSlices = slices
                // The heatmap of the image on screen exists now.
                if let slice = state.currentSlice { return [.loadOverlay(slice)] }
            }
            return []
        case .studyAnalysisFailed(let uid, let text):
            state.analysisErrors[uid] = text
            return []
        case .decisionsLoaded(let decisions):
            for decision in decisions { state.decisions[decision.studyInstanceUID] = decision }
            if state.sort == .status { state.refreshVisible() }
            // What an earlier session left pending goes now.
            return state.pushVerdictsTo != nil ? [.pushVerdicts] : []
        case .decisionsFailed(let text):
            state.message = "Saved decisions could not be read: \(text)"
            return []
        case .caseNotRemembered(_, let text):
            state.message = "Decision saved, but not added to the similar cases: \(text)"
            return []
        case .decisionSaved(let decision, let receipt):
            state.decisions[decision.studyInstanceUID] = decision
            // One save is in flight at a time; it went out unstamped, or stamped on a retry.
            if case .saving(let pending) = state.save, !pending.isStamped || pending.id == decision.id {
                state.save = .idle
            }
            state.quitWarned = false
            state.message = "Saved: \(describe(decision)) (audit row \(receipt.sequence))"
            if state.sort == .status { state.reposition(decision.studyInstanceUID) }
            var effects: [Effect] = state.similarAvailable ? [.rememberCase(decision.studyInstanceUID, decision)] : []
            if state.pushVerdictsTo != nil { effects.append(.pushVerdicts) }
            return effects
        case .similarFound(let uid, let cases):
            if state.similar?.studyInstanceUID == uid { state.similar?.cases = cases }
            return []
        case .similarFailed(let uid, let text):
            if state.similar?.studyInstanceUID == uid { state.similar?.error = text }
            return []
        case .decisionFailed(let decision, let text):
            state.save = .failed(decision, text)
            state.message = "NOT saved: \(text) — \(state.keyMap.keyName(.retrySave)) retries"
            return []
        case .monitorLoaded(let report):
            state.monitorReport = report
            state.monitorProblem = nil
            state.monitorSelected = min(state.monitorSelected, max(0, report.alerts.count - 1))
            return []
        case .monitorFailed(let text):
            state.monitorProblem = text
            return []
        case .alertAcknowledged(let id, let receipt):
            state.message = "Acknowledged alert \(id) (audit row \(receipt.sequence))"
            return []
        case .alertAcknowledgeFailed(let id, let text):
            state.message = "Alert \(id) NOT acknowledged: \(text)"
            return []
        case .alertStudiesFound(let id, let uids):
            guard let alert = state.monitorReport?.alerts.first(where: { $0.id == id }) else { return [] }
            guard !uids.isEmpty else {
                state.message = "None of the \(alert.studyKeys.count) studies behind alert \(id) is in this worklist"
                return []
            }
            state.alertFilter = AlertFilter(alertID: id, label: "\(alert.kind.rawValue) · \(alert.stratum)", studies: Set(uids))
            state.screen = .worklist
            state.viewer = nil
            state.selectedRow = 0
            state.refreshVisible()
            state.message = "\(uids.count) studies of alert \(id) (\(state.keyMap.keyName(.clearFilter)) shows all)"
            return []
        case .tick(let time):
            state.clock = time
            guard state.claimsAvailable else { return [] }
            // The open study's claim renewed, or taken once its holder has left; asked before the
            // list, so the answer still finds the holder who left (and says so).
            return ((state.heldClaim ?? state.viewer?.studyInstanceUID).map { [.claimStudy($0)] } ?? []) + [.loadClaims]
        case .claimsLoaded(let claims):
            state.claims = Dictionary(claims.filter { $0.reader != state.reader }.map { ($0.studyInstanceUID, $0) }, uniquingKeysWith: { a, _ in a })
            return []
        case .claimsFailed:
            // The next tick tries again; decisions are still checked by the server.
            return []
        case .studyClaimed(let claim):
            let uid = claim.studyInstanceUID
            if claim.reader == state.reader {
                if let earlier = state.claims[uid], state.viewer?.studyInstanceUID == uid {
                    state.message = "\(SafeText.sanitize(earlier.reader)) has left this study: it is yours now, decisions are recorded"
                }
                state.claims[uid] = nil
                // Held only while the study is open: a claim answered after leaving is given back.
                if state.viewer?.studyInstanceUID == uid { state.heldClaim = uid } else if state.heldClaim != uid { return [.releaseClaim(uid)] }
                return []
            }
            let known = state.claims[uid] != nil
            state.claims[uid] = claim
            if state.heldClaim == uid { state.heldClaim = nil }
            if state.viewer?.studyInstanceUID == uid, !known {
                state.message = "Being read by \(SafeText.sanitize(claim.reader)): you can view it; decisions on it are refused while their claim lasts"
            }
            return []
        case .claimFailed(let uid, let text):
            if state.viewer?.studyInstanceUID == uid, state.heldClaim != uid {
                state.message = "Others are not told you are reading this study: \(text)"
            }
            return []
        case .key(let key, let time):
            state.message = nil
            state.clock = time
            return handleKey(&state, key)
        }
    }

    // MARK: Keys

    static func handleKey(_ state: inout AppState, _ key: Key) -> [Effect] {
        if state.filterDraft != nil { return editFilter(&state, key) }
        if state.claimPrompt != nil { return answerClaimPrompt(&state, key) }
        if state.overridePrompt != nil { return editOverride(&state, key) }
        if state.acknowledgePrompt != nil { return editAcknowledgement(&state, key) }
        if state.similar != nil, state.screen == .viewer { return browseSimilar(&state, key) }
        if state.compare != nil, state.screen == .viewer, key == .escape {
            state.compare = nil
            return []
        }
        if state.keyMap.action(for: key, in: .global) == .retrySave, state.screen != .help, state.screen != .header { return retrySave(&state) }
        if state.keyMap.action(for: key, in: .global) == .monitor, state.screen != .monitor, state.screen != .help, state.screen != .header {
            return openMonitor(&state)
        }
        switch state.screen {
        case .monitor:
            return browseMonitor(&state, key)
        case .problems:
            return browseProblems(&state, key)
        case .help:
            switch key {
            case .up, .character("k"): state.helpOffset = max(0, state.helpOffset - 1)
            case .down, .character("j"): state.helpOffset += 1
            case .pageUp: state.helpOffset = max(0, state.helpOffset - 10)
            case .pageDown: state.helpOffset += 10
            default: state.screen = state.viewer == nil ? .worklist : .viewer
            }
            return []
        case .header:
            switch key {
            case .up, .character("k"): state.headerOffset = max(0, state.headerOffset - 1)
            case .down, .character("j"): state.headerOffset = min(max(0, state.headerLines.count - 1), state.headerOffset + 1)
            case .pageUp: state.headerOffset = max(0, state.headerOffset - 20)
            case .pageDown: state.headerOffset = min(max(0, state.headerLines.count - 1), state.headerOffset + 20)
            case .home: state.headerOffset = 0
            case .end: state.headerOffset = max(0, state.headerLines.count - 1)
            default: state.screen = .viewer
            }
            return []
        case .worklist:
            guard let action = state.keyMap.action(for: key, in: .worklist) else { return [] }
            return worklistAction(&state, action)
        case .viewer:
            var contexts: [KeyContext] = [.viewer]
            if state.viewer?.viewport.isWhole == false { contexts.insert(.zoomed, at: 0) }
            if state.viewer?.probe != nil { contexts.insert(.probe, at: 0) }
            guard let action = state.keyMap.action(for: key, in: contexts) else { return [] }
            return viewerAction(&state, action)
        }
    }

    static func editFilter(_ state: inout AppState, _ key: Key) -> [Effect] {
        switch key {
        case .enter:
            state.filter = state.filterDraft ?? ""
            state.filterDraft = nil
            state.selectedRow = 0
            state.refreshVisible()
        case .escape:
            state.filterDraft = nil
        case .backspace, .delete:
            if state.filterDraft?.isEmpty == false { state.filterDraft?.removeLast() }
        case .character(let c):
            if (state.filterDraft?.count ?? 0) < 64 { state.filterDraft?.append(c) }
        default:
            break
        }
        return []
    }

    static func worklistAction(_ state: inout AppState, _ action: Action) -> [Effect] {
        let count = state.visible.count
        let page = max(1, state.height - 5)
        switch action {
        case .quit: state.quitRequested = true; return [.quit]
        case .help: state.screen = .help; state.helpOffset = 0
        case .toggleIdentifiers: toggleIdentifiers(&state)
        case .rowUp, .previousStudy: state.selectedRow = max(0, state.selectedRow - 1)
        case .rowDown, .nextStudy: state.selectedRow = min(max(0, count - 1), state.selectedRow + 1)
        case .pageUp: state.selectedRow = max(0, state.selectedRow - page)
        case .pageDown: state.selectedRow = min(max(0, count - 1), state.selectedRow + page)
        case .firstRow: state.selectedRow = 0
        case .lastRow: state.selectedRow = max(0, count - 1)
        case .filter: state.filterDraft = state.filter
        case .problems:
            guard !state.problems.isEmpty else {
                state.message = "Every file of the source could be read"
                return []
            }
            state.screen = .problems
            state.problemsOffset = 0
        case .cycleSort:
            state.sort = state.sort.next
            state.refreshVisible()
            state.message = state.sort == .priority
                ? (state.model.isReady ? "Sort: AI priority (most suspicious first)" : "Sort: priority (no model: by arrival)")
                : "Sort: \(state.sort.rawValue)"
        case .open:
            guard state.selectedRow < count else { return [] }
            return openStudy(&state, row: state.selectedRow)
        case .clearFilter:
            guard state.alertFilter != nil || !state.filter.isEmpty else { return [] }
            state.alertFilter = nil
            state.filter = ""
            state.refreshVisible()
            state.message = "Every study shown"
        default: break
        }
        return []
    }

    // MARK: Monitoring

    static func openMonitor(_ state: inout AppState) -> [Effect] {
        guard state.monitorAvailable else {
            state.message = "Monitoring is not available here (no result store)"
            return []
        }
        state.monitorReturn = state.screen
        state.screen = .monitor
        // Read again on each visit: analyses and verdicts since the last one count.
        return [.loadMonitor]
    }

    /// The monitor screen: ↑/↓ choose, Enter narrows the worklist to the alert's studies, the
    /// acknowledge key asks for a comment, q or Esc goes back.
    static func browseMonitor(_ state: inout AppState, _ key: Key) -> [Effect] {
        let alerts = state.monitorReport?.alerts ?? []
        switch key {
        case .up, .character("k"): state.monitorSelected = max(0, state.monitorSelected - 1); return []
        case .down, .character("j"): state.monitorSelected = min(max(0, alerts.count - 1), state.monitorSelected + 1); return []
        case .escape, .character("q"): state.screen = state.monitorReturn == .viewer && state.viewer != nil ? .viewer : .worklist; return []
        default: break
        }
        guard let action = state.keyMap.action(for: key, in: .monitor), state.monitorSelected < alerts.count else { return [] }
        let alert = alerts[state.monitorSelected]
        switch action {
        case .alertStudies:
            return [.findAlertStudies(alert, among: state.studies.map(\.studyInstanceUID))]
        case .acknowledgeAlert:
            if alert.acknowledged { state.message = "Alert \(alert.id) is already acknowledged"; return [] }
            state.acknowledgePrompt = AcknowledgePrompt(alert: alert)
        default:
            break
        }
        return []
    }

    /// The acknowledgement dialog: type a comment; Enter records it (a comment is required), Esc cancels.
    static func editAcknowledgement(_ state: inout AppState, _ key: Key) -> [Effect] {
        guard var prompt = state.acknowledgePrompt else { return [] }
        switch key {
        case .escape:
            state.acknowledgePrompt = nil
            state.message = "Not acknowledged"
            return []
        case .enter:
            let comment = prompt.comment.trimmingCharacters(in: .whitespaces)
            guard !comment.isEmpty else {
                state.message = "An acknowledgement needs a comment: what was checked or done"
                return []
            }
            state.acknowledgePrompt = nil
            state.message = "Acknowledging \(prompt.alert.id)…"
            return [.acknowledgeAlert(prompt.alert, comment: comment, reader: state.reader)]
        case .backspace, .delete:
            if !prompt.comment.isEmpty { prompt.comment.removeLast() }
        case .character(let c):
            if prompt.comment.count < 200 { prompt.comment.append(c) }
        default:
            break
        }
        state.acknowledgePrompt = prompt
        return []
    }

    // MARK: Other systems' results

    /// Puts the active external result's layer of the slice on screen (nothing for the models').
    static func applyExternalOverlay(_ state: inout AppState) {
        guard let external = state.activeExternal, let key = state.currentSlice?.key else { return }
        state.viewer?.overlay = external.layers[key]
        state.viewer?.overlayKey = key
    }

    /// Shows the next source's result: the models', then each external one.
    static func cycleSource(_ state: inout AppState) -> [Effect] {
        guard let viewer = state.viewer else { return [] }
        let externals = state.externalResults[viewer.studyInstanceUID] ?? []
        guard !externals.isEmpty else {
            state.message = "No other AI results in this study (SEG, parametric map or TID 1500 report objects beside its images)"
            return []
        }
        let hasModels = state.model.isReady
        var next = viewer.activeSource + 1
        if next > externals.count { next = hasModels ? 0 : 1 }
        state.viewer?.activeSource = next
        state.viewer?.overlayVisible = true
        if let external = state.activeExternal {
            state.viewer?.contourOnly = external.contour
            applyExternalOverlay(&state)
            let confidence = external.confidenceGiven ? String(format: "%.0f%% (the source's own probability)", external.result.probability * 100)
                : ExternalResult.noConfidence
            state.message = "AI result shown: \(external.title) (\(external.objectKinds)) · \(external.findings.count) finding(s) · \(confidence)"
            return []
        }
        state.viewer?.contourOnly = false
        state.viewer?.overlay = nil
        state.viewer?.overlayKey = nil
        state.message = "AI result shown: the embedded model(s)"
        guard let slice = state.currentSlice, state.overlayLabel != nil else { return [] }
        return [.loadOverlay(slice)]
    }

    // MARK: Decisions

    /// The decision in words (one definition, in LightboxCore).
    static func describe(_ decision: Decision) -> String { decision.summary }

    /// Starts recording a decision on the open study's AI result; "Saved" comes only with the commit.
    static func decide(_ state: inout AppState, _ action: DecisionAction, reason: OverrideReason? = nil, comment: String? = nil) -> [Effect] {
        guard let viewer = state.viewer, let study = state.currentStudy else { return [] }
        if let problem = state.ledgerProblem {
            state.message = "Decisions cannot be saved: \(problem)"
            return []
        }
        if let claim = state.claims[study.studyInstanceUID] {
            state.message = "Not recorded: \(SafeText.sanitize(claim.reader)) is reading this study; decisions on it are refused while their claim lasts"
            return []
        }
        guard let result = state.activeResult else {
            state.message = state.model.isReady ? "No AI result to decide on yet (the model is still running)"
                : "No AI result to decide on: no model"
            return []
        }
        switch state.save {
        case .saving:
            state.message = "Still saving the last decision…"
            return []
        case .failed:
            state.message = "The last decision is NOT saved: \(state.keyMap.keyName(.retrySave)) retries it first"
            return []
        case .idle:
            break
        }
        let seconds = max(0, (state.clock - viewer.openedAt).rounded())
        var decision = Decision.on(study, result: result, outputHash: result.outputHash, finding: state.currentFinding, action: action, reason: reason,
                                   comment: comment, reader: state.reader, secondsSpent: viewer.openedAt > 0 ? seconds : 0,
                                   series: state.currentSeries?.seriesInstanceUID)
        if let external = state.activeExternal {
            decision.external = external.assessment(finding: state.currentFinding)
            // A source that gave no confidence: none recorded (never a made-up 0).
            if !external.confidenceGiven { decision.probability = nil }
        }
        state.save = .saving(decision)
        state.message = "Saving: \(describe(decision))…"
        return [.recordDecision(decision)]
    }

    static func retrySave(_ state: inout AppState) -> [Effect] {
        guard case .failed(let decision, _) = state.save else {
            state.message = state.save.isSaving ? "Still saving…" : "Nothing to retry: every decision is saved"
            return []
        }
        state.save = .saving(decision)
        state.message = "Saving again: \(describe(decision))…"
        // The same decision id: if the first attempt did commit, the ledger writes nothing new.
        return [.recordDecision(decision)]
    }

    /// The override dialog: 1–6 pick the reason, then type an optional comment; Enter saves, Esc cancels.
    static func editOverride(_ state: inout AppState, _ key: Key) -> [Effect] {
        guard var prompt = state.overridePrompt else { return [] }
        switch key {
        case .escape:
            state.overridePrompt = nil
            state.message = "Override cancelled: nothing saved"
            return []
        case .enter:
            guard let reason = prompt.reason else {
                state.message = "Pick a reason first (1-\(OverrideReason.allCases.count))"
                return []
            }
            state.overridePrompt = nil
            let comment = prompt.comment.trimmingCharacters(in: .whitespaces)
            return decide(&state, .override, reason: reason, comment: comment.isEmpty ? nil : comment)
        case .backspace, .delete:
            if prompt.reason != nil, !prompt.comment.isEmpty { prompt.comment.removeLast() }
        case .character(let c):
            if prompt.reason == nil {
                if let digit = c.wholeNumberValue, digit >= 1, digit <= OverrideReason.allCases.count {
                    prompt.reason = OverrideReason.allCases[digit - 1]
                }
            } else if prompt.comment.count < 200 {
                prompt.comment.append(c)
            }
        default:
            break
        }
        state.overridePrompt = prompt
        return []
    }

    /// The similar-cases list: ↑/↓ choose, Enter opens the case (when it is in this worklist), Esc, s or q close.
    static func browseSimilar(_ state: inout AppState, _ key: Key) -> [Effect] {
        guard var panel = state.similar else { return [] }
        let count = panel.cases?.count ?? 0
        switch key {
        case .up, .character("k"): panel.selected = max(0, panel.selected - 1)
        case .down, .character("j"): panel.selected = min(max(0, count - 1), panel.selected + 1)
        case .escape, .character("q"), .character("s"):
            state.similar = nil
            return []
        case .enter:
            guard let cases = panel.cases, panel.selected < cases.count else { return [] }
            let chosen = cases[panel.selected]
            let uid = chosen.record.studyInstanceUID
            guard state.studies.contains(where: { $0.studyInstanceUID == uid }) else {
                state.message = "That case is not in this worklist (\(chosen.record.source.rawValue) case); open its folder to view it"
                return []
            }
            // Beside the current study: the middle image of the case's first series.
            state.similar = nil
            state.compare = CompareView(studyInstanceUID: uid,
                                        caption: String(format: "Similar case %.2f · %@ · %@ · %@", chosen.similarity, chosen.record.label.rawValue,
                                                        chosen.record.decision ?? "no decision", chosen.record.source.rawValue))
            state.message = "Similar case beside this study (Esc closes)"
            return [.showCompare(uid)]
        default: break
        }
        state.similar = panel
        return []
    }

    /// The problems screen: arrows scroll, any other key goes back to the worklist.
    static func browseProblems(_ state: inout AppState, _ key: Key) -> [Effect] {
        let last = max(0, state.problems.count - 1)
        switch key {
        case .up, .character("k"): state.problemsOffset = max(0, state.problemsOffset - 1)
        case .down, .character("j"): state.problemsOffset = min(last, state.problemsOffset + 1)
        case .pageUp: state.problemsOffset = max(0, state.problemsOffset - 20)
        case .pageDown: state.problemsOffset = min(last, state.problemsOffset + 20)
        case .home: state.problemsOffset = 0
        case .end: state.problemsOffset = last
        default: state.screen = .worklist
        }
        return []
    }

    static func toggleIdentifiers(_ state: inout AppState) {
        state.showIdentifiers.toggle()
        // The filter searches identifiers only while they are shown.
        if !state.filter.isEmpty { state.refreshVisible() }
        state.message = state.showIdentifiers ? "Patient identifiers shown (\(state.keyMap.keyName(.toggleIdentifiers)) to mask)" : "Patient identifiers masked"
    }

    /// Opens the study on worklist row `row`: its series load first (the worklist holds summaries).
    /// In department mode the study is claimed for this reader; one another reader holds is
    /// opened only after asking.
    static func openStudy(_ state: inout AppState, row: Int, asked: Bool = false) -> [Effect] {
        guard row >= 0, row < state.visible.count else { return [] }
        let index = state.visible[row]
        let uid = state.studies[index].studyInstanceUID
        if !asked, let claim = state.claims[uid] {
            state.claimPrompt = ClaimPrompt(claim: claim)
            return []
        }
        let release = leaveStudy(&state)
        let claim: [Effect] = state.claimsAvailable && state.claims[uid] == nil ? [.claimStudy(uid)] : []
        if asked, let holder = state.claims[uid] {
            state.message = "Viewing only: \(SafeText.sanitize(holder.reader)) is reading this study; decisions on it are refused while their claim lasts"
        }
        state.viewer = ViewerState(studyInstanceUID: uid, studyIndex: index)
        state.viewer?.openedAt = state.clock
        state.status[uid] = .viewed
        if state.sort == .status { state.reposition(uid) }
        state.screen = .viewer
        state.compare = nil
        let analyse: [Effect] = state.model.isReady && state.results[uid] == nil ? [.analyse([uid], urgent: true)] : []
        // The next studies of the list, fetched (and analysed, with a model) while this one is read.
        var ahead: [Effect] = []
        if state.prefetchStudies > 0 {
            let next = state.visible[(row + 1)...].prefix(state.prefetchStudies).map { state.studies[$0].studyInstanceUID }
            if !next.isEmpty {
                if state.model.isReady {
                    let unanalysed = next.filter { state.results[$0] == nil }
                    if !unanalysed.isEmpty { ahead = [.analyse(unanalysed, urgent: false)] }
                } else {
                    ahead = [.prefetchStudies(next)]
                }
            }
        }
        return release + claim + analyse + [.openStudy(uid)] + ahead
    }

    /// Gives this reader's claim on the open study up (leaving it, or opening another).
    static func leaveStudy(_ state: inout AppState) -> [Effect] {
        // Other systems' results stay for the worklist's mark; their layers (the objects' frames
        // in memory) go: opening the study again reads them again.
        if let uid = state.viewer?.studyInstanceUID, let results = state.externalResults[uid] {
            state.externalResults[uid] = results.map { result in
                var kept = result
                kept.layers = ExternalLayers()
                return kept
            }
        }
        guard let held = state.heldClaim else { return [] }
        state.heldClaim = nil
        return [.releaseClaim(held)]
    }

    /// The question before opening a study another reader holds: y or Enter opens it to view, n or Esc does not.
    static func answerClaimPrompt(_ state: inout AppState, _ key: Key) -> [Effect] {
        guard let prompt = state.claimPrompt else { return [] }
        switch key {
        case .character("y"), .character("Y"), .enter:
            state.claimPrompt = nil
            // By its study: results arriving meanwhile may have moved its row.
            guard let row = state.row(of: prompt.claim.studyInstanceUID) else { return [] }
            return openStudy(&state, row: row, asked: true)
        case .character("n"), .character("N"), .escape, .character("q"):
            state.claimPrompt = nil
            state.message = "Not opened: \(SafeText.sanitize(prompt.claim.reader)) is reading it"
            return []
        default:
            state.message = "y opens it to view (decisions are refused while their claim lasts) · n does not"
            return []
        }
    }

    /// Effects for a new series: find its findings, show its first slice.
    static func seriesChanged(_ state: inout AppState) -> [Effect] {
        guard state.currentStudy != nil else { return [] }
        let slices = state.currentSeries?.slices ?? []
        state.viewer?.slices = slices
        guard let viewer = state.viewer else { return [] }
        state.viewer?.window = nil
        state.viewer?.initialWindow = nil
        state.viewer?.windowName = "auto"
        state.viewer?.findingSlices = []
        var effects: [Effect] = []
        if state.model.isReady {
            let slices = state.modelFindingSlices()
            state.viewer?.findingSlices = slices
        } else if state.overlayLabel != nil {
            effects.append(.findFindings(studyInstanceUID: viewer.studyInstanceUID, seriesIndex: viewer.seriesIndex, slices: state.currentSlices))
        }
        return effects + sliceChanged(&state)
    }

    /// The effect that shows the current slice and decodes its neighbours ahead.
    static func sliceChanged(_ state: inout AppState) -> [Effect] {
        guard let viewer = state.viewer, let current = state.currentSlice else { return [] }
        state.viewer?.loadedKey = nil
        state.viewer?.image = nil
        state.viewer?.sliceError = nil
        state.viewer?.overlay = nil
        state.viewer?.overlayKey = nil
        let slices = state.currentSlices
        var prefetch: [SliceKey] = []
        for distance in 1...prefetchRadius {
            for index in [viewer.sliceIndex + distance, viewer.sliceIndex - distance] where index >= 0 && index < slices.count {
                prefetch.append(slices[index].key)
            }
        }
        let overlay: [Effect] = state.overlayLabel != nil && state.activeExternal == nil ? [.loadOverlay(current)] : []
        applyExternalOverlay(&state)
        return [.showSlice(current.key, prefetch: prefetch)] + overlay
    }

    static func viewerAction(_ state: inout AppState, _ action: Action) -> [Effect] {
        guard var viewer = state.viewer else { return [] }
        guard let study = state.currentStudy else {
            // Still loading (or failed): leaving and help work, the rest waits for the series.
            switch action {
            case .quit:
                state.screen = .worklist
                let release = leaveStudy(&state)
                state.viewer = nil
                return release
            case .help: state.screen = .help; state.helpOffset = 0
            default: state.message = viewer.studyError ?? "Opening the study…"
            }
            return []
        }
        let sliceCount = state.currentSlices.count
        func moveSlice(to index: Int) -> [Effect] {
            let target = min(max(0, index), max(0, sliceCount - 1))
            guard target != viewer.sliceIndex else { return [] }
            state.viewer?.sliceIndex = target
            return sliceChanged(&state)
        }
        func adjustWindow(center: Double = 0, width: Double = 0) {
            guard let window = viewer.window else { return }
            let step = max(1, window.width * 0.04)
            state.viewer?.window = Window(center: window.center + center * step, width: max(1, window.width + width * step))
            state.viewer?.windowName = "custom"
        }
        switch action {
        case .quit:
            if case .failed = state.save, !state.quitWarned {
                state.quitWarned = true
                state.message = "A decision is NOT saved: \(state.keyMap.keyName(.retrySave)) retries; q again leaves without it"
                return []
            }
            state.quitWarned = false
            if case .failed = state.save { state.save = .idle }
            state.compare = nil
            state.screen = .worklist
            let release = leaveStudy(&state)
            state.viewer = nil
            if let row = state.row(of: study.studyInstanceUID) { state.selectedRow = row }
            return release
        case .help: state.screen = .help; state.helpOffset = 0
        case .toggleIdentifiers: toggleIdentifiers(&state)
        case .previousSlice: return moveSlice(to: viewer.sliceIndex - 1)
        case .nextSlice: return moveSlice(to: viewer.sliceIndex + 1)
        case .back10: return moveSlice(to: viewer.sliceIndex - 10)
        case .forward10: return moveSlice(to: viewer.sliceIndex + 10)
        case .firstSlice: return moveSlice(to: 0)
        case .lastSlice: return moveSlice(to: sliceCount - 1)
        case .previousSeries, .nextSeries:
            let target = viewer.seriesIndex + (action == .nextSeries ? 1 : -1)
            guard target >= 0, target < study.series.count else {
                state.message = study.series.count == 1 ? "This study has one series" : "No \(action == .nextSeries ? "next" : "previous") series"
                return []
            }
            viewer.seriesIndex = target
            viewer.sliceIndex = 0
            state.viewer = viewer
            return seriesChanged(&state)
        case .previousStudy, .nextStudy:
            guard let current = state.row(of: study.studyInstanceUID) else { return [] }
            let target = current + (action == .nextStudy ? 1 : -1)
            guard target >= 0, target < state.visible.count else {
                state.message = action == .nextStudy ? "Last study of the worklist" : "First study of the worklist"
                return []
            }
            state.selectedRow = target
            return openStudy(&state, row: target)
        case .preset1, .preset2, .preset3, .preset4, .preset5, .preset6:
            let presets = WindowPreset.presets(for: study.header.modality)
            let index = [Action.preset1, .preset2, .preset3, .preset4, .preset5, .preset6].firstIndex(of: action)!
            guard index < presets.count else {
                let k = state.keyMap
                state.message = "Window presets are for CT; use \(k.keyName(.narrowWindow))/\(k.keyName(.widenWindow)) and "
                    + "\(k.keyName(.lowerLevel))/\(k.keyName(.raiseLevel)), or \(k.keyName(.resetWindow)) for the image's own window"
                return []
            }
            state.viewer?.window = presets[index].window
            state.viewer?.windowName = presets[index].rawValue
        case .resetWindow:
            state.viewer?.window = viewer.initialWindow
            state.viewer?.windowName = "auto"
        case .narrowWindow: adjustWindow(width: -1)
        case .widenWindow: adjustWindow(width: 1)
        case .lowerLevel: adjustWindow(center: -1)
        case .raiseLevel: adjustWindow(center: 1)
        case .cycleSource:
            return cycleSource(&state)
        case .toggleOverlay, .moreOpacity, .lessOpacity, .toggleContour:
            guard state.overlayLabel != nil || state.activeExternal != nil else {
                state.message = "No overlay: no model is configured (AI heatmaps come with the inference engine)"
                return []
            }
            switch action {
            case .toggleOverlay: state.viewer?.overlayVisible.toggle()
            case .moreOpacity: state.viewer?.overlayOpacity = min(1, (viewer.overlayOpacity * 10 + 1).rounded() / 10)
            case .lessOpacity: state.viewer?.overlayOpacity = max(0.1, (viewer.overlayOpacity * 10 - 1).rounded() / 10)
            default: state.viewer?.contourOnly.toggle()
            }
            if action != .toggleOverlay { state.viewer?.overlayVisible = true }
        case .nextFinding, .previousFinding:
            let forward = action == .nextFinding
            let candidates = viewer.findingSlices.filter { forward ? $0 > viewer.sliceIndex : $0 < viewer.sliceIndex }
            guard let target = forward ? candidates.min() : candidates.max() else {
                if state.overlayLabel == nil && (state.externalResults[viewer.studyInstanceUID] ?? []).isEmpty {
                    state.message = "No findings: no model is configured"
                } else if state.model.isReady && state.results[viewer.studyInstanceUID] == nil {
                    state.message = "The AI result for this study is still being computed"
                } else {
                    state.message = viewer.findingSlices.isEmpty ? "No findings in this series" : "No \(forward ? "later" : "earlier") finding in this series"
                }
                return []
            }
            // The source whose finding it is comes on screen with it (its overlay, its decision).
            if let source = state.source(ofFindingAt: target), source != viewer.activeSource {
                state.viewer?.activeSource = source
                let contour = state.activeExternal?.contour ?? false
                state.viewer?.contourOnly = contour
                if target == viewer.sliceIndex { applyExternalOverlay(&state) }
            }
            return moveSlice(to: target)
        case .accept: return decide(&state, .accept)
        case .deferStudy: return decide(&state, .deferred)
        case .override:
            guard state.activeResult != nil, state.ledgerProblem == nil, state.save == .idle else {
                return decide(&state, .override)  // says why not
            }
            state.overridePrompt = OverridePrompt()
        case .similar:
            guard state.similarAvailable else {
                state.message = "Similar cases need a model (its embeddings): no model"
                return []
            }
            state.similar = SimilarPanel(studyInstanceUID: study.studyInstanceUID)
            return [.findSimilar(study)]
        case .header:
            guard let slice = state.currentSlice else { return [] }
            return [.loadHeader(slice.key)]
        case .zoomIn, .zoomOut, .resetView, .zoomToFinding, .panLeft, .panRight, .panUp, .panDown:
            viewAction(&state, action)
        case .toggleProbe, .probeLeft, .probeRight, .probeUp, .probeDown, .setMark:
            probeAction(&state, action)
        default: break
        }
        return []
    }
}
