/// One image instance of a series as the worklist knows it: where it is and where it sits.
public struct InstanceEntry: Codable, Sendable, Equatable {
    /// Path of the file on disk.
    public var path: String
    /// The instance's header.
    public var header: ImageHeader

    /// Pairs a file with its header.
    public init(path: String, header: ImageHeader) {
        self.path = path
        self.header = header
    }
}

/// A series: instances ordered along the slice normal (or by instance number).
public struct Series: Sendable, Equatable {
    /// Series Instance UID.
    public var seriesInstanceUID: String
    /// The instances, in display order.
    public var instances: [InstanceEntry]

    /// Groups instances of one series and orders them.
    public init(seriesInstanceUID: String, instances: [InstanceEntry]) {
        self.seriesInstanceUID = seriesInstanceUID
        self.instances = SliceOrdering.ordered(instances)
    }

    /// The first instance's header, which speaks for the series.
    public var header: ImageHeader { instances.first?.header ?? ImageHeader() }
    /// Images in the series, counting every frame of multi-frame instances.
    public var imageCount: Int { instances.reduce(0) { $0 + max(1, $1.header.numberOfFrames) } }
}

/// A study: its series, ordered by series number.
public struct Study: Sendable, Equatable {
    /// Study Instance UID.
    public var studyInstanceUID: String
    /// The series, ordered by series number then UID.
    public var series: [Series]

    /// Groups series of one study and orders them.
    public init(studyInstanceUID: String, series: [Series]) {
        self.studyInstanceUID = studyInstanceUID
        self.series = series.sorted {
            ($0.header.seriesNumber ?? Int.max, $0.seriesInstanceUID) < ($1.header.seriesNumber ?? Int.max, $1.seriesInstanceUID)
        }
    }

    /// The first series' header, which speaks for the study.
    public var header: ImageHeader { series.first?.header ?? ImageHeader() }
    /// Distinct modalities in series order.
    public var modalities: [String] {
        var seen: [String] = []
        for item in series where !seen.contains(item.header.modality) { seen.append(item.header.modality) }
        return seen
    }
    /// Instances over all series.
    public var instanceCount: Int { series.reduce(0) { $0 + $1.instances.count } }
    /// Images over all series, counting frames.
    public var imageCount: Int { series.reduce(0) { $0 + $1.imageCount } }

    /// Groups instances into studies and series; studies ordered by date then UID.
    public static func assemble(_ instances: [InstanceEntry]) -> [Study] {
        var byStudy: [String: [String: [InstanceEntry]]] = [:]
        for instance in instances {
            byStudy[instance.header.studyInstanceUID, default: [:]][instance.header.seriesInstanceUID, default: []].append(instance)
        }
        let studies = byStudy.map { studyUID, bySeries in
            Study(studyInstanceUID: studyUID, series: bySeries.map { Series(seriesInstanceUID: $0.key, instances: $0.value) })
        }
        return studies.sorted { ($0.header.studyDate, $0.studyInstanceUID) < ($1.header.studyDate, $1.studyInstanceUID) }
    }
}
