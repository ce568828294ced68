public import LightboxCore
import Foundation

/// Performs effects off the main thread and reports back through the inbox. The slice on screen
/// is decoded first on its own queue; neighbours are decoded ahead on another, and a newer request
/// makes older prefetches moot.
public final class EffectRunner: @unchecked Sendable {
    private let source: any StudySource
    private let heatmaps: (any HeatmapSource)?
    private let analyser: (any StudyAnalyser)?
    private let decisions: (any DecisionStore)?
    private let similar: (any SimilarCaseService)?
    private let ledger = DispatchQueue(label: "lightbox.ledger", qos: .userInitiated)
    private let store: SliceStore
    private let inbox: Inbox
    private let foreground = DispatchQueue(label: "lightbox.slice", qos: .userInitiated)
    private let background = DispatchQueue(label: "lightbox.prefetch", qos: .utility)
    private let inference = DispatchQueue(label: "lightbox.inference", qos: .utility)
    private let generationLock = NSLock()
    private var generation = 0
    /// Studies waiting for the models, in the order they will run; urgent ones are put in front.
    private var pendingAnalyses: [Study] = []
    private var analysing = false
    private var stopping = false

    public init(source: any StudySource, heatmaps: (any HeatmapSource)?, analyser: (any StudyAnalyser)? = nil,
                decisions: (any DecisionStore)? = nil, similar: (any SimilarCaseService)? = nil, store: SliceStore, inbox: Inbox) {
        self.decisions = decisions
        self.similar = similar
        self.source = source
        self.heatmaps = heatmaps
        self.analyser = analyser
        self.store = store
        self.inbox = inbox
    }

    public func run(_ effect: Effect) {
        switch effect {
        case .loadWorklist:
            foreground.async { [source, inbox] in
                do {
                    let (studies, summary) = try source.loadStudies { done, total in
                        if done == total || done % 25 == 0 { inbox.post(.worklistProgress(done: done, total: total)) }
                    }
                    inbox.post(.worklistLoaded(studies: studies, skipped: summary.skipped,
                                               failed: summary.errorsByReason.values.reduce(0, +)))
                } catch {
                    inbox.post(.worklistFailed("\(source.name): \(error)"))
                }
            }
        case .showSlice(let key, let prefetch):
            let current = nextGeneration()
            foreground.async { [self] in
                load(key, reportFailure: true)
                for neighbour in prefetch {
                    background.async { [self] in
                        guard isCurrent(current), !store.contains(neighbour) else { return }
                        load(neighbour, reportFailure: false)
                    }
                }
            }
        case .loadHeader(let key):
            foreground.async { [source, inbox] in
                do {
                    inbox.post(.headerLoaded(try source.headerLines(key)))
                } catch {
                    inbox.post(.headerFailed("\(error)"))
                }
            }
        case .findFindings(let uid, let seriesIndex, let slices):
            guard let heatmaps else { return }
            background.async { [inbox] in
                let indices = slices.indices.filter { heatmaps.heatmap(for: slices[$0].header, frame: slices[$0].key.frame) != nil }
                inbox.post(.findingsFound(studyInstanceUID: uid, seriesIndex: seriesIndex, slices: indices))
            }
        case .analyse(let studies, let urgent):
            guard analyser != nil else { return }
            generationLock.lock()
            let uids = Set(studies.map(\.studyInstanceUID))
            pendingAnalyses.removeAll { uids.contains($0.studyInstanceUID) }
            pendingAnalyses = urgent ? studies + pendingAnalyses : pendingAnalyses + studies
            let start = !analysing
            analysing = true
            generationLock.unlock()
            if start { inference.async { [self] in analyseQueued() } }
        case .loadDecisions:
            guard let decisions else { return }
            ledger.async { [inbox] in
                if let saved = try? decisions.decisions() { inbox.post(.decisionsLoaded(saved)) }
            }
        case .recordDecision(let decision):
            ledger.async { [decisions, inbox] in
                guard let decisions else {
                    inbox.post(.decisionFailed(decision, "no decision ledger"))
                    return
                }
                do {
                    let receipt = try decisions.record(decision)
                    inbox.post(.decisionSaved(decision, receipt))
                } catch {
                    inbox.post(.decisionFailed(decision, "\(error)"))
                }
            }
        case .rememberCase(let study, let decision):
            guard let similar else { return }
            inference.async { try? similar.remember(study, decision: decision) }
        case .findSimilar(let study):
            guard let similar else { return }
            inference.async { [inbox] in
                do {
                    inbox.post(.similarFound(studyInstanceUID: study.studyInstanceUID, try similar.similar(to: study, k: 5)))
                } catch {
                    inbox.post(.similarFailed(studyInstanceUID: study.studyInstanceUID, "\(error)"))
                }
            }
        case .quit:
            break
        }
    }

    /// Runs queued studies one at a time until none are left (or shutdown).
    private func analyseQueued() {
        guard let analyser else { return }
        while true {
            generationLock.lock()
            guard !stopping, !pendingAnalyses.isEmpty else {
                analysing = false
                generationLock.unlock()
                return
            }
            let study = pendingAnalyses.removeFirst()
            generationLock.unlock()
            do {
                inbox.post(.studyAnalysed(try analyser.analyse(study)))
            } catch {
                inbox.post(.studyAnalysisFailed(studyInstanceUID: study.studyInstanceUID, "\(error)"))
            }
        }
    }

    /// Decodes (unless held) and reports the slice with its own initial window.
    private func load(_ key: SliceKey, reportFailure: Bool) {
        if let window = store.initialWindow(key) {
            if reportFailure { inbox.post(.sliceLoaded(key, window: window)) }
            return
        }
        do {
            let image = try source.decode(key)
            store.insert(image, for: key)
            inbox.post(.sliceLoaded(key, window: store.initialWindow(key) ?? WindowPreset.initialWindow(for: image)))
        } catch {
            // The message always names the file (DICOM errors already do).
            let text = "\(error)"
            if reportFailure { inbox.post(.sliceFailed(key, text.contains(key.path) ? text : "\(key.description): \(text)")) }
        }
    }

    private func nextGeneration() -> Int {
        generationLock.lock()
        defer { generationLock.unlock() }
        generation += 1
        return generation
    }

    private func isCurrent(_ value: Int) -> Bool {
        generationLock.lock()
        defer { generationLock.unlock() }
        return value == generation
    }

    /// Drops prefetching that has not started and waits for work in flight, so nothing decodes
    /// while the process exits (DCMTK's globals are torn down at exit).
    /// Returns false when work is still running after `seconds` (a long scan).
    public func shutdown(seconds: Double = 2) -> Bool {
        _ = nextGeneration()
        generationLock.lock()
        stopping = true
        pendingAnalyses.removeAll()
        generationLock.unlock()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async { [self] in
            waitUntilIdle()
            done.signal()
        }
        return done.wait(timeout: .now() + seconds) == .success
    }

    /// Waits until queued work has finished (for tests and the benchmark).
    public func waitUntilIdle() {
        foreground.sync {}
        background.sync {}
        inference.sync {}
        ledger.sync {}
        foreground.sync {}
    }
}
