"""Peer for `lightbox-benchmark monitor`: Evidently's data-drift preset over the same features,
the same reference and the same weekly windows that `lightbox monitor` computes, read from the
table the benchmark exports. Prints the time spent in Evidently and what it found.
Benchmark reference only (never part of the build or the tests)."""
import sys
import time

started = time.time()
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset

NUMERIC = ["input_mean", "input_sd", "input_p1", "input_p99", "input_saturated", "kvp", "slice_thickness", "pixel_spacing", "raw_score"]
CATEGORICAL = ["manufacturer", "scanner_model", "kernel", "body_part"]


def main(path):
    table = pd.read_csv(path)
    imported = time.time()
    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
    reference = table[table["set"] == "reference"][NUMERIC + CATEGORICAL]
    windows = [w for w in table["set"].unique() if w != "reference"]
    drifted = 0
    compute = time.time()
    for window in windows:
        current = table[table["set"] == window][NUMERIC + CATEGORICAL]
        snapshot = Report([DataDriftPreset()]).run(Dataset.from_pandas(current, data_definition=definition),
                                                   Dataset.from_pandas(reference, data_definition=definition))
        result = snapshot.dict()["metrics"][0]["value"]
        if result["share"] >= 0.5:
            drifted += 1
    done = time.time()
    print(f"windows={len(windows)} rows={len(table)} load_s={imported - started:.2f} compute_s={done - compute:.2f} "
          f"total_s={done - started:.2f} drifted_windows={drifted}")


if __name__ == "__main__":
    main(sys.argv[1])
