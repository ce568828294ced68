public import Foundation

/// How monitoring windows and tests are set (config.toml's [monitor]).
public struct MonitorSettings: Sendable, Equatable {
    /// The rolling analysis window.
    public var windowDays: Int
    /// The fewest studies a window (and a reference) needs before drift is computed.
    public var minimumStudies: Int
    /// A model version's default reference: its first N studies.
    public var referenceStudies: Int
    /// The fewest accepted-or-overridden verdicts a stratum's window needs.
    public var minimumVerdicts: Int
    /// Windows of at most this many studies are tested (KS, chi-squared); larger ones use distances.
    public var testedWindowLimit: Int
    /// How many weekly windows back the charts go (at most).
    public var weeks: Int

    public init(windowDays: Int = 14, minimumStudies: Int = 150, referenceStudies: Int = 500, minimumVerdicts: Int = 30,
                testedWindowLimit: Int = 1_000, weeks: Int = 26) {
        self.windowDays = windowDays
        self.minimumStudies = minimumStudies
        self.referenceStudies = referenceStudies
        self.minimumVerdicts = minimumVerdicts
        self.testedWindowLimit = testedWindowLimit
        self.weeks = weeks
    }
}

/// Where an alert applies: a model version at a site, and for verdicts a scanner and a tier.
public struct MonitorStratum: Sendable, Hashable, Codable, CustomStringConvertible {
    public var model: String
    public var site: String
    public var scanner: String?
    public var tier: ConfidenceTier?

    public init(model: String, site: String, scanner: String? = nil, tier: ConfidenceTier? = nil) {
        self.model = model
        self.site = site
        self.scanner = scanner
        self.tier = tier
    }

    public var description: String {
        ([model, site] + [scanner, tier.map { "tier " + $0.rawValue }].compactMap { $0 }).joined(separator: " · ")
    }
}

/// One alert of the latest window, with its weekly history.
public struct MonitorAlert: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case novelty
        case inputDrift = "input-drift"
        case inputFeature = "input-feature"
        case outputScore = "output-score"
        case positiveRate = "positive-rate"
        case tierMix = "tier-mix"
        case outOfDomain = "out-of-domain"
        case overrideRate = "override-rate"
        case deferRate = "defer-rate"
        case automationBias = "automation-bias"
    }

    public struct Point: Sendable, Equatable, Codable {
        public var windowEnd: Date
        public var value: Double?
        /// Whether that week's window raised this alert.
        public var alert: Bool
    }

    /// What it is about, in a few words ("new convolution kernel", "input mean", "override rate").
    public var title: String {
        feature.hasPrefix("novelty: ") ? "new " + feature.dropFirst("novelty: ".count) : feature
    }

    /// Short and stable while the alert lasts (kind, feature, stratum, since): what `monitor ack` takes.
    public var id: String
    public var kind: Kind
    public var feature: String
    /// The alert in words.
    public var what: String
    public var stratum: MonitorStratum
    /// The start of the first window of the run of windows that raised it.
    public var since: Date
    public var windowStart: Date
    public var windowEnd: Date
    /// The statistic, its value and threshold ("KS p 0.0003 < 0.0056 (0.05 Bonferroni over 9)").
    public var statistic: String
    public var value: Double
    public var threshold: Double
    /// Studies (or verdicts) in the window, and in the reference.
    public var count: Int
    public var referenceCount: Int
    /// True when it pages the department (novelty, an override-rate breach, half the inputs drifting).
    public var gated: Bool
    public var acknowledged: Bool
    /// The weekly statistic charted (the value against `chartThreshold`).
    public var series: [Point]
    public var chartLabel: String
    public var chartThreshold: Double
    /// Monitoring keys of the studies behind it (the window and stratum), for the worklist filter.
    public var studyKeys: [String]
}

/// What `lightbox monitor` reports.
public struct MonitorReport: Sendable, Equatable, Codable {
    public var generatedAt: Date
    public var windowDays: Int
    public var alerts: [MonitorAlert]
    /// Insufficient data, undefined statistics, clocks that went backwards: said, never a number.
    public var notes: [String]
    public var references: [MonitorReference]
    public var studies: Int
    public var verdicts: Int

