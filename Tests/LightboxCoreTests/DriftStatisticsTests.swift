import Foundation
import LightboxCore
import Testing

/// The monitoring statistics against scipy on the same numbers (the reference JSON is written by
/// Tests/TestSupport/monitor_reference.py, which `make test` runs), and against values worked out by hand.
struct DriftStatisticsTests {
    struct Reference: Decodable {
        struct KS: Decodable { let a: [Double]; let b: [Double]; let statistic: Double; let pvalue: Double }
        struct Chi: Decodable { let table: [[Double]]; let statistic: Double; let pvalue: Double; let dof: Int }
        struct Wasserstein: Decodable { let a: [Double]; let b: [Double]; let distance: Double; let normed: Double }
        struct JS: Decodable { let p: [Double]; let q: [Double]; let distance: Double }
        struct PSI: Decodable { let a: [Double]; let b: [Double]; let psi: Double }
        let ks: [KS]
        let chi2: [Chi]
        let wasserstein: [Wasserstein]
        let jensenshannon: [JS]
        let psi: [PSI]
    }

    static let path = ProcessInfo.processInfo.environment["LIGHTBOX_STATS_REFERENCE"]

    static func reference() throws -> Reference {
        try JSONDecoder().decode(Reference.self, from: Data(contentsOf: URL(fileURLWithPath: try #require(path))))
    }

    static func close(_ a: Double, _ b: Double, relative: Double = 1e-7, absolute: Double = 1e-12) -> Bool {
        abs(a - b) <= absolute + relative * abs(b)
    }

    @Test(.enabled(if: path != nil, "run through `make test`, which writes scipy's reference values"))
    func kolmogorovSmirnovEqualsScipy() throws {
        let cases = try Self.reference().ks
        #expect(cases.count >= 5)
        for item in cases {
            let result = try #require(DriftStatistics.ks2(item.a, item.b))
            #expect(result.method == "exact")
            #expect(Self.close(result.statistic, item.statistic), "D \(result.statistic) vs scipy \(item.statistic)")
            #expect(Self.close(result.pValue, item.pvalue, relative: 1e-6, absolute: 1e-10), "p \(result.pValue) vs scipy \(item.pvalue) (n \(item.a.count), \(item.b.count))")
        }
    }

    @Test(.enabled(if: path != nil, "run through `make test`, which writes scipy's reference values"))
    func chiSquaredEqualsScipy() throws {
        for item in try Self.reference().chi2 {
            let result = try #require(DriftStatistics.chiSquared(item.table))
            #expect(result.degreesOfFreedom == item.dof)
            #expect(Self.close(result.statistic, item.statistic), "χ² \(result.statistic) vs scipy \(item.statistic)")
            #expect(Self.close(result.pValue, item.pvalue, relative: 1e-9, absolute: 1e-14), "p \(result.pValue) vs scipy \(item.pvalue)")
        }
    }

    @Test(.enabled(if: path != nil, "run through `make test`, which writes scipy's reference values"))
    func wassersteinJensenShannonAndPSIEqualTheirReferences() throws {
        let reference = try Self.reference()
        for item in reference.wasserstein {
            #expect(Self.close(try #require(DriftStatistics.wasserstein(item.a, item.b)), item.distance, relative: 1e-10))
            #expect(Self.close(try #require(DriftStatistics.normedWasserstein(reference: item.a, current: item.b)), item.normed, relative: 1e-10))
        }
        for item in reference.jensenshannon {
            #expect(Self.close(try #require(DriftStatistics.jensenShannon(item.p, item.q)), item.distance, relative: 1e-10, absolute: 1e-8))
        }
        for item in reference.psi {
            #expect(Self.close(try #require(DriftStatistics.psi(reference: item.a, current: item.b)), item.psi, relative: 1e-10))
        }
    }

    /// Small cases worked out by hand, so the statistics are checked even without the reference.
    @Test func handWorkedValues() throws {
        // D = 1 between disjoint samples of 2 and 2: every path leaves the band; P(D ≥ 1) = 2 / C(4,2).
        let disjoint = try #require(DriftStatistics.ks2([1, 2], [3, 4]))
        #expect(disjoint.statistic == 1)
        #expect(abs(disjoint.pValue - 2.0 / 6.0) < 1e-12)
        // Identical samples: no gap, p = 1.
        #expect(DriftStatistics.ks2([1, 2, 3], [1, 2, 3])?.pValue == 1)
        // W1 between {0} and {1} is 1; between {0, 1} and {1, 2} it is 1.
        #expect(DriftStatistics.wasserstein([0], [1]) == 1)
        #expect(DriftStatistics.wasserstein([0, 1], [1, 2]) == 1)
        // χ² with 2 degrees of freedom: survival is exp(−x/2).
        #expect(abs(DriftStatistics.chiSquaredSurvival(3, degreesOfFreedom: 2) - exp(-1.5)) < 1e-12)
        #expect(abs(DriftStatistics.chiSquaredSurvival(40, degreesOfFreedom: 2) - exp(-20)) < 1e-20)
        // PSI of a sample against itself is 0; JS of identical distributions is 0.
        #expect(DriftStatistics.psi(reference: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], current: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) == 0)
        #expect(DriftStatistics.jensenShannon([1, 2], [2, 4]) == 0)
        // A reference with no spread has no normed distance; empty samples give no statistic.
        #expect(DriftStatistics.normedWasserstein(reference: [3, 3, 3], current: [1, 2]) == nil)
        #expect(DriftStatistics.ks2([], [1]) == nil)
        #expect(DriftStatistics.chiSquared([[5, 0], [0, 0]]) == nil)
        // Two proportions: 30/100 against 15/100, pooled 0.225, z = 0.15 / √(0.225·0.775·0.02).
        let test = try #require(DriftStatistics.twoProportion(successes: 30, trials: 100, referenceSuccesses: 15, referenceTrials: 100))
        #expect(abs(test.z - 0.15 / (0.225 * 0.775 * 0.02).squareRoot()) < 1e-12)
        #expect(test.pValue < 0.01 && test.pValue > 0.001)
    }
}
