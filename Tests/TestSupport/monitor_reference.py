"""Reference values for Lightbox's drift statistics: samples drawn with a fixed seed and what
scipy (and a direct numpy computation of PSI) says about them, written as one JSON file that
the Swift tests read (LIGHTBOX_STATS_REFERENCE). Test reference only; never part of the build."""
import json
import sys

import numpy as np
from scipy import stats
from scipy.spatial import distance


def psi_direct(reference, current, bins=10):
    reference = np.asarray(reference, dtype=float)
    current = np.asarray(current, dtype=float)
    edges = []
    for k in range(1, bins):
        value = float(np.quantile(reference, k / bins))
        if not edges or edges[-1] != value:
            edges.append(value)
    def shares(values):
        counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1).astype(float)
        out = counts / len(values)
        out[counts == 0] = 0.0001
        return out
    r, c = shares(reference), shares(current)
    return float(np.sum((c - r) * np.log(c / r)))


def main(path):
    rng = np.random.default_rng(20261201)
    cases = {"ks": [], "chi2": [], "wasserstein": [], "jensenshannon": [], "psi": []}
    for n1, n2, shift, scale, rounding in [(150, 200, 0.3, 1.0, None), (150, 150, 0.0, 1.0, None), (500, 300, 0.1, 1.0, 1),
                                           (50, 80, 1.5, 1.0, None), (1000, 1000, 0.08, 1.0, None), (7, 13, 0.5, 2.0, None),
                                           (300, 170, 0.0, 1.6, 2)]:
        a = rng.normal(0, 1, n1)
        b = rng.normal(shift, scale, n2)
        if rounding is not None:
            a, b = np.round(a, rounding), np.round(b, rounding)
        result = stats.ks_2samp(a, b, method="exact")
        cases["ks"].append({"a": a.tolist(), "b": b.tolist(), "statistic": float(result.statistic), "pvalue": float(result.pvalue)})
        cases["wasserstein"].append({"a": a.tolist(), "b": b.tolist(), "distance": float(stats.wasserstein_distance(a, b)),
                                     "normed": float(stats.wasserstein_distance(a, b) / np.std(a))})
        cases["psi"].append({"a": a.tolist(), "b": b.tolist(), "psi": psi_direct(a, b)})
    for table in [[[30, 12], [18, 25]], [[100, 40, 10, 0], [80, 60, 5, 0]], [[5, 0, 7], [3, 9, 1]],
                  [[400, 300, 200, 100], [90, 80, 70, 60]], [[1000, 3], [950, 40]], [[20, 20], [20, 20]]]:
        t = np.asarray(table, dtype=float)
        kept = t[:, t.sum(axis=0) > 0]
        statistic, pvalue, dof, _ = stats.chi2_contingency(kept)
        cases["chi2"].append({"table": table, "statistic": float(statistic), "pvalue": float(pvalue), "dof": int(dof)})
    for p, q in [([0.5, 0.3, 0.2], [0.4, 0.4, 0.2]), ([10, 0, 5], [2, 8, 5]), ([1, 1, 1, 1], [1, 1, 1, 1]), ([100, 1], [1, 100])]:
        cases["jensenshannon"].append({"p": p, "q": q, "distance": float(distance.jensenshannon(p, q))})
    with open(path, "w") as handle:
        json.dump(cases, handle)


if __name__ == "__main__":
    main(sys.argv[1])
