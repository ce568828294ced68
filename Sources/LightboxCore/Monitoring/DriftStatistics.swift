import Foundation

/// The statistics monitoring compares a reference with an analysis window by. Each is written to
/// equal its usual reference implementation on the same numbers (tests hold them to scipy's):
/// `ks2` to `scipy.stats.ks_2samp` (two-sided, exact method), `chiSquared` to
/// `scipy.stats.chi2_contingency` (Yates' correction for one degree of freedom, as scipy does by
/// default), `wasserstein` to `scipy.stats.wasserstein_distance`, `jensenShannon` to
/// `scipy.spatial.distance.jensenshannon` (natural logarithm), `psi` to the direct formula on the
/// reference's quantile bins.
public enum DriftStatistics {
    /// Two-sample Kolmogorov–Smirnov: the largest gap between the two empirical distribution
    /// functions and the probability of a gap at least that large when both samples come from one
    /// distribution.
    public struct KSResult: Sendable, Equatable, Codable {
        public var statistic: Double
        public var pValue: Double
        /// "exact" (lattice paths) or "asymptotic" (Kolmogorov's limit, for samples over 10,000).
        public var method: String
    }

    /// nil when either sample is empty.
    public static func ks2(_ first: [Double], _ second: [Double]) -> KSResult? {
        guard !first.isEmpty, !second.isEmpty else { return nil }
        let a = first.sorted(), b = second.sorted()
        let n1 = a.count, n2 = b.count
        // D over the pooled values, each side's CDF counting values ≤ the point (side "right").
        var i = 0, j = 0
        var d = 0.0
        while i < n1 || j < n2 {
            let value = j >= n2 || (i < n1 && a[i] <= b[j]) ? a[i] : b[j]
            while i < n1 && a[i] <= value { i += 1 }
            while j < n2 && b[j] <= value { j += 1 }
            d = max(d, abs(Double(i) / Double(n1) - Double(j) / Double(n2)))
        }
        if max(n1, n2) > 10_000 {
            let en = Double(n1 * n2) / Double(n1 + n2)
            return KSResult(statistic: d, pValue: kolmogorovSurvival(en.squareRoot() * d), method: "asymptotic")
        }
        let g = gcd(n1, n2)
        let lcm = (n1 / g) * n2
        let h = Int((d * Double(lcm)).rounded())
        guard h > 0 else { return KSResult(statistic: d, pValue: 1, method: "exact") }
        // The chance that a random path from (0,0) to (n1,n2) stays strictly inside the band
        // |i·n2 − j·n1| < h·g (every gap smaller than D); the p-value is the rest.
        let bound = h * g
        // Only cells inside the band carry mass; the band moves right as the row grows, so each
        // row visits its own columns (about 2·D·n2 of them) and cells past them stay 0.
        var row = [Double](repeating: 0, count: n2 + 1)
        row.withUnsafeMutableBufferPointer { row in
            var previousLow = 0
            for step in 0...n1 {
                let low = max(0, (step * n2 - bound) / n1 - 1), high = min(n2, (step * n2 + bound) / n1 + 1)
                for column in previousLow..<min(low, n2 + 1) { row[column] = 0 }
                previousLow = low
                var left = 0.0
                for column in low...high {
                    var mass: Double
                    if step == 0 && column == 0 {
                        mass = 1
                    } else {
                        // Arriving from (step−1, column) by an x-step or from (step, column−1) by a y-step.
                        let fromAbove = step > 0 ? row[column] * Double(n1 - step + 1) / Double(n1 + n2 - step + 1 - column) : 0
                        let fromLeft = column > 0 ? left * Double(n2 - column + 1) / Double(n1 + n2 - step - column + 1) : 0
                        mass = fromAbove + fromLeft
                    }
                    if abs(step * n2 - column * n1) >= bound { mass = 0 }
                    row[column] = mass
                    left = mass
                }
            }
        }
        return KSResult(statistic: d, pValue: min(1, max(0, 1 - row[n2])), method: "exact")
    }