    /// Alerts that page and are not acknowledged.
    public var openAlerts: [MonitorAlert] { alerts.filter { $0.gated && !$0.acknowledged } }
}

/// Drift of inputs and outputs per model version and site against the version's frozen
/// reference, and the readers' override and defer rates per stratum against control limits.
public enum MonitorAnalysis {
    /// A model version's reference: the saved one, else its first `settings.referenceStudies`
    /// studies (nil while it has fewer).
    public static func reference(model: String, records: [MonitoringRecord], saved: [MonitorReference], settings: MonitorSettings) -> MonitorReference? {
        if let found = saved.first(where: { $0.model == model }) { return found }
        let own = records.filter { $0.model == model }.sorted { $0.analysedAt < $1.analysedAt }
        guard own.count >= settings.referenceStudies, settings.referenceStudies > 0 else { return nil }
        return MonitorReference(model: model, from: own[0].analysedAt, to: own[settings.referenceStudies - 1].analysedAt,
                                basis: "first \(settings.referenceStudies) studies")
    }

    /// The report at `now`. `references` must hold each model's reference (see `reference`);
    /// models without one get a note. `acknowledged` holds the ids acknowledged in the ledger.
    public static func report(records: [MonitoringRecord], verdicts: [VerdictRecord], references: [MonitorReference], now: Date,
                              since: Date? = nil, settings: MonitorSettings = MonitorSettings(), acknowledged: Set<String> = []) -> MonitorReport {
        var notes: [String] = []
        var alerts: [MonitorAlert] = []
        let window = Double(settings.windowDays) * 86_400
        let byModel = Dictionary(grouping: records, by: \.model)
        if records.isEmpty { notes.append("no analysed studies recorded yet: insufficient data (studies are recorded when a model analyses them)") }
        notes += clockNotes(verdicts)
        for model in byModel.keys.sorted() {
            guard let reference = references.first(where: { $0.model == model }) else {
                notes.append("\(model): no reference period yet (\(byModel[model]!.count) of \(settings.referenceStudies) studies for the default one; "
                             + "or set one with `lightbox monitor reference`): insufficient data")
                continue
            }
            let inReference = { (r: MonitoringRecord) in r.analysedAt >= reference.from && r.analysedAt <= reference.to }
            let modelRecords = byModel[model]!
            let referenceKeys = Set(modelRecords.filter(inReference).map(\.studyKey))
            // Window ends: weekly back from now, never inside the reference.
            var ends: [Date] = []
            var end = now
            while ends.count < settings.weeks && end > reference.to && (since.map { end >= $0 } ?? true) {
                ends.append(end)
                end = end.addingTimeInterval(-7 * 86_400)
            }
            ends.reverse()
            if ends.isEmpty { notes.append("\(model): nothing analysed after its reference period (\(reference.basis))"); continue }
            for site in Set(modelRecords.map(\.site)).sorted() {
                let stratum = MonitorStratum(model: model, site: site)
                let siteRecords = modelRecords.filter { $0.site == site }
                let referenceRecords = siteRecords.filter(inReference)
                let after = siteRecords.filter { $0.analysedAt > reference.to }
                if referenceRecords.count < settings.minimumStudies {
                    notes.append("\(stratum): the reference has \(referenceRecords.count) studies (needs \(settings.minimumStudies)): drift is insufficient data")
                }
                var outcomes: [[String: Outcome]] = []
                for end in ends {
                    let current = after.filter { $0.analysedAt > end.addingTimeInterval(-window) && $0.analysedAt <= end }
                    outcomes.append(inputAndOutput(reference: referenceRecords, current: current, settings: settings, stratum: stratum))
                }
                if let last = outcomes.last {
                    let current = after.filter { $0.analysedAt > now.addingTimeInterval(-window) && $0.analysedAt <= now }
                    if current.count < settings.minimumStudies && referenceRecords.count >= settings.minimumStudies {
                        notes.append("\(stratum): the last \(settings.windowDays) days hold \(current.count) studies (needs \(settings.minimumStudies)): drift is insufficient data")
                    }
                    for (key, outcome) in last.sorted(by: { $0.key < $1.key }) where outcome.alert {
                        alerts.append(makeAlert(key: key, outcomes: outcomes, ends: ends, window: window, stratum: stratum, studyKeys: current.map(\.studyKey),
                                                acknowledged: acknowledged, referenceEnd: reference.to))
                    }
                    for (key, outcome) in last.sorted(by: { $0.key < $1.key }) where !outcome.alert {
                        if let note = outcome.note { notes.append("\(stratum): \(key): \(note)") }
                    }
                }
            }
            // Verdicts, per model × site × scanner × tier (and all tiers together): those on reference
            // studies and those inside the charted windows.
            let recordIndex = Dictionary(modelRecords.map { ($0.studyKey, $0) }, uniquingKeysWith: { first, _ in first })
            let earliest = ends[0].addingTimeInterval(-window)
            let modelVerdicts = verdicts.filter { $0.model == model && ($0.decidedAt > earliest || referenceKeys.contains($0.studyKey)) }
            func stratumOf(_ v: VerdictRecord, tier: Bool) -> MonitorStratum {
                let record = recordIndex[v.studyKey]
                return MonitorStratum(model: model, site: record?.site ?? "unknown site", scanner: record?.fingerprint.scanner ?? "unknown scanner",
                                      tier: tier ? (v.tier ?? .review) : nil)
            }
            var strata: [MonitorStratum: [VerdictRecord]] = [:]
            for verdict in modelVerdicts {
                strata[stratumOf(verdict, tier: false), default: []].append(verdict)
                strata[stratumOf(verdict, tier: true), default: []].append(verdict)
            }
            let inputDrifting = Set(alerts.filter { $0.kind == .inputDrift || $0.kind == .novelty }.map { $0.stratum.model + "|" + $0.stratum.site })
            for (stratum, items) in strata.sorted(by: { $0.key.description < $1.key.description }) {
                let referenceVerdicts = items.filter { referenceKeys.contains($0.studyKey) }.sorted { $0.decidedAt < $1.decidedAt }
                let later = items.filter { !referenceKeys.contains($0.studyKey) }
                var outcomes: [[String: Outcome]] = []
                for end in ends {
                    let current = later.filter { $0.decidedAt > end.addingTimeInterval(-window) && $0.decidedAt <= end }
                    outcomes.append(verdictOutcomes(reference: referenceVerdicts, current: current, settings: settings,
                                                    inputsStable: !inputDrifting.contains(stratum.model + "|" + stratum.site), strata: strata.count))
                }
                guard let last = outcomes.last else { continue }
                let current = later.filter { $0.decidedAt > now.addingTimeInterval(-window) && $0.decidedAt <= now }
                for (key, outcome) in last.sorted(by: { $0.key < $1.key }) {
                    if outcome.alert {
                        alerts.append(makeAlert(key: key, outcomes: outcomes, ends: ends, window: window, stratum: stratum,
                                                studyKeys: Array(Set(current.map(\.studyKey))).sorted(), acknowledged: acknowledged,
                                                referenceEnd: reference.to))
                    } else if let note = outcome.note, stratum.tier == nil {
                        notes.append("\(stratum): \(key): \(note)")
                    }
                }
            }
        }
        // One page per breach: a tier's override breach pages only when its scanner's breach over all tiers does not.
        let pooled = Set(alerts.filter { $0.kind == .overrideRate && $0.stratum.tier == nil }.map { "\($0.stratum.model)|\($0.stratum.site)|\($0.stratum.scanner ?? "")" })
        for index in alerts.indices where alerts[index].kind == .overrideRate && alerts[index].stratum.tier != nil {
            let s = alerts[index].stratum
            if pooled.contains("\(s.model)|\(s.site)|\(s.scanner ?? "")") { alerts[index].gated = false }
        }
        alerts.sort { ($0.gated ? 0 : 1, $0.kind.rawValue, $0.stratum.description, $0.feature) < ($1.gated ? 0 : 1, $1.kind.rawValue, $1.stratum.description, $1.feature) }
        return MonitorReport(generatedAt: now, windowDays: settings.windowDays, alerts: alerts, notes: notes, references: references,
                             studies: records.count, verdicts: verdicts.count)
    }

