"""The Python peer of `lightbox-benchmark triage`: the same work with pydicom and onnxruntime.

For every file of a series: read with pydicom, rescale to modality units, window and area-average
to the model's input exactly as model.json says (the same steps as Lightbox), run onnxruntime in
batches of 16, and store probability, heatmap and embedding per SOP Instance UID in SQLite.
Prints median_slices_per_second=… and best_slices_per_second=… over --repeats rounds.

Usage: python tools/triage_peer.py SERIES_DIR MODEL_DIR [--repeats 3] [--workdir DIR]
Needs pydicom, numpy, onnxruntime (make bench installs them in the reference environment).
"""
import argparse
import json
import os
import pathlib
import sqlite3
import tempfile
import time

import numpy as np
import onnxruntime
import pydicom


def area_matrix(source: int, target: int) -> np.ndarray:
    weights = np.zeros((target, source), dtype=np.float32)
    scale = source / target
    for i in range(target):
        start, end = i * scale, (i + 1) * scale
        for j in range(int(np.floor(start)), min(source, int(np.ceil(end)))):
            overlap = min(end, j + 1) - max(start, j)
            if overlap > 0:
                weights[i, j] = overlap
        weights[i] /= weights[i].sum()
    return weights


def window_values(values: np.ndarray, center: float, width: float) -> np.ndarray:
    c, w = center - 0.5, width - 1
    if w <= 0:
        return (values > c).astype(np.float32)
    return np.clip((values - c) / w + 0.5, 0, 1).astype(np.float32)


def percentile_window(values: np.ndarray):
    flat = values.reshape(-1)
    sample = np.sort(flat[:: max(1, flat.size // 65536)])
    lo, hi = float(sample[int((sample.size - 1) * 0.005)]), float(sample[int((sample.size - 1) * 0.995)])
    return (lo + hi) / 2, max(hi - lo, 1.0)


def one_round(files, card, session, database_path):
    size_h, size_w = card["input"]["height"], card["input"]["width"]
    matrices = {}
    database = sqlite3.connect(database_path)
    database.execute("PRAGMA journal_mode=WAL")
    database.execute("""CREATE TABLE IF NOT EXISTS sliceResults (sopInstanceUID TEXT, frame INTEGER, model TEXT, probability REAL,
                        heatmapWidth INTEGER, heatmapHeight INTEGER, heatmap BLOB, embedding BLOB,
                        PRIMARY KEY (sopInstanceUID, frame, model))""")
    model_key = f"{card['name']}@{card['version']}"
    names = [card["outputs"]["probability"], card["outputs"]["heatmap"], card["outputs"]["embedding"]]
    batch, uids = [], []
    done = 0

    def flush():
        nonlocal batch, uids, done
        if not batch:
            return
        probability, heatmap, embedding = session.run(names, {card["input"]["name"]: np.stack(batch)[:, None]})
        with database:
            for k, uid in enumerate(uids):
                database.execute("INSERT OR REPLACE INTO sliceResults VALUES (?, 0, ?, ?, ?, ?, ?, ?)",
                                 (uid, model_key, float(probability[k].reshape(-1)[0]), heatmap.shape[-1], heatmap.shape[-2],
                                  heatmap[k].astype(np.float32).tobytes(), embedding[k].astype(np.float32).tobytes()))
        done += len(batch)
        batch, uids = [], []

    for path in files:
        ds = pydicom.dcmread(path)
        values = ds.pixel_array.astype(np.float32) * float(getattr(ds, "RescaleSlope", 1) or 1) + float(getattr(ds, "RescaleIntercept", 0) or 0)
        recipe = card["preprocessing"][str(ds.Modality)]["window"]
        center, width = percentile_window(values) if recipe == "percentile" else (recipe["center"], recipe["width"])
        normalised = window_values(values, center, width)
        key = normalised.shape
        if key not in matrices:
            matrices[key] = (area_matrix(key[0], size_h), area_matrix(key[1], size_w))
        rows, cols = matrices[key]
        batch.append(rows @ normalised @ cols.T)
        uids.append(str(ds.SOPInstanceUID))
        if len(batch) == 16:
            flush()
    flush()
    database.close()
    return done


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("series")
    parser.add_argument("model")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workdir", default=tempfile.gettempdir())
    args = parser.parse_args()
    card = json.loads((pathlib.Path(args.model) / "model.json").read_text())
    session = onnxruntime.InferenceSession(str(pathlib.Path(args.model) / "model.onnx"), providers=["CPUExecutionProvider"])
    files = sorted(str(p) for p in pathlib.Path(args.series).glob("*.dcm"))
    rates = []
    for round_number in range(args.repeats):
        database = os.path.join(args.workdir, f"peer-results-{os.getpid()}-{round_number}.sqlite")
        start = time.perf_counter()
        count = one_round(files, card, session, database)
        rates.append(count / (time.perf_counter() - start))
    rates.sort()
    print(f"median_slices_per_second={rates[len(rates) // 2]:.3f}")
    print(f"best_slices_per_second={rates[-1]:.3f}")


if __name__ == "__main__":
    main()
