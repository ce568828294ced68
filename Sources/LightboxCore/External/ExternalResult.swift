import Foundation

/// One AI object of another system as a decision records it: what it is, and a hash of its bytes.
public struct ExternalObjectReference: Sendable, Equatable, Codable {
    public var sopInstanceUID: String
    public var sopClassUID: String = ""
    public var seriesInstanceUID: String = ""
    public var studyInstanceUID: String = ""
    /// SEG, PM or SR.
    public var kind: String
    public var path: String
    /// SHA-256 of the object's file (hex).
    public var contentHash: String

    public init(sopInstanceUID: String, kind: String, path: String, contentHash: String) {
        self.sopInstanceUID = sopInstanceUID
        self.kind = kind
        self.path = path
        self.contentHash = contentHash
    }
}

/// What a finding of an external result is in its object: a segment or a measurement group.
public struct ExternalFinding: Sendable, Equatable, Codable {
    public var objectUID: String
    public var trackingUID: String?
    public var trackingID: String?
    /// The segment label or the group's title.
    public var label: String
    /// The source's own confidence for it, when it gives one (not calibrated by Lightbox).
    public var probability: Double?
    /// The measurements shown beside it ("Diameter 12 mm").
    public var measurements: [String]

    public init(objectUID: String, trackingUID: String?, trackingID: String?, label: String, probability: Double?, measurements: [String] = []) {
        self.objectUID = objectUID
        self.trackingUID = trackingUID
        self.trackingID = trackingID
        self.label = label
        self.probability = probability
        self.measurements = measurements
    }
}

/// Another system's AI result on a study (one algorithm: its SEG, map and report objects
/// together), shaped as Lightbox's own: a `StudyResult` whose findings are the segments and
/// measurement groups (aligned with `findings`), and a heatmap layer per slice where there is a
/// segmentation or a map.
public struct ExternalResult: Sendable, Equatable {
    public var source: String
    public var version: String
    public var objects: [ExternalObjectReference]
    public var result: StudyResult
    public var findings: [ExternalFinding]
    /// Whether the source gave any probability or confidence (else the tier is Review).
    public var confidenceGiven: Bool
    /// The overlay, by slice (made when asked for, from the objects' frames); segmentations are
    /// drawn as contours.
    public var layers: ExternalLayers
    public var contour: Bool
    /// Findings that could not be placed on the study's images (an image outside the study…),
    /// listed, not dropped.
    public var unplaced: [String]
    /// What is wrong in the objects, each named with the reason.
    public var problems: [String]

    /// "Vendor Nodule AI 2.4.1".
    public var title: String { version.isEmpty ? source : "\(source) \(version)" }

    /// The objects' kinds, "SEG+SR".
    public var objectKinds: String { objects.map(\.kind).joined(separator: "+") }

    public static let noConfidence = "no confidence given by the source"

    /// What a decision on finding `finding` (nil: the whole result) records of the objects.
    public func assessment(finding: Int?) -> ExternalAssessment? {
        let decided = finding.flatMap { $0 < findings.count ? findings[$0] : nil }
        guard let object = decided.flatMap({ found in objects.first { $0.sopInstanceUID == found.objectUID } }) ?? objects.first else { return nil }
        return ExternalAssessment(objectUID: object.sopInstanceUID, objectKind: object.kind, objectHash: object.contentHash,
                                  trackingID: decided?.trackingID, trackingUID: decided?.trackingUID)
    }
}

/// An external result's overlay: per slice, the object frames that make its layer, read and
/// combined (the highest value wins) only when the slice is drawn, the last few kept. A 300-frame
/// 512×512 SEG would be 300 MB of float layers made up front.
public final class ExternalLayers: @unchecked Sendable, Equatable {
    /// One frame's part of a slice's layer: values 0…1 at the given size.
    public struct Part: Sendable {
        public var width: Int
        public var height: Int
        public var values: @Sendable () throws -> [Float]
    }

    private var parts: [SliceKey: [Part]] = [:]
    private let lock = NSLock()
    private var recent: [SliceKey: Heatmap] = [:]
    private var order: [SliceKey] = []
    private static let keep = 16

    public init() {}

    /// The slices that have a layer.
    public var keys: Set<SliceKey> { Set(parts.keys) }
    public var count: Int { parts.count }