    /// A statistic's result in one window.
    struct Outcome {
        var kind: MonitorAlert.Kind
        var what: String
        var alert: Bool
        var gated: Bool
        var statistic: String
        var value: Double
        var threshold: Double
        var chartValue: Double?
        var chartThreshold: Double
        var chartLabel: String
        var count: Int
        var referenceCount: Int
        /// Why there is no number (insufficient data, undefined), when there is none.
        var note: String?

        /// No number: `note` says why (nil when the stratum's own note says it: too few studies).
        static func none(_ kind: MonitorAlert.Kind, _ note: String?) -> Outcome {
            Outcome(kind: kind, what: "", alert: false, gated: false, statistic: "", value: .nan, threshold: .nan, chartValue: nil,
                    chartThreshold: .nan, chartLabel: "", count: 0, referenceCount: 0, note: note)
        }
    }

    /// A feature missing from the reference, the window or both: undefined, said in words.
    static func absence(reference: Bool, window: Bool) -> Outcome? {
        guard reference || window else { return nil }
        return .none(.inputFeature, reference && window ? "undefined (absent from every header)"
                         : reference ? "undefined (absent from the reference)" : "undefined (absent from the window)")
    }

    /// −log10 p, the charted form of a p-value (its threshold −log10 α), capped at 300.
    static func surprise(_ p: Double) -> Double { min(300, -log10(max(p, 1e-300))) }

