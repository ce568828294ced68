public import LightboxCore
public import TerminalUI

/// What happened: a key, a resize, or an effect's result.
public enum Message: Sendable {
    /// A key, with the time of a monotonic clock in seconds (the run loop passes the system
    /// uptime), so `update` needs no clock of its own.
    case key(Key, at: Double = 0)
    case resized(width: Int, height: Int)
    case worklistProgress(done: Int, total: Int)
    /// The rows so far of a worklist arriving in pages (a PACS's query); more are coming.
    case worklistPage(Worklist)
    /// The worklist: a summary a study, and the files that could not be read.
    case worklistLoaded(Worklist)
    /// The study being opened, with its series and instances.
    case studyOpened(Study)
    /// The whole study, after `.studyOpened` showed what had arrived (a PACS's study being fetched).
    case studyCompleted(Study)
    case studyOpenFailed(studyInstanceUID: String, String)
    /// A similar case's image to show beside the study.
    case compareLoaded(studyInstanceUID: String, SliceKey, image: DecodedImage, window: Window)
    case compareFailed(studyInstanceUID: String, String)
    case worklistFailed(String)
    /// A PACS study's instances arriving in the cache (stored of total).
    case retrieveProgress(studyInstanceUID: String, stored: Int, total: Int)
    /// A slice is decoded; `window` is its own initial window.
    case sliceLoaded(SliceKey, image: DecodedImage, window: Window)
    /// The overlay of an image arrived (nil: it has none).
    case overlayLoaded(SliceKey, Heatmap?)
    case sliceFailed(SliceKey, String)
    case headerLoaded([HeaderLine])
    case headerFailed(String)
    case findingsFound(studyInstanceUID: String, seriesIndex: Int, slices: [Int])
    case studyAnalysed(StudyResult)
    case studyAnalysisFailed(studyInstanceUID: String, String)
    case decisionsLoaded([Decision])
    case decisionsFailed(String)
    case decisionSaved(Decision, LedgerReceipt)
    case decisionFailed(Decision, String)
    case similarFound(studyInstanceUID: String, [SimilarCase])
    case similarFailed(studyInstanceUID: String, String)
    /// The monitoring report (at start, and after an acknowledgement).
    case monitorLoaded(MonitorReport)
    case monitorFailed(String)
    case alertAcknowledged(String, LedgerReceipt)
    case alertAcknowledgeFailed(String, String)
    /// The worklist's studies behind an alert (its window and stratum).
    case alertStudiesFound(alertID: String, [String])
    /// Time passing (the run loop sends one every `Review.claimRefreshSeconds` in department
    /// mode): claims are read again and this reader's is renewed.
    case tick(at: Double)
    /// Every live claim (department mode), and why they could not be read.
    case claimsLoaded([StudyClaim])
    case claimsFailed(String)
    /// The claim that holds a study now, after this reader asked for it (theirs, or another's).
    case studyClaimed(StudyClaim)
    case claimFailed(studyInstanceUID: String, String)
    /// The verdict SRs a study holds (read back from what its PACS sent).
    case verdictsRead(studyInstanceUID: String, [VerdictReadBack])
    /// Other systems' AI results on a study (its SEG, map and report objects), and the objects that could not be read.
    case externalResultsRead(studyInstanceUID: String, [ExternalResult], problems: [String])
    /// Pending verdict SRs sent to the configured PACS (or not, and why).
    case verdictsPushed(VerdictPushSummary)
    /// A decided study could not be added to the case base.
    case caseNotRemembered(studyInstanceUID: String, String)
}

/// What to do: work the `EffectRunner` performs, reporting back with messages.
public enum Effect: Sendable, Equatable {
    case loadWorklist
    /// Load a study's series and instances (to open it in the viewer).
    case openStudy(String)
    /// Decode `key` (now) and `prefetch` (in the background), bounded by the slice store.
    case showSlice(SliceKey, prefetch: [SliceKey])
    /// Load a similar case (by Study Instance UID) and decode the middle image of its first
    /// series, to show beside the study (not on the slice lane: it must not make the slice on
    /// screen stale).
    case showCompare(String)
    case loadHeader(SliceKey)
    /// Fetch the overlay (heatmap) of the image on screen.
    case loadOverlay(SliceEntry)
    /// Find the slices of a series that have an overlay finding.
    case findFindings(studyInstanceUID: String, seriesIndex: Int, slices: [SliceEntry])
    /// Run the models over studies (by Study Instance UID) in the background; `urgent` ones go
    /// before those queued.
    case analyse([String], urgent: Bool)
    /// Read the saved decisions (at start).
    case loadDecisions
    /// Write a decision and its audit row; reports saved or failed. A decision without an id or
    /// time is stamped by the effect; a retry sends the stamped one back unchanged.
    case recordDecision(Decision)
    /// Add a decided study to the case base.
    case rememberCase(String, Decision)
    /// Find the cases most similar to a study.
    case findSimilar(Study)
    /// Read the monitoring report.
    case loadMonitor
    /// Acknowledge an alert with a comment (an audit event), then read the report again.
    case acknowledgeAlert(MonitorAlert, comment: String, reader: String)
    /// Which of the worklist's studies (their UIDs) an alert is about.
    case findAlertStudies(MonitorAlert, among: [String])
    /// Read every live claim; claim (or renew) a study for this reader; give a claim up.
    case loadClaims
    case claimStudy(String)
    case releaseClaim(String)
    /// Read back the verdict SRs among a study's objects.
    case readVerdicts(Study)
    /// Read other systems' AI results among a study's objects.
    case readExternalResults(Study)
    /// Read them for the worklist's studies the index knows objects of, in the background.
    case readWorklistExternalResults([String])
    /// Send the decisions not yet on the configured PACS as verdict SRs.
    case pushVerdicts
    /// Fetch studies (a PACS's) into the cache ahead of the reader, in the background.
    case prefetchStudies([String])
    case quit
}