    func add(_ key: SliceKey, _ part: Part) { parts[key, default: []].append(part) }

    /// The layer of `key`, nil when it has none (or its frames cannot be read any more).
    public subscript(key: SliceKey) -> Heatmap? {
        lock.lock()
        if let held = recent[key] {
            lock.unlock()
            return held
        }
        lock.unlock()
        guard let list = parts[key], let first = list.first else { return nil }
        var values: [Float]
        do {
            values = try first.values()
            for part in list.dropFirst() where part.width == first.width && part.height == first.height {
                let more = try part.values()
                for index in values.indices where more[index] > values[index] { values[index] = more[index] }
            }
        } catch {
            return nil
        }
        guard values.count == first.width * first.height else { return nil }
        let layer = Heatmap(width: first.width, height: first.height, values: values)
        lock.lock()
        if recent[key] == nil { order.append(key) }
        recent[key] = layer
        if order.count > Self.keep { recent[order.removeFirst()] = nil }
        lock.unlock()
        return layer
    }

    public static func == (a: ExternalLayers, b: ExternalLayers) -> Bool { a === b || a.keys == b.keys }
}

/// Other systems' AI results on a study, read from the objects beside its images (port).
public protocol ExternalResultSource: Sendable {
    /// One result per algorithm, and the objects that could not be read (each named, with the
    /// reason); `objects`: the study's object files when known (an index), else its images' folders are looked in.
    func externalResults(for study: Study, objects: [String]?) -> (results: [ExternalResult], problems: [String])
}

/// Where an AI object's frame or region lies among the study's slices.
public struct SliceLocator: Sendable {
    public struct Place: Sendable, Equatable {
        public var seriesInstanceUID: String
        /// Index in the series' slices (display order).
        public var slice: Int
        public var key: SliceKey
        public var header: ImageHeader
    }

    private var bySOP: [String: (series: String, first: Int, instance: InstanceEntry)] = [:]
    /// Whether the study holds the instance.
    func holds(_ sopInstanceUID: String) -> Bool { bySOP[sopInstanceUID] != nil }
    private var planes: [(series: String, slice: Int, key: SliceKey, header: ImageHeader)] = []

    public init(_ study: Study) {
        for series in study.series {
            var index = 0
            for instance in series.instances {
                bySOP[instance.header.sopInstanceUID] = (series.seriesInstanceUID, index, instance)
                let frames = max(1, instance.header.numberOfFrames)
                if frames == 1 {
                    planes.append((series.seriesInstanceUID, index, SliceKey(path: instance.path, frame: 0), instance.header))
                }
                index += frames
            }
        }
    }

    /// The image named by `reference` (its frame, from 1, for a multi-frame image).
    public func place(_ reference: ImageReference) -> Place? {
        guard let found = bySOP[reference.sopInstanceUID] else { return nil }
        let frames = max(1, found.instance.header.numberOfFrames)
        let frame = min(max((reference.frame ?? 1) - 1, 0), frames - 1)
        return Place(seriesInstanceUID: found.series, slice: found.first + frame, key: SliceKey(path: found.instance.path, frame: frame),
                     header: found.instance.header)
    }

    /// The slice whose plane holds `position` (mm, patient coordinates) in the same frame of
    /// reference and orientation, within half a slice thickness.
    public func place(position: [Double], orientation: [Double]?, frameOfReferenceUID: String) -> Place? {
        guard position.count == 3 else { return nil }
        var best: (Place, Double)?
        for plane in planes {
            let header = plane.header
            if !frameOfReferenceUID.isEmpty, let own = header.frameOfReferenceUID, own != frameOfReferenceUID { continue }
            guard let origin = header.imagePositionPatient, let cosines = header.imageOrientationPatient ?? orientation else { continue }
            if let orientation, orientation.count == 6, zip(orientation, cosines).contains(where: { abs($0 - $1) > 1e-3 }) { continue }
            let normal = SliceLocator.normal(cosines)
            var along = 0.0
            for axis in 0..<3 { along += (position[axis] - origin[axis]) * normal[axis] }
            let distance = abs(along)
            let tolerance = max((header.sliceThickness ?? 1) / 2, 0.01)
            guard distance <= tolerance else { continue }
            let place = Place(seriesInstanceUID: plane.series, slice: plane.slice, key: plane.key, header: header)
            if best == nil || distance < best!.1 { best = (place, distance) }
        }
        return best?.0
    }

