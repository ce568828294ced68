"""Decode pydicom's bundled test files with pydicom and save the stored values for Lightbox's tests.

Usage: python pydicom_reference.py OUTPUT_DIR
Writes OUTPUT_DIR/manifest.json (one entry per file: path, status ok|no-pixels|error) and, for
each file pydicom decodes, the raw stored values as little-endian float64 (frames, rows, columns,
samples in C order; no rescale, no colour conversion).
"""
import json
import pathlib
import sys
import warnings

import numpy as np
import pydicom
from pydicom.pixels import pixel_array

warnings.simplefilter("ignore")


def main() -> None:
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    root = pathlib.Path(pydicom.__file__).parent / "data" / "test_files"
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() not in {".py", ".json", ".txt", ".gz", ".bz2", ".zip", ".npy", ".pyc"})
    entries = []
    for index, path in enumerate(files):
        entry = {"path": str(path)}
        try:
            dataset = pydicom.dcmread(path)
            if "PixelData" not in dataset:
                entry["status"] = "no-pixels"
            else:
                values = pixel_array(dataset, raw=True)
                name = f"{index}.bin"
                (out / name).write_bytes(np.ascontiguousarray(values, dtype="<f8").tobytes())
                entry.update(status="ok", shape=list(values.shape), values=name)
        except Exception as error:  # every failure is recorded, none stops the run
            entry.update(status="error", error=f"{type(error).__name__}: {error}"[:300])
        entries.append(entry)
    (out / "manifest.json").write_text(json.dumps(entries, indent=1))
    counts = {}
    for entry in entries:
        counts[entry["status"]] = counts.get(entry["status"], 0) + 1
    print(f"pydicom {pydicom.__version__}: {len(entries)} files, {counts}")


if __name__ == "__main__":
    main()