    /// Kolmogorov's limiting survival function Q(λ) = 2 Σ (−1)^(k−1) exp(−2k²λ²).
    static func kolmogorovSurvival(_ lambda: Double) -> Double {
        guard lambda > 0.2 else { return 1 }
        var sum = 0.0
        for k in 1...100 {
            let term = exp(-2 * Double(k * k) * lambda * lambda)
            sum += (k % 2 == 1 ? 1 : -1) * term
            if term < 1e-16 { break }
        }
        return min(1, max(0, 2 * sum))
    }

    static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

    /// Chi-squared test of independence on a contingency table (rows: samples, columns: categories).
    public struct ChiSquaredResult: Sendable, Equatable, Codable {
        public var statistic: Double
        public var degreesOfFreedom: Int
        public var pValue: Double
    }

    /// nil when the table has fewer than two rows or columns with counts (nothing to compare).
    public static func chiSquared(_ table: [[Double]]) -> ChiSquaredResult? {
        let rows = table.filter { $0.reduce(0, +) > 0 }
        guard rows.count >= 2, let width = rows.first?.count, rows.allSatisfy({ $0.count == width }) else { return nil }
        let columns = (0..<width).filter { c in rows.reduce(0) { $0 + $1[c] } > 0 }
        guard columns.count >= 2 else { return nil }
        let observed = rows.map { row in columns.map { row[$0] } }
        let total = observed.reduce(0) { $0 + $1.reduce(0, +) }
        let rowTotals = observed.map { $0.reduce(0, +) }
        let columnTotals = columns.indices.map { c in observed.reduce(0) { $0 + $1[c] } }
        let dof = (observed.count - 1) * (columns.count - 1)
        var statistic = 0.0
        for r in observed.indices {
            for c in columns.indices {
                let expected = rowTotals[r] * columnTotals[c] / total
                var value = observed[r][c]
                if dof == 1 {
                    // Yates' continuity correction, as scipy applies by default.
                    let difference = expected - value
                    value += min(0.5, abs(difference)) * (difference < 0 ? -1 : difference > 0 ? 1 : 0)
                }
                statistic += (value - expected) * (value - expected) / expected
            }
        }
        return ChiSquaredResult(statistic: statistic, degreesOfFreedom: dof, pValue: chiSquaredSurvival(statistic, degreesOfFreedom: dof))
    }

    /// P(X ≥ x) for X chi-squared with `degreesOfFreedom`: the regularised upper incomplete gamma Q(k/2, x/2).
    public static func chiSquaredSurvival(_ x: Double, degreesOfFreedom: Int) -> Double {
        guard x > 0 else { return 1 }
        return upperRegularizedGamma(Double(degreesOfFreedom) / 2, x / 2)
    }