    /// The unit normal of a plane with these row and column direction cosines.
    static func normal(_ c: [Double]) -> [Double] {
        let n = [c[1] * c[5] - c[2] * c[4], c[2] * c[3] - c[0] * c[5], c[0] * c[4] - c[1] * c[3]]
        let length = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).squareRoot()
        return length > 0 ? n.map { $0 / length } : [0, 0, 1]
    }

    /// A patient-space point (mm) as a pixel position (column, row) on `header`'s image.
    public static func pixel(of point: [Double], on header: ImageHeader) -> (x: Double, y: Double)? {
        guard point.count >= 3, let origin = header.imagePositionPatient, let cosines = header.imageOrientationPatient,
              let spacing = header.pixelSpacing, spacing.count == 2, spacing[0] > 0, spacing[1] > 0 else { return nil }
        let offset = (0..<3).map { point[$0] - origin[$0] }
        let alongRow = (0..<3).reduce(0) { $0 + offset[$1] * cosines[$1] }          // towards increasing column
        let alongColumn = (0..<3).reduce(0) { $0 + offset[$1] * cosines[3 + $1] }   // towards increasing row
        return (alongRow / spacing[1], alongColumn / spacing[0])
    }
}

/// Builds external results from read AI objects (pixels through the given readers, so the core
/// needs no DICOM library).
public enum ExternalResultBuilder {
    public struct SegmentationInput: Sendable {
        public var object: SegmentationObject
        public var reference: ExternalObjectReference
        public var frame: @Sendable (Int) throws -> [UInt8]
        public init(object: SegmentationObject, reference: ExternalObjectReference, frame: @escaping @Sendable (Int) throws -> [UInt8]) {
            self.object = object
            self.reference = reference
            self.frame = frame
        }
    }

    public struct MapInput: Sendable {
        public var object: ParametricMapObject
        public var reference: ExternalObjectReference
        /// Real-world values of a frame.
        public var frame: @Sendable (Int) throws -> [Float]
        public init(object: ParametricMapObject, reference: ExternalObjectReference, frame: @escaping @Sendable (Int) throws -> [Float]) {
            self.object = object
            self.reference = reference
            self.frame = frame
        }
    }

    public struct ReportInput: Sendable {
        public var object: MeasurementReportObject
        public var reference: ExternalObjectReference
        public init(object: MeasurementReportObject, reference: ExternalObjectReference) {
            self.object = object
            self.reference = reference
        }
    }

    /// One result per algorithm (name and version), in the order the objects come.
    public static func build(study: Study, segmentations: [SegmentationInput], maps: [MapInput], reports: [ReportInput],
                             thresholds: ConfidenceTier.Thresholds = .init()) -> [ExternalResult] {
        let locator = SliceLocator(study)
        var order: [String] = []
        var partial: [String: Partial] = [:]
        func with(_ source: String, _ version: String, _ body: (inout Partial) -> Void) {
            let key = source + "\u{1}" + version
            if partial[key] == nil {
                order.append(key)
                partial[key] = Partial(source: source, version: version)
            }
            body(&partial[key]!)
        }
        for input in segmentations {
            let first = input.object.segments.first
            let name = first.map { $0.algorithmName }.flatMap { $0.isEmpty ? nil : $0 } ?? (input.object.identity.modelName.isEmpty ? "segmentation" : input.object.identity.modelName)
            let version = first.map { $0.algorithmVersion }.flatMap { $0.isEmpty ? nil : $0 } ?? input.object.identity.softwareVersions
            with(name, version) { addSegmentation(input, locator: locator, to: &$0) }
        }
        for input in maps {
            let name = input.object.identity.modelName.isEmpty ? (input.object.identity.contentLabel.isEmpty ? "parametric map" : input.object.identity.contentLabel)
                : input.object.identity.modelName
            with(name, input.object.identity.softwareVersions) { addMap(input, locator: locator, to: &$0) }
        }
        for input in reports {
            with(input.object.sourceName, input.object.sourceVersion) { addReport(input, locator: locator, to: &$0) }
        }
        return order.compactMap { partial[$0]?.result(study: study, thresholds: thresholds) }
    }

