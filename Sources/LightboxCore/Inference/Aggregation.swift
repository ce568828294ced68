import Foundation

/// Slice results to a study result.
public enum Aggregation: String, Sendable, Codable {
    /// The most suspicious slice decides.
    case max
    /// The mean of the three most suspicious slices (less swayed by one noisy slice).
    case topThreeMean = "top3-mean"

    /// The study's raw probability from its slices' raw probabilities (0 for none).
    public func combine(_ probabilities: [Double]) -> Double {
        guard !probabilities.isEmpty else { return 0 }
        switch self {
        case .max: return probabilities.max()!
        case .topThreeMean:
            let top = probabilities.sorted(by: >).prefix(3)
            return top.reduce(0, +) / Double(top.count)
        }
    }
}

/// A suspicious region: connected heatmap cells at or above the threshold, linked across
/// neighbouring slices where they overlap.
public struct Finding: Sendable, Equatable, Codable {
    /// First and last slice (indices in the series' display order).
    public var firstSlice: Int
    public var lastSlice: Int
    /// Bounding box in heatmap cells, over all its slices: x, y, width, height.
    public var box: [Int]
    /// The highest heatmap value inside.
    public var peak: Double
    /// The slice holding the peak.
    public var peakSlice: Int

    public init(firstSlice: Int, lastSlice: Int, box: [Int], peak: Double, peakSlice: Int) {
        self.firstSlice = firstSlice
        self.lastSlice = lastSlice
        self.box = box
        self.peak = peak
        self.peakSlice = peakSlice
    }
}

/// Finds connected regions in a stack of per-slice heatmaps (all of one size).
public enum FindingExtractor {
    /// Regions of cells ≥ `threshold` (4-connected within a slice, overlapping between
    /// consecutive slices); regions smaller than `minimumCells` in total are dropped.
    public static func findings(in heatmaps: [Heatmap?], threshold: Double = 0.5, minimumCells: Int = 2) -> [Finding] {
        guard let size = heatmaps.compactMap({ $0 }).first else { return [] }
        let width = size.width, height = size.height
        var labels = [[Int]](repeating: [], count: heatmaps.count)
        var parent: [Int] = []
        func find(_ x: Int) -> Int {
            var root = x
            while parent[root] != root { root = parent[root] }
            var node = x
            while parent[node] != root { let next = parent[node]; parent[node] = root; node = next }
            return root
        }
        func union(_ a: Int, _ b: Int) {
            let ra = find(a), rb = find(b)
            if ra != rb { parent[max(ra, rb)] = min(ra, rb) }
        }
        for (z, map) in heatmaps.enumerated() {
            guard let map, map.width == width, map.height == height else {
                labels[z] = Array(repeating: -1, count: width * height)
                continue
            }
            var sliceLabels = Array(repeating: -1, count: width * height)
            for y in 0..<height {
                for x in 0..<width where Double(map.values[y * width + x]) >= threshold {
                    let index = y * width + x
                    let label = parent.count
                    parent.append(label)
                    sliceLabels[index] = label
                    if x > 0, sliceLabels[index - 1] >= 0 { union(label, sliceLabels[index - 1]) }
                    if y > 0, sliceLabels[index - width] >= 0 { union(label, sliceLabels[index - width]) }
                    if z > 0, labels[z - 1].count == width * height, labels[z - 1][index] >= 0 { union(label, labels[z - 1][index]) }
                }
            }
            labels[z] = sliceLabels
        }
        struct Accumulator { var first = Int.max, last = Int.min, minX = Int.max, minY = Int.max, maxX = Int.min, maxY = Int.min
                             var peak = -1.0, peakSlice = 0, cells = 0 }
        var regions: [Int: Accumulator] = [:]
        for (z, sliceLabels) in labels.enumerated() {
            guard let map = heatmaps[z] else { continue }
            for (index, label) in sliceLabels.enumerated() where label >= 0 {
                let root = find(label)
                var region = regions[root] ?? Accumulator()
                let x = index % width, y = index / width
                region.first = min(region.first, z); region.last = max(region.last, z)
                region.minX = min(region.minX, x); region.maxX = max(region.maxX, x)
                region.minY = min(region.minY, y); region.maxY = max(region.maxY, y)
                region.cells += 1
                let value = Double(map.values[index])
                if value > region.peak { region.peak = value; region.peakSlice = z }
                regions[root] = region
            }
        }
        return regions.values.filter { $0.cells >= minimumCells }
            .map { Finding(firstSlice: $0.first, lastSlice: $0.last, box: [$0.minX, $0.minY, $0.maxX - $0.minX + 1, $0.maxY - $0.minY + 1],
                           peak: $0.peak, peakSlice: $0.peakSlice) }
            .sorted { ($0.peak, -$0.firstSlice) > ($1.peak, -$1.firstSlice) }
    }
}

/// Several models' calibrated results fused with confidence-weighted weights: a softmax over each
/// model's confidence (divided by a temperature from the config); each contribution is kept.
public enum Fusion {
    /// One model's part in a fused result.
    public struct Contribution: Sendable, Equatable, Codable {
        public var model: String
        public var probability: Double
        public var confidence: Double
        public var weight: Double

        public init(model: String, probability: Double, confidence: Double, weight: Double) {
            self.model = model
            self.probability = probability
            self.confidence = confidence
            self.weight = weight
        }
    }

    /// The fused probability and every model's contribution (weights sum to 1).
    public static func fuse(_ results: [(model: String, probability: Double)], temperature: Double = 0.1) -> (probability: Double, contributions: [Contribution]) {
        guard !results.isEmpty else { return (0, []) }
        let confidences = results.map { ConfidenceTier.confidence(of: $0.probability) }
        let t = max(temperature, 1e-6)
        let top = confidences.max()!
        let exponentials = confidences.map { exp(($0 - top) / t) }
        let total = exponentials.reduce(0, +)
        var fused = 0.0
        var contributions: [Contribution] = []
        for (index, result) in results.enumerated() {
            let weight = exponentials[index] / total
            fused += weight * result.probability
            contributions.append(Contribution(model: result.model, probability: result.probability, confidence: confidences[index], weight: weight))
        }
        return (fused, contributions)
    }
}

/// Whether an input lies inside what a model was trained on: a listed modality, and an embedding
/// within a distance of the training centroid recorded in the card.
public struct DomainGuard: Sendable, Equatable, Codable {
    public var modalities: [String]
    public var centroid: [Double]
    public var maximumDistance: Double

    public init(modalities: [String], centroid: [Double], maximumDistance: Double) {
        self.modalities = modalities
        self.centroid = centroid
        self.maximumDistance = maximumDistance
    }

    /// The embedding's distance from the training centroid (nil when the sizes differ).
    public func distance(_ embedding: [Float]) -> Double? {
        guard embedding.count == centroid.count else { return nil }
        return zip(embedding, centroid).reduce(0.0) { $0 + (Double($1.0) - $1.1) * (Double($1.0) - $1.1) }.squareRoot()
    }

    /// nil inside the domain; otherwise the reason, which forces tier Review.
    public func reason(modality: String, embedding: [Float]) -> String? {
        guard modalities.contains(modality) else { return "outside the model's domain (modality \(modality) not in \(modalities.joined(separator: ", ")))" }
        guard let distance = distance(embedding) else { return "outside the model's domain (embedding size differs)" }
        return distance > maximumDistance ? "outside the model's domain (embedding distance \(String(format: "%.2f", distance)) > \(String(format: "%.2f", maximumDistance)))" : nil
    }
}