    static let numericFeatures: [(String, @Sendable (MonitoringRecord) -> Double?)] = [
        ("input mean", { $0.input?.mean }), ("input SD", { $0.input?.standardDeviation }), ("input 1st percentile", { $0.input?.p1 }),
        ("input 99th percentile", { $0.input?.p99 }), ("input saturated share", { $0.input?.saturated }), ("kVp", { $0.fingerprint.kvp }),
        ("slice thickness", { $0.fingerprint.sliceThickness }), ("pixel spacing", { $0.fingerprint.pixelSpacing }), ("exposure", { $0.fingerprint.exposure }),
    ]

    static let categoricalFeatures: [(String, @Sendable (MonitoringRecord) -> String?)] = [
        ("manufacturer", { $0.fingerprint.manufacturer }), ("scanner model", { $0.fingerprint.model }), ("software version", { $0.fingerprint.software }),
        ("station", { $0.fingerprint.station }), ("convolution kernel", { $0.fingerprint.kernel }), ("body part", { $0.fingerprint.bodyPart }),
    ]

    static func inputAndOutput(reference: [MonitoringRecord], current: [MonitoringRecord], settings: MonitorSettings,
                               stratum: MonitorStratum) -> [String: Outcome] {
        var outcomes: [String: Outcome] = [:]
        let enough = current.count >= settings.minimumStudies && reference.count >= settings.minimumStudies
        let tested = current.count <= settings.testedWindowLimit
        // Novelty first: a value never seen in the reference is reported at once, whatever the count.
        for (name, value) in categoricalFeatures {
            let known = Set(reference.compactMap(value))
            var fresh: [String: Int] = [:]
            for record in current { if let v = value(record), !known.contains(v) { fresh[v, default: 0] += 1 } }
            // Charted every week (0 while nothing is new), an alert only when something is.
            if !reference.isEmpty, !current.isEmpty, !known.isEmpty {
                let list = fresh.sorted { $0.key < $1.key }.map { "'\($0.key)' (\($0.value))" }.joined(separator: ", ")
                let studies = fresh.values.reduce(0, +)
                outcomes["novelty: " + name] = Outcome(kind: .novelty, what: "new \(name) never seen in the reference: \(list)", alert: studies > 0, gated: studies > 0,
                                                       statistic: studies == 1 ? "1 study with a new value" : "\(studies) studies with a new value", value: Double(studies), threshold: 1,
                                                       chartValue: Double(studies), chartThreshold: 1, chartLabel: "studies with a new \(name)",
                                                       count: current.count, referenceCount: reference.count)
            }
        }
        var definedInputs = 0, driftingInputs = 0
        let definedNumeric = numericFeatures.filter { _, value in reference.contains { value($0) != nil } && current.contains { value($0) != nil } }.count
        let alpha = 0.05 / Double(max(1, definedNumeric))
        for (name, value) in numericFeatures {
            let r = reference.compactMap(value), c = current.compactMap(value)
            if let absent = absence(reference: r.isEmpty, window: c.isEmpty) {
                outcomes[name] = absent
                continue
            }
            guard enough else { outcomes[name] = .none(.inputFeature, nil); continue }
            definedInputs += 1
            if tested, let ks = DriftStatistics.ks2(r, c) {
                let drifting = ks.pValue < alpha
                if drifting { driftingInputs += 1 }
                outcomes[name] = Outcome(kind: .inputFeature, what: "\(name) has shifted", alert: drifting, gated: false,
                                         statistic: String(format: "KS D %.3f, p %.2g < %.2g (0.05 Bonferroni over %d)", ks.statistic, ks.pValue, alpha, definedNumeric),
                                         value: ks.pValue, threshold: alpha, chartValue: surprise(ks.pValue), chartThreshold: surprise(alpha),
                                         chartLabel: "−log10 KS p (\(name))", count: c.count, referenceCount: r.count)
            } else if let distance = DriftStatistics.normedWasserstein(reference: r, current: c) {
                let drifting = distance >= 0.1
                if drifting { driftingInputs += 1 }
                outcomes[name] = Outcome(kind: .inputFeature, what: "\(name) has shifted", alert: drifting, gated: false,
                                         statistic: String(format: "normed Wasserstein %.3f ≥ 0.1", distance), value: distance, threshold: 0.1,
                                         chartValue: distance, chartThreshold: 0.1, chartLabel: "normed Wasserstein (\(name))", count: c.count, referenceCount: r.count)
            } else {
                definedInputs -= 1
                outcomes[name] = .none(.inputFeature, "undefined (the reference has one value only)")
            }
        }
        for (name, value) in categoricalFeatures {
            let r = reference.compactMap(value), c = current.compactMap(value)
            if let absent = absence(reference: r.isEmpty, window: c.isEmpty) {
                outcomes[name] = absent
                continue
            }
            guard enough else { outcomes[name] = .none(.inputFeature, nil); continue }
            let categories = Array(Set(r + c)).sorted()
            let index = Dictionary(uniqueKeysWithValues: categories.enumerated().map { ($1, $0) })
            var table = [[Double]](repeating: [Double](repeating: 0, count: categories.count), count: 2)
            for v in r { table[0][index[v]!] += 1 }
            for v in c { table[1][index[v]!] += 1 }
            if categories.count < 2 {
                outcomes[name] = .none(.inputFeature, "undefined (one value in reference and window)")
                continue
            }
            definedInputs += 1
            if tested, let chi = DriftStatistics.chiSquared(table) {
                let drifting = chi.pValue < 0.05
                if drifting { driftingInputs += 1 }
                outcomes[name] = Outcome(kind: .inputFeature, what: "\(name) mix has changed", alert: drifting, gated: false,
                                         statistic: String(format: "χ² %.1f (%d df), p %.2g < 0.05", chi.statistic, chi.degreesOfFreedom, chi.pValue),
                                         value: chi.pValue, threshold: 0.05, chartValue: surprise(chi.pValue), chartThreshold: surprise(0.05),
                                         chartLabel: "−log10 χ² p (\(name))", count: c.count, referenceCount: r.count)
            } else if let js = DriftStatistics.jensenShannon(table[0], table[1]) {
                let drifting = js >= 0.1
                if drifting { driftingInputs += 1 }
                outcomes[name] = Outcome(kind: .inputFeature, what: "\(name) mix has changed", alert: drifting, gated: false,
                                         statistic: String(format: "Jensen–Shannon %.3f ≥ 0.1", js), value: js, threshold: 0.1,
                                         chartValue: js, chartThreshold: 0.1, chartLabel: "Jensen–Shannon (\(name))", count: c.count, referenceCount: r.count)
            }
        }
        if definedInputs >= 2 {
            let half = driftingInputs * 2 >= definedInputs
            outcomes["input drift"] = Outcome(kind: .inputDrift, what: "\(driftingInputs) of \(definedInputs) input features have drifted", alert: half, gated: half,
                                              statistic: "\(driftingInputs) of \(definedInputs) features ≥ half", value: Double(driftingInputs),
                                              threshold: Double(definedInputs) / 2, chartValue: Double(driftingInputs) / Double(definedInputs),
                                              chartThreshold: 0.5, chartLabel: "share of input features drifting", count: current.count, referenceCount: reference.count)
        }
        // Outputs.
        guard enough else {
            outcomes["output score"] = .none(.outputScore, nil)
            return outcomes
        }
        if let psi = DriftStatistics.psi(reference: reference.map(\.rawScore), current: current.map(\.rawScore)) {
            outcomes["output score"] = Outcome(kind: .outputScore, what: psi >= 0.25 ? "the score distribution has changed (major)" : "the score distribution has drifted",
                                               alert: psi >= 0.1, gated: false,
                                               statistic: String(format: "PSI %.3f ≥ %@", psi, psi >= 0.25 ? "0.25 (major)" : "0.1"), value: psi,
                                               threshold: psi >= 0.25 ? 0.25 : 0.1, chartValue: psi, chartThreshold: 0.1, chartLabel: "PSI of the model score",
                                               count: current.count, referenceCount: reference.count)
        }
        func rate(_ key: String, _ kind: MonitorAlert.Kind, _ label: String, _ test: (MonitoringRecord) -> Bool) {
            let r = reference.filter(test).count, c = current.filter(test).count
            let table: [[Double]] = [[Double(r), Double(reference.count - r)], [Double(c), Double(current.count - c)]]
            guard let chi = DriftStatistics.chiSquared(table) else {
                outcomes[key] = .none(kind, "undefined (the same in every study)")
                return
            }
            let before = Double(r) / Double(reference.count), now = Double(c) / Double(current.count)
            outcomes[key] = Outcome(kind: kind, what: String(format: "%@ went from %.1f%% to %.1f%%", label, before * 100, now * 100),
                                    alert: chi.pValue < 0.05, gated: false, statistic: String(format: "χ² %.1f, p %.2g < 0.05", chi.statistic, chi.pValue),
                                    value: chi.pValue, threshold: 0.05, chartValue: now, chartThreshold: before, chartLabel: "\(label) (line: reference)",
                                    count: current.count, referenceCount: reference.count)
        }
        rate("positive-call rate", .positiveRate, "the positive-call rate") { $0.probability >= 0.5 }
        rate("out-of-domain rate", .outOfDomain, "the out-of-domain rate") { $0.outOfDomain }
        var tierTable = [[Double]](repeating: [0, 0, 0], count: 2)
        for record in reference { tierTable[0][ConfidenceTier.allCases.firstIndex(of: record.tier)!] += 1 }
        for record in current { tierTable[1][ConfidenceTier.allCases.firstIndex(of: record.tier)!] += 1 }
        if let chi = DriftStatistics.chiSquared(tierTable) {
            let mix = ConfidenceTier.allCases.enumerated().map { String(format: "%@ %.0f%%", $1.rawValue, tierTable[1][$0] / Double(current.count) * 100) }
            outcomes["tier mix"] = Outcome(kind: .tierMix, what: "the tier mix has changed (now " + mix.joined(separator: ", ") + ")", alert: chi.pValue < 0.05,
                                           gated: false, statistic: String(format: "χ² %.1f (%d df), p %.2g < 0.05", chi.statistic, chi.degreesOfFreedom, chi.pValue),
                                           value: chi.pValue, threshold: 0.05, chartValue: surprise(chi.pValue), chartThreshold: surprise(0.05),
                                           chartLabel: "−log10 χ² p (tier mix)", count: current.count, referenceCount: reference.count)
        }
        return outcomes
    }

