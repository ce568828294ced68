/// Exact cosine search over unit vectors stored contiguously as Float32 (one row per case),
/// scanned with 8-wide SIMD dot products; a small sorted buffer keeps the best k.
public struct VectorIndex: Sendable {
    public let dimension: Int
    public private(set) var count = 0
    private var storage: [Float] = []

    public init(dimension: Int) {
        precondition(dimension > 0)
        self.dimension = dimension
    }

    /// The vector scaled to length 1 (zero vectors stay zero: similarity 0 with everything).
    public static func normalized(_ vector: [Float]) -> [Float] {
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? vector.map { $0 / norm } : vector
    }

    /// Adds a vector (normalised here); returns its row.
    @discardableResult
    public mutating func add(_ vector: [Float]) -> Int {
        precondition(vector.count == dimension, "vector size \(vector.count) ≠ \(dimension)")
        storage += Self.normalized(vector)
        count += 1
        return count - 1
    }

    /// Rows and cosine similarities of the `k` nearest vectors, most similar first.
    public func search(_ query: [Float], k: Int, excluding: Set<Int> = []) -> [(row: Int, similarity: Float)] {
        precondition(query.count == dimension)
        guard k > 0, count > 0 else { return [] }
        let q = Self.normalized(query)
        var best: [(row: Int, similarity: Float)] = []
        best.reserveCapacity(k + 1)
        let chunks = dimension / 8
        let querySIMD = (0..<chunks).map { chunk in
            q.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: chunk * 8 * MemoryLayout<Float>.stride, as: SIMD8<Float>.self) }
        }
        storage.withUnsafeBufferPointer { data in
            let raw = UnsafeRawPointer(data.baseAddress!)
            q.withUnsafeBufferPointer { qp in
                for row in 0..<count {
                    let base = row * dimension
                    var accumulator = SIMD8<Float>()
                    var rowPointer = raw + base * MemoryLayout<Float>.stride
                    for chunk in 0..<chunks {
                        accumulator += rowPointer.loadUnaligned(as: SIMD8<Float>.self) * querySIMD[chunk]
                        rowPointer += 8 * MemoryLayout<Float>.stride
                    }
                    var similarity = accumulator.sum()
                    for index in (chunks * 8)..<dimension { similarity += data[base + index] * qp[index] }
                    if best.count == k, similarity <= best[k - 1].similarity { continue }
                    if excluding.contains(row) { continue }
                    var position = best.count
                    while position > 0 && best[position - 1].similarity < similarity { position -= 1 }
                    best.insert((row, similarity), at: position)
                    if best.count > k { best.removeLast() }
                }
            }
        }
        return best
    }
}

/// What a case is known to show.
public enum CaseLabel: String, Codable, Sendable, CaseIterable {
    case abnormal, normal, unknown

    /// The label a decision implies (`DecisionStatistics.impliedAbnormal`), unknown when none.
    public init(implied abnormal: Bool?) {
        self = abnormal.map { $0 ? .abnormal : .normal } ?? .unknown
    }
}

/// Where a case comes from.
public enum CaseOrigin: String, Codable, Sendable, CaseIterable {
    /// A bundled case whose ground truth is known.
    case reference
    /// A study decided on this installation.
    case reviewed
}

/// A case the reader can compare with: a bundled reference case (ground truth known) or a study
/// reviewed on this installation (label from the reader's decision).
public struct CaseRecord: Codable, Sendable, Equatable {
    public var studyInstanceUID: String
    /// The model (name@version) whose embedding this is: only cases of the same model are compared.
    public var model: String
    public var embedding: [Float]
    public var label: CaseLabel
    /// The reader's decision, if any ("accept", "override (false positive)", "defer").
    public var decision: String?
    /// The study date (yyyyMMdd) or the decision date.
    public var date: String
    public var source: CaseOrigin
    /// Study description (sanitised when shown; never identifiers).
    public var summary: String

    public init(studyInstanceUID: String, model: String, embedding: [Float], label: CaseLabel, decision: String?, date: String,
                source: CaseOrigin, summary: String) {
        self.studyInstanceUID = studyInstanceUID
        self.model = model
        self.embedding = embedding
        self.label = label
        self.decision = decision
        self.date = date
        self.source = source
        self.summary = summary
    }
}

/// One similar case found.
public struct SimilarCase: Codable, Sendable, Equatable {
    public var record: CaseRecord
    public var similarity: Double

    public init(record: CaseRecord, similarity: Double) {
        self.record = record
        self.similarity = similarity
    }
}

/// The case base (port): SQLite today.
public protocol CaseStore: Sendable {
    func upsert(_ record: CaseRecord) throws
    func records(model: String) throws -> [CaseRecord]
}

public enum SimilarCases {
    /// The `k` cases most similar to `embedding` (cosine), leaving out the study itself.
    public static func nearest(to embedding: [Float], among records: [CaseRecord], excluding uid: String, k: Int = 5) -> [SimilarCase] {
        let usable = records.filter { $0.embedding.count == embedding.count && $0.studyInstanceUID != uid }
        guard let dimension = usable.first?.embedding.count, dimension > 0 else { return [] }
        var index = VectorIndex(dimension: dimension)
        for record in usable { index.add(record.embedding) }
        return index.search(embedding, k: k).map { SimilarCase(record: usable[$0.row], similarity: Double($0.similarity)) }
    }
}

/// Similar cases for the reviewer (port): the nearest cases to a study, and remembering a study
/// once the reader has decided on it.
public protocol SimilarCaseService: Sendable {
    func similar(to study: Study, k: Int) throws -> [SimilarCase]
    func remember(_ study: Study, decision: Decision) throws
}