    /// A result being gathered.
    struct Partial {
        var source: String
        var version: String
        var objects: [ExternalObjectReference] = []
        var findings: [(SeriesFinding, ExternalFinding)] = []
        var layers = ExternalLayers()
        var contour = false
        var unplaced: [String] = []
        var problems: [String] = []
        var slicesCovered = Set<SliceKey>()

        func result(study: Study, thresholds: ConfidenceTier.Thresholds) -> ExternalResult {
            let ordered = findings.sorted {
                ($0.0.seriesInstanceUID, $0.0.finding.firstSlice, $0.0.finding.peakSlice) < ($1.0.seriesInstanceUID, $1.0.finding.firstSlice, $1.0.finding.peakSlice)
            }
            let probabilities = ordered.compactMap(\.1.probability)
            let given = !probabilities.isEmpty
            let probability = probabilities.max() ?? 0
            let model = version.isEmpty ? source : "\(source)@\(version)"
            let result = StudyResult(
                studyInstanceUID: study.studyInstanceUID, model: source, modelVersion: version, probability: probability,
                rawProbability: probability, tier: given ? ConfidenceTier.of(probability: probability, thresholds: thresholds) : .review,
                reason: given ? nil : ExternalResult.noConfidence,
                findings: ordered.map { var finding = $0.0; finding.model = model; return finding },
                imagesAnalysed: slicesCovered.count, imagesSkipped: 0)
            return ExternalResult(source: source, version: version, objects: objects, result: result, findings: ordered.map(\.1),
                                  confidenceGiven: given, layers: layers, contour: contour, unplaced: unplaced, problems: problems)
        }

        mutating func layer(_ key: SliceKey, width: Int, height: Int, values: @escaping @Sendable () throws -> [Float]) {
            layers.add(key, ExternalLayers.Part(width: width, height: height, values: values))
            slicesCovered.insert(key)
        }
    }

    static func name(_ reference: ExternalObjectReference) -> String {
        "\(reference.kind) \((reference.path as NSString).lastPathComponent)"
    }

    /// Places a frame: by its source image reference, else by its plane position.
    struct Unplaced: Error { var reason: String }

    static func place(_ frame: AIObjectFrame, geometry: AIObjectGeometry, frameOfReferenceUID: String, locator: SliceLocator) -> Result<SliceLocator.Place, Unplaced> {
        if let source = frame.sources.first {
            guard let place = locator.place(source) else { return .failure(Unplaced(reason: "its source image \(source.sopInstanceUID) is not in this study")) }
            return .success(place)
        }
        guard let position = frame.position else { return .failure(Unplaced(reason: "it names no source image and has no plane position")) }
        guard let place = locator.place(position: position, orientation: geometry.orientation, frameOfReferenceUID: frameOfReferenceUID) else {
            return .failure(Unplaced(reason: "no slice of this study lies at its plane position \(position.map { String(format: "%.1f", $0) }.joined(separator: ", "))"))
        }
        return .success(place)
    }