    /// Q(a, x) by the series for x < a + 1 and Lentz's continued fraction otherwise.
    static func upperRegularizedGamma(_ a: Double, _ x: Double) -> Double {
        let logPrefix = a * log(x) - x - lgamma(a)
        if x < a + 1 {
            var term = 1 / a, sum = term, n = a
            for _ in 0..<10_000 {
                n += 1
                term *= x / n
                sum += term
                if abs(term) < abs(sum) * 1e-16 { break }
            }
            return max(0, 1 - sum * exp(logPrefix))
        }
        let tiny = 1e-300
        var b = x + 1 - a, c = 1 / tiny, d = 1 / b, fraction = d
        for i in 1..<10_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            fraction *= delta
            if abs(delta - 1) < 1e-16 { break }
        }
        return min(1, exp(logPrefix) * fraction)
    }

    /// The first Wasserstein distance between two samples' empirical distributions: the area
    /// between their distribution functions. nil when either is empty.
    public static func wasserstein(_ first: [Double], _ second: [Double]) -> Double? {
        guard !first.isEmpty, !second.isEmpty else { return nil }
        let a = first.sorted(), b = second.sorted()
        let all = (a + b).sorted()
        var i = 0, j = 0, distance = 0.0
        for index in 0..<(all.count - 1) {
            let value = all[index]
            while i < a.count && a[i] <= value { i += 1 }
            while j < b.count && b[j] <= value { j += 1 }
            distance += abs(Double(i) / Double(a.count) - Double(j) / Double(b.count)) * (all[index + 1] - value)
        }
        return distance
    }

    /// Wasserstein distance in units of the reference's standard deviation (population), as
    /// Evidently norms it; nil when the reference has no spread (the distance means nothing then).
    public static func normedWasserstein(reference: [Double], current: [Double]) -> Double? {
        guard let distance = wasserstein(reference, current) else { return nil }
        let sd = standardDeviation(reference)
        guard sd > 0 else { return nil }
        return distance / sd
    }

    /// The Jensen–Shannon distance (square root of the divergence, natural log) between two
    /// distributions given as counts or shares over the same categories (each normalised first).
    public static func jensenShannon(_ p: [Double], _ q: [Double]) -> Double? {
        guard p.count == q.count, !p.isEmpty else { return nil }
        let sp = p.reduce(0, +), sq = q.reduce(0, +)
        guard sp > 0, sq > 0 else { return nil }
        var divergence = 0.0
        for (x, y) in zip(p, q) {
            let a = x / sp, b = y / sq, m = (a + b) / 2
            if a > 0 { divergence += a * log(a / m) / 2 }
            if b > 0 { divergence += b * log(b / m) / 2 }
        }
        return max(0, divergence).squareRoot()
    }

    /// The interior edges of `bins` quantile bins of `reference` (numpy's linear quantiles),
    /// duplicates removed.
    public static func quantileEdges(_ reference: [Double], bins: Int = 10) -> [Double] {
        let sorted = reference.sorted()
        guard !sorted.isEmpty, bins > 1 else { return [] }
        var edges: [Double] = []
        for k in 1..<bins {
            let value = quantile(sorted: sorted, Double(k) / Double(bins))
            if edges.last != value { edges.append(value) }
        }
        return edges
    }

    /// Population stability index of `current` against `reference` on the reference's quantile
    /// bins ([edge k, edge k+1), open at both ends); an empty bin counts as a share of 0.0001, as
    /// Evidently does. nil when either sample is empty.
    public static func psi(reference: [Double], current: [Double], bins: Int = 10) -> Double? {
        guard !reference.isEmpty, !current.isEmpty else { return nil }
        let edges = quantileEdges(reference, bins: bins)
        func shares(_ values: [Double]) -> [Double] {
            var counts = [Double](repeating: 0, count: edges.count + 1)
            for value in values { counts[upperBound(edges, value)] += 1 }
            return counts.map { $0 == 0 ? 0.0001 : $0 / Double(values.count) }
        }
        let r = shares(reference), c = shares(current)
        return zip(r, c).reduce(0) { $0 + ($1.1 - $1.0) * log($1.1 / $1.0) }
    }

    /// One-sided two-proportion z-test that the window's rate is higher than the reference's
    /// (pooled standard error). nil when either has no trials or the pooled rate is 0 or 1.
    public struct ProportionTest: Sendable, Equatable, Codable {
        public var z: Double
        public var pValue: Double
    }

    public static func twoProportion(successes x1: Int, trials n1: Int, referenceSuccesses x0: Int, referenceTrials n0: Int) -> ProportionTest? {
        guard n1 > 0, n0 > 0 else { return nil }
        let pooled = Double(x1 + x0) / Double(n1 + n0)
        guard pooled > 0, pooled < 1 else { return nil }
        let error = (pooled * (1 - pooled) * (1 / Double(n1) + 1 / Double(n0))).squareRoot()
        let z = (Double(x1) / Double(n1) - Double(x0) / Double(n0)) / error
        return ProportionTest(z: z, pValue: 0.5 * erfc(z / 2.0.squareRoot()))
    }

    /// The count of `edges` ≤ `value` (numpy's searchsorted, side "right").
    static func upperBound(_ edges: [Double], _ value: Double) -> Int {
        var low = 0, high = edges.count
        while low < high {
            let middle = (low + high) / 2
            if edges[middle] <= value { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// numpy's default (linear) quantile of sorted values.
    public static func quantile(sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let position = q * Double(sorted.count - 1)
        let low = Int(position.rounded(.down)), high = min(sorted.count - 1, low + 1)
        return sorted[low] + (sorted[high] - sorted[low]) * (position - Double(low))
    }

    public static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
    }

    /// Population standard deviation (numpy's default, ddof 0).
    public static func standardDeviation(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return .nan }
        let m = mean(values)
        return (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count)).squareRoot()
    }
}