    /// A verdict rate's control limit: the reference's rate plus three standard deviations, the
    /// deviation taken from the reference's five periods (each period's rate against the mean of
    /// the other four) and scaled to the window's count, never below the binomial deviation; the
    /// uncertainty of the reference's own rate is added (in quadrature), as the reference is a sample too.
    public static func controlLimit(referenceRates: [(events: Int, trials: Int)], windowTrials: Int) -> (rate: Double, limit: Double)? {
        let events = referenceRates.reduce(0) { $0 + $1.events }, trials = referenceRates.reduce(0) { $0 + $1.trials }
        guard referenceRates.count >= 3, trials > 0, windowTrials > 0, referenceRates.allSatisfy({ $0.trials > 0 }) else { return nil }
        let rate = Double(events) / Double(trials)
        let rates = referenceRates.map { Double($0.events) / Double($0.trials) }
        var squares = 0.0
        for index in rates.indices {
            let others = rates.enumerated().filter { $0.offset != index }.map(\.element)
            let deviation = rates[index] - others.reduce(0, +) / Double(others.count)
            squares += deviation * deviation
        }
        let periodSize = Double(trials) / Double(referenceRates.count)
        let scaled = (squares / Double(rates.count)).squareRoot() * (periodSize / Double(windowTrials)).squareRoot()
        let binomial = (rate * (1 - rate) / Double(windowTrials)).squareRoot()
        let window = max(scaled, binomial)
        return (rate, rate + 3 * (window * window + rate * (1 - rate) / Double(trials)).squareRoot())
    }