    static func addSegmentation(_ input: SegmentationInput, locator: SliceLocator, to partial: inout Partial) {
        let seg = input.object
        let name = name(input.reference)
        partial.objects.append(input.reference)
        partial.contour = true
        let maximum = Float(seg.maximumValue)
        let known = Set(seg.segments.map(\.number))
        // Per segment and series: the slices it covers, with each slice's extent.
        struct Extent { var first = Int.max, last = Int.min, minX = Int.max, minY = Int.max, maxX = Int.min, maxY = Int.min
                        var peak: Float = 0, peakSlice = 0, peakArea = 0 }
        var extents: [Int: [String: Extent]] = [:]
        var strays = 0, misplaced: [String] = [], sized = 0
        for (index, frame) in seg.frames.enumerated() {
            guard let number = frame.segment, known.contains(number) else {
                strays += 1
                continue
            }
            let place: SliceLocator.Place
            switch self.place(frame, geometry: seg.geometry, frameOfReferenceUID: seg.identity.frameOfReferenceUID, locator: locator) {
            case .success(let found): place = found
            case .failure(let unplaced):
                misplaced.append("frame \(index + 1): \(unplaced.reason)")
                continue
            }
            guard place.header.rows == seg.geometry.rows, place.header.columns == seg.geometry.columns else {
                sized += 1
                if sized == 1 {
                    partial.problems.append("\(name): frames are \(seg.geometry.columns) × \(seg.geometry.rows) but the image is \(place.header.columns) × \(place.header.rows) (not drawn)")
                }
                continue
            }
            let pixels: [UInt8]
            do { pixels = try input.frame(index) } catch {
                partial.problems.append("\(name): frame \(index + 1) cannot be read (\(error))")
                continue
            }
            let width = seg.geometry.columns, height = seg.geometry.rows
            var extent = extents[number]?[place.seriesInstanceUID] ?? Extent()
            var area = 0
            var peakStored: UInt8 = 0
            pixels.withUnsafeBufferPointer { buffer in
                for y in 0..<height {
                    let row = y * width
                    var first = -1, last = -1
                    for x in 0..<width {
                        let stored = buffer[row + x]
                        if stored != 0 {
                            if first < 0 { first = x }
                            last = x
                            area += 1
                            if stored > peakStored { peakStored = stored }
                        }
                    }
                    if first >= 0 {
                        extent.minX = min(extent.minX, first); extent.maxX = max(extent.maxX, last)
                        extent.minY = min(extent.minY, y); extent.maxY = max(extent.maxY, y)
                    }
                }
            }
            let peak = min(Float(peakStored) / maximum, 1)
            let read = input.frame
            if area > 0 {
                partial.layer(place.key, width: width, height: height, values: { try read(index).map { min(Float($0) / maximum, 1) } })
            }
            guard area > 0 else { continue }
            extent.first = min(extent.first, place.slice)
            extent.last = max(extent.last, place.slice)
            if area > extent.peakArea { extent.peakArea = area; extent.peakSlice = place.slice }
            extent.peak = max(extent.peak, peak)
            extents[number, default: [:]][place.seriesInstanceUID] = extent
        }
        if strays > 0 { partial.problems.append("\(name): \(strays) frame(s) name no segment of this object (left out)") }
        if let first = misplaced.first {
            partial.problems.append("\(name): \(misplaced.count) frame(s) cannot be placed (\(first))")
        }
        for segment in seg.segments {
            let fractional = if case .fractional(let probability, _) = seg.kind { probability } else { false }
            guard let bySeries = extents[segment.number], !bySeries.isEmpty else {
                partial.unplaced.append("\(segment.label.isEmpty ? "segment \(segment.number)" : segment.label) (\(name)): on no image of this study")
                continue
            }
            for (series, extent) in bySeries.sorted(by: { $0.key < $1.key }) {
                let finding = Finding(firstSlice: extent.first, lastSlice: extent.last,
                                      box: [extent.minX, extent.minY, extent.maxX - extent.minX + 1, extent.maxY - extent.minY + 1],
                                      peak: Double(extent.peak), peakSlice: extent.peakSlice)
                let label = segment.label.isEmpty ? "segment \(segment.number)" : segment.label
                partial.findings.append((SeriesFinding(seriesInstanceUID: series, finding: finding),
                                         ExternalFinding(objectUID: seg.identity.sopInstanceUID, trackingUID: segment.trackingUID.isEmpty ? nil : segment.trackingUID,
                                                         trackingID: segment.trackingID.isEmpty ? nil : segment.trackingID, label: label,
                                                         probability: fractional ? Double(extent.peak) : nil,
                                                         measurements: [segment.type?.meaning].compactMap { $0 })))
            }
        }
    }

    static func addMap(_ input: MapInput, locator: SliceLocator, to partial: inout Partial) {
        let map = input.object
        let name = name(input.reference)
        partial.objects.append(input.reference)
        var misplaced: [String] = []
        var sized = 0
        // Scaled to 0…1 for the overlay by the mapping's range (the values as they are when none).
        let mapping = map.mappings.first
        let low = mapping?.firstValue.flatMap { value in mapping.map { Float(Double(value) * $0.slope + $0.intercept) } } ?? 0
        let high = mapping?.lastValue.flatMap { value in mapping.map { Float(Double(value) * $0.slope + $0.intercept) } } ?? 1
        let span = high > low ? high - low : 1
        for (index, frame) in map.frames.enumerated() {
            let place: SliceLocator.Place
            switch self.place(frame, geometry: map.geometry, frameOfReferenceUID: map.identity.frameOfReferenceUID, locator: locator) {
            case .success(let found): place = found
            case .failure(let unplaced):
                misplaced.append("frame \(index + 1): \(unplaced.reason)")
                continue
            }
            guard place.header.rows == map.geometry.rows, place.header.columns == map.geometry.columns else {
                sized += 1
                if sized == 1 {
                    partial.problems.append("\(name): the map is \(map.geometry.columns) × \(map.geometry.rows) but the image is \(place.header.columns) × \(place.header.rows) (not drawn)")
                }
                continue
            }
            let read = input.frame
            partial.layer(place.key, width: map.geometry.columns, height: map.geometry.rows, values: { try read(index).map { ($0 - low) / span } })
        }
        if let first = misplaced.first { partial.problems.append("\(name): \(misplaced.count) frame(s) cannot be placed (\(first))") }
    }

