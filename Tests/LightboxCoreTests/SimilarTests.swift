import Foundation
import LightboxCore
import Testing

/// Exact cosine search: the SIMD scan returns what sorting every similarity returns.
struct SimilarTests {
    @Test func topKEqualsBruteForce() {
        var state: UInt64 = 42
        func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2000 - 1000) / 1000
        }
        for dimension in [3, 8, 13, 128] {
            var index = VectorIndex(dimension: dimension)
            let vectors = (0..<500).map { _ in (0..<dimension).map { _ in next() } }
            for v in vectors { index.add(v) }
            for _ in 0..<20 {
                let query = (0..<dimension).map { _ in next() }
                let q = VectorIndex.normalized(query)
                let expected = vectors.enumerated().map { (row: $0.offset, similarity: zip(VectorIndex.normalized($0.element), q).reduce(Float(0)) { $0 + $1.0 * $1.1 }) }
                    .sorted { $0.similarity > $1.similarity }.prefix(5)
                let found = index.search(query, k: 5)
                #expect(found.map(\.row) == expected.map(\.row), "dimension \(dimension)")
                for (a, b) in zip(found, expected) { #expect(abs(a.similarity - b.similarity) < 1e-5) }
            }
        }
    }

    @Test func nearestCasesLeaveTheStudyItselfOutAndRankByCosine() {
        func record(_ uid: String, _ v: [Float], label: CaseLabel = .abnormal) -> CaseRecord {
            CaseRecord(studyInstanceUID: uid, model: "m@1", embedding: v, label: label, decision: nil, date: "20260101", source: .reference, summary: uid)
        }
        let records = [record("self", [1, 0, 0]), record("near", [0.9, 0.1, 0]), record("far", [-1, 0, 0]), record("side", [0, 1, 0], label: .normal),
                       record("other-size", [1, 0])]
        let found = SimilarCases.nearest(to: [1, 0, 0], among: records, excluding: "self", k: 5)
        #expect(found.map(\.record.studyInstanceUID) == ["near", "side", "far"])
        #expect(abs(found[0].similarity - Double(0.9 / (0.81 + 0.01).squareRoot())) < 1e-6)
        #expect(abs(found[2].similarity + 1) < 1e-6)
    }
}

struct TimestampTests {
    @Test func aTimeIsWrittenAsTheLedgerAlwaysWroteItSoOldHashesHold() throws {
        let when = Date(timeIntervalSince1970: 1_790_000_000.123)
        let stamp = Timestamp(when)
        #expect(stamp.text == "2026-09-21T14:13:20.123Z")
        #expect(stamp.day == "2026-09-21" && stamp.isOnOrAfter(day: "2026-09-21") && !stamp.isOnOrAfter(day: "2026-09-22"))
        let decision = Decision(id: "d", studyInstanceUID: "2.25.1", patientID: "P", studyDate: "20260101", action: .accept, reader: "r",
                                secondsSpent: 1, model: "m", modelVersion: "1", outputHash: "h", probability: 0.5, tier: .review,
                                decidedAt: stamp)
        // The canonical JSON (what the audit chain hashes) holds the plain text, as when it was a String.
        #expect(decision.canonicalJSON.contains("\"decidedAt\":\"2026-09-21T14:13:20.123Z\""))
        let back = try JSONDecoder().decode(Decision.self, from: Data(decision.canonicalJSON.utf8))
        #expect(back == decision)
        #expect(Timestamp(text: "2026-01-02T00:00:00.000Z") < Timestamp(text: "2026-01-10T00:00:00.000Z"))
        #expect(!Timestamp.unset.isSet && stamp.isSet)
    }
}