    /// `strata`: how many strata are tested together; the two-proportion test's 0.05 is shared
    /// among them (Bonferroni), so a department with many scanners and tiers is not paged by chance.
    static func verdictOutcomes(reference: [VerdictRecord], current: [VerdictRecord], settings: MonitorSettings, inputsStable: Bool,
                                strata: Int) -> [String: Outcome] {
        let alpha = 0.05 / Double(max(1, strata))
        var outcomes: [String: Outcome] = [:]
        func periods(_ items: [VerdictRecord], _ isTrial: (VerdictRecord) -> Bool, _ isEvent: (VerdictRecord) -> Bool) -> [(events: Int, trials: Int)] {
            let trials = items.filter(isTrial)
            guard trials.count >= 5 else { return [] }
            return (0..<5).map { k in
                let part = trials[(trials.count * k / 5)..<(trials.count * (k + 1) / 5)]
                return (part.filter(isEvent).count, part.count)
            }
        }
        func rate(_ key: String, _ kind: MonitorAlert.Kind, gated: Bool, _ isTrial: (VerdictRecord) -> Bool, _ isEvent: (VerdictRecord) -> Bool) {
            let trials = current.filter(isTrial)
            guard trials.count >= settings.minimumVerdicts else {
                outcomes[key] = .none(kind, "insufficient data (\(trials.count) verdicts in the window; needs \(settings.minimumVerdicts))")
                return
            }
            let referencePeriods = periods(reference, isTrial, isEvent)
            guard referencePeriods.reduce(0, { $0 + $1.trials }) >= settings.minimumVerdicts,
                  let control = controlLimit(referenceRates: referencePeriods, windowTrials: trials.count) else {
                outcomes[key] = .none(kind, "insufficient data (\(reference.filter(isTrial).count) verdicts in the reference; needs \(settings.minimumVerdicts))")
                return
            }
            let events = trials.filter(isEvent).count
            let observed = Double(events) / Double(trials.count)
            let referenceEvents = referencePeriods.reduce(0) { $0 + $1.events }, referenceTrials = referencePeriods.reduce(0) { $0 + $1.trials }
            let test = DriftStatistics.twoProportion(successes: events, trials: trials.count, referenceSuccesses: referenceEvents, referenceTrials: referenceTrials)
            let breach = observed > control.limit && (test?.pValue ?? 1) < alpha
            outcomes[key] = Outcome(kind: kind, what: String(format: "%@ %.1f%% against %.1f%% in the reference", key, observed * 100, control.rate * 100),
                                    alert: breach, gated: gated && breach,
                                    statistic: String(format: "%.1f%% > control limit %.1f%%, two-proportion p %.2g < %.2g (0.05 over %d strata)", observed * 100, control.limit * 100,
                                                       test?.pValue ?? 1, alpha, strata),
                                    value: observed, threshold: control.limit, chartValue: observed, chartThreshold: control.limit,
                                    chartLabel: "\(key) (line: control limit)", count: trials.count, referenceCount: referenceTrials)
        }
        rate("override rate", .overrideRate, gated: true, { $0.action != .deferred }, { $0.action == .override })
        rate("defer rate", .deferRate, gated: false, { _ in true }, { $0.action == .deferred })
        // Automation bias: accepting more, faster, while what the model sees has not changed.
        if inputsStable, current.count >= settings.minimumVerdicts, reference.count >= settings.minimumVerdicts {
            let accepted = current.filter { $0.action == .accept }.count, referenceAccepted = reference.filter { $0.action == .accept }.count
            let test = DriftStatistics.twoProportion(successes: accepted, trials: current.count, referenceSuccesses: referenceAccepted, referenceTrials: reference.count)
            let median = { (items: [VerdictRecord]) in DriftStatistics.quantile(sorted: items.map(\.secondsSpent).sorted(), 0.5) }
            let before = median(reference), now = median(current)
            if let test, test.pValue < 0.01, before > 0, now <= before * 0.7 {
                outcomes["accept rate and time"] = Outcome(
                    kind: .automationBias,
                    what: String(format: "accept rate %.0f%% (reference %.0f%%) with median %.0f s to decide (reference %.0f s) while inputs are stable: for quality review only",
                                 Double(accepted) / Double(current.count) * 100, Double(referenceAccepted) / Double(reference.count) * 100, now, before),
                    alert: true, gated: false, statistic: String(format: "accept p %.2g < 0.01, time −%.0f%% ≥ 30%%", test.pValue, (1 - now / before) * 100),
                    value: now / before, threshold: 0.7, chartValue: Double(accepted) / Double(current.count), chartThreshold: Double(referenceAccepted) / Double(reference.count),
                    chartLabel: "accept rate (line: reference)", count: current.count, referenceCount: reference.count)
            }
        }
        return outcomes
    }

