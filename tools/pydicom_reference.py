"""Decode pydicom's bundled test files with pydicom (JPEG 2000 through pylibjpeg-openjpeg) and save
the stored values for Lightbox's tests; also write the images pydicom's own files lack
(multi-frame JPEG 2000, lossless and lossy; 8- and 16-bit palette colour, multi-frame) and their
references.

Usage: python pydicom_reference.py OUTPUT_DIR
Writes OUTPUT_DIR/manifest.json (one entry per file: path, status ok|no-pixels|error) and, for
each file pydicom decodes, the raw stored values as little-endian float64 (frames, rows, columns,
samples in C order; no rescale, no colour conversion). Palette colour files also get "rgb": the
colour pydicom's apply_color_lut gives, scaled to 0-255 (16-bit tables divided by 257).
Generated files go to OUTPUT_DIR/generated/.
"""
import json
import pathlib
import sys
import warnings

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixels import apply_color_lut, pixel_array
from pydicom.uid import (ExplicitVRLittleEndian, JPEG2000, JPEG2000Lossless, SecondaryCaptureImageStorage,
                         generate_uid)

warnings.simplefilter("ignore")


def base_dataset(rows: int, columns: int, frames: int, bits: int, signed: bool, photometric: str) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality = "OT"
    ds.PatientName, ds.PatientID = "REFERENCE^GENERATED", "REF0001"
    ds.Rows, ds.Columns, ds.NumberOfFrames = rows, columns, frames
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, photometric
    ds.BitsAllocated = 16 if bits > 8 else 8
    ds.BitsStored, ds.HighBit = bits, bits - 1
    ds.PixelRepresentation = 1 if signed else 0
    return ds


def generate(folder: pathlib.Path) -> list[pathlib.Path]:
    """Files pydicom's test set lacks, written by pydicom and its OpenJPEG plugin."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    written = []
    # Multi-frame JPEG 2000, lossless, signed 16-bit: one fragment a frame.
    ds = base_dataset(48, 64, 5, 16, True, "MONOCHROME2")
    ramp = np.arange(48 * 64, dtype=np.int32).reshape(48, 64) - 1500
    frames = np.stack([ramp * (f + 1) // 3 + rng.integers(-50, 50, (48, 64)) for f in range(5)]).astype(np.int16)
    ds.compress(JPEG2000Lossless, frames)
    written.append(folder / "j2k_lossless_5frames.dcm")
    ds.save_as(written[-1], enforce_file_format=True)
    # Multi-frame JPEG 2000, lossy (compression ratio 8), unsigned 12-bit.
    ds = base_dataset(64, 64, 3, 12, False, "MONOCHROME2")
    y, x = np.mgrid[0:64, 0:64]
    frames = np.stack([(2000 + 1500 * np.sin((x + 5 * f) / 7.0) * np.cos(y / 9.0)).astype(np.uint16) for f in range(3)])
    ds.compress(JPEG2000, frames, j2k_cr=[8])
    written.append(folder / "j2k_lossy_3frames.dcm")
    ds.save_as(written[-1], enforce_file_format=True)
    # Palette colour: 8-bit indices into 16-bit tables that start at 10, two frames.
    for bits, name in ((16, "palette16_2frames.dcm"), (8, "palette8_2frames.dcm")):
        ds = base_dataset(24, 32, 2, 8, False, "PALETTE COLOR")
        entries, first = 200, 10
        scale = 65535 if bits == 16 else 255
        table = np.linspace(0, 1, entries)
        red, green, blue = (table * scale), ((1 - table) * scale), (np.abs(np.sin(table * 6)) * scale)
        dtype = "<u2" if bits == 16 else "<u1"
        for colour, values in (("Red", red), ("Green", green), ("Blue", blue)):
            setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [entries, first, bits])
            data = values.astype(dtype).tobytes()
            if len(data) % 2:
                data += b"\0"
            setattr(ds, f"{colour}PaletteColorLookupTableData", data)
        indices = rng.integers(0, 230, (2, 24, 32)).astype(np.uint8)
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.PixelData = indices.tobytes()
        written.append(folder / name)
        ds.save_as(written[-1], enforce_file_format=True)
    return written


def main() -> None:
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    root = pathlib.Path(pydicom.__file__).parent / "data" / "test_files"
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() not in {".py", ".json", ".txt", ".gz", ".bz2", ".zip", ".npy", ".pyc"})
    files += generate(out / "generated")
    entries = []
    for index, path in enumerate(files):
        entry = {"path": str(path.resolve())}
        try:
            dataset = pydicom.dcmread(path)
            if "PixelData" not in dataset:
                entry["status"] = "no-pixels"
            else:
                values = pixel_array(dataset, raw=True)
                name = f"{index}.bin"
                (out / name).write_bytes(np.ascontiguousarray(values, dtype="<f8").tobytes())
                entry.update(status="ok", shape=list(values.shape), values=name)
                if dataset.PhotometricInterpretation == "PALETTE COLOR":
                    rgb = apply_color_lut(values, dataset).astype(np.float64)
                    if int(dataset.RedPaletteColorLookupTableDescriptor[2]) == 16:
                        rgb /= 257
                    (out / f"{index}.rgb.bin").write_bytes(np.ascontiguousarray(rgb, dtype="<f8").tobytes())
                    entry["rgb"] = f"{index}.rgb.bin"
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