    static func addReport(_ input: ReportInput, locator: SliceLocator, to partial: inout Partial) {
        let report = input.object
        let name = name(input.reference)
        partial.objects.append(input.reference)
        partial.problems += report.problems.map { "\(name): \($0)" }
        let dangling = report.evidence.filter { $0.studyInstanceUID == report.studyInstanceUID && !locator.holds($0.sopInstanceUID) }
        if let first = dangling.first {
            partial.problems.append("\(name): \(dangling.count) evidence reference(s) name no instance of this study (\(first.sopInstanceUID))")
        }
        for (index, group) in report.groups.enumerated() {
            let title = group.trackingID ?? "group \(index + 1)"
            let external = ExternalFinding(objectUID: report.sopInstanceUID, trackingUID: group.trackingUID, trackingID: group.trackingID,
                                           label: title, probability: group.probability,
                                           measurements: group.measurements.filter { $0.confidence == nil }.map {
                                               "\($0.concept?.meaning ?? "value") \(String(format: "%g", $0.value)) \($0.unit?.value ?? "")"
                                                   .trimmingCharacters(in: .whitespaces)
                                           })
            guard let region = group.region else {
                partial.unplaced.append("\(title) (\(name)): no image region")
                continue
            }
            var place: SliceLocator.Place?
            var pixels: [(Double, Double)] = []
            if region.dimensions == 2 {
                guard let image = region.image, let found = locator.place(image) else {
                    partial.unplaced.append("\(title) (\(name)): on image \(region.image?.sopInstanceUID ?? "?"), which is not in this study")
                    continue
                }
                place = found
                pixels = stride(from: 0, to: region.points.count - 1, by: 2).map { (region.points[$0], region.points[$0 + 1]) }
            } else {
                let points = stride(from: 0, to: region.points.count - 2, by: 3).map { Array(region.points[$0..<($0 + 3)]) }
                let centre = (0..<3).map { axis in points.map { $0[axis] }.reduce(0, +) / Double(points.count) }
                guard let found = locator.place(position: centre, orientation: nil, frameOfReferenceUID: region.frameOfReferenceUID ?? "") else {
                    partial.unplaced.append("\(title) (\(name)): its 3D region lies on no slice of this study")
                    continue
                }
                place = found
                pixels = points.compactMap { SliceLocator.pixel(of: $0, on: found.header) }.map { ($0.x, $0.y) }
            }
            guard let place, !pixels.isEmpty else { continue }
            var xs = pixels.map(\.0), ys = pixels.map(\.1)
            if region.graphicType == "CIRCLE", pixels.count >= 2 {
                let radius = hypot(pixels[1].0 - pixels[0].0, pixels[1].1 - pixels[0].1)
                xs = [pixels[0].0 - radius, pixels[0].0 + radius]
                ys = [pixels[0].1 - radius, pixels[0].1 + radius]
            }
            let pad = pixels.count == 1 ? 3.0 : 0
            let minX = Int(((xs.min() ?? 0) - pad).rounded(.down)), maxX = Int(((xs.max() ?? 0) + pad).rounded(.up))
            let minY = Int(((ys.min() ?? 0) - pad).rounded(.down)), maxY = Int(((ys.max() ?? 0) + pad).rounded(.up))
            let finding = Finding(firstSlice: place.slice, lastSlice: place.slice,
                                  box: [max(0, minX), max(0, minY), max(1, maxX - minX), max(1, maxY - minY)],
                                  peak: group.probability ?? 1, peakSlice: place.slice)
            partial.findings.append((SeriesFinding(seriesInstanceUID: place.seriesInstanceUID, finding: finding), external))
            partial.slicesCovered.insert(place.key)
        }
    }
}