    static func makeAlert(key: String, outcomes: [[String: Outcome]], ends: [Date], window: TimeInterval, stratum: MonitorStratum,
                          studyKeys: [String], acknowledged: Set<String>, referenceEnd: Date) -> MonitorAlert {
        let last = outcomes.last![key]!
        var first = outcomes.count - 1
        while first > 0, outcomes[first - 1][key]?.alert == true { first -= 1 }
        // The first alerting window's start, never inside the reference.
        let since = max(ends[first].addingTimeInterval(-window), referenceEnd)
        let id = shortHash("\(last.kind.rawValue)|\(key)|\(stratum.description)|\(Int(since.timeIntervalSince1970 / 86_400))")
        return MonitorAlert(id: id, kind: last.kind, feature: key, what: last.what, stratum: stratum, since: since,
                            windowStart: ends.last!.addingTimeInterval(-window), windowEnd: ends.last!, statistic: last.statistic, value: last.value,
                            threshold: last.threshold, count: last.count, referenceCount: last.referenceCount, gated: last.gated,
                            acknowledged: acknowledged.contains(id),
                            series: zip(ends, outcomes).map { MonitorAlert.Point(windowEnd: $0, value: $1[key]?.chartValue, alert: $1[key]?.alert ?? false) },
                            chartLabel: last.chartLabel, chartThreshold: last.chartThreshold, studyKeys: studyKeys)
    }

    /// FNV-1a, 64 bits, as 10 hex digits: an id a person can type.
    static func shortHash(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(String(hash, radix: 16).suffix(10))
    }

    /// Clocks that went backwards in the ledger (a decision recorded after another, with an earlier time).
    static func clockNotes(_ verdicts: [VerdictRecord]) -> [String] {
        let ordered = verdicts.sorted { $0.sequence < $1.sequence }
        var backwards = 0, firstRow: Int?
        var latest = Date.distantPast
        for verdict in ordered {
            if verdict.decidedAt < latest.addingTimeInterval(-60) {
                backwards += 1
                if firstRow == nil { firstRow = verdict.sequence }
            }
            latest = max(latest, verdict.decidedAt)
        }
        guard backwards > 0, let firstRow else { return [] }
        return ["the ledger's clock went backwards at \(backwards) decision(s) (first at decision \(firstRow)): each decision is counted in the window of its own time"]
    }
}

/// Monitoring as the reviewer sees it (port; the services implement it over the result store
/// and the ledger): the report, acknowledgements, and which worklist studies an alert is about.
public protocol MonitorSource: Sendable {
    func report() throws -> MonitorReport
    /// Records the acknowledgement (with its comment) as an audit event.
    func acknowledge(_ alert: MonitorAlert, comment: String, reader: String) throws -> LedgerReceipt
    /// The Study Instance UIDs among `uids` whose monitoring key is in `keys`.
    func studies(matching keys: Set<String>, among uids: [String]) -> [String]
}
