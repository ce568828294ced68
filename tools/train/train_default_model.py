"""Train, measure and export Lightbox's default model (models/default/).

Run by hand after tools/train/setup.sh, never by the build or the tests:

    .venv-train/bin/python tools/train/train_default_model.py [--minutes 40] [--out models/default]

The shipped weights (models/default, see training.schedule in its model.json) came from three
stages, each resuming the last one's checkpoint:

    ... --minutes 38 --train-types blob,foreign,shift --out DIR1            (.train-data/checkpoint.pt)
    ... --minutes 32 --train-types blob,foreign,shift --resume .train-data/checkpoint.pt \
        --learning-rate 1e-3 --previous-minutes 38 --out DIR2              (then copied to checkpoint-v2.pt)
    ... --minutes 40 --resume .train-data/checkpoint-v2.pt --learning-rate 1e-3 --previous-minutes 70 \
        --previous-schedule "..." --version 1.1.0 --out models/default

The card's training.selection (which of the measured weight sets ships, and why) was written by
hand after comparing them, then CARD.md regenerated with `--rewrite-card models/default`.

What it does
  1. Loads real anatomy that installs offline (Debian's mricron-data and invesalius-examples,
     nilearn's MNI152 template, pydicom's and pydicom-data's files, the chest radiographs of the
     pneumonia-model-package wheel) and preprocesses every slice exactly as Lightbox does
     (window to 0..1 -- fixed for CT, 0.5th..99.5th percentile otherwise -- then area averaging to
     128 x 128).
  2. Splits by source: training anatomy, validation anatomy (calibration, thresholds), held-out
     anatomy (evaluation only).
  3. Inserts synthetic anomalies with their masks, MOOD-style. Training and validation use
     intensity blobs, foreign patches (patch interpolation from another image), shifted patches
     of the same image, local contrast changes, mirrored regions and intensity-matched foreign
     structure (--train-types picks a subset); evaluation uses only held-out types: local
     deformations and texture changes (blur or noise inside a region).
  4. Trains approach A, a small fully convolutional network (U-Net) on the synthetic masks, and
     builds approach B, nearest-neighbour distance of patch descriptors to a bank of normal
     patches; measures both on held-out anatomy x held-out anomaly types, with bootstrap 95%
     confidence intervals over base images.
  5. Fits temperature and Platt scaling on the validation split, keeps the better by validation
     log-loss, records tiers, the finding threshold and the out-of-domain guard.
  6. Exports approach A with torch.onnx.export(dynamo=False, opset_version=17), checks
     onnxruntime against torch, writes model.onnx, model.json (the card), reference.json
     (inputs and onnxruntime outputs for Lightbox's tests), CARD.md and real-lesions.png.
"""
from __future__ import annotations

import argparse
import json
import math
import pathlib
import plistlib
import tarfile
import time
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from scipy import ndimage
from sklearn.metrics import roc_auc_score

SIZE = 128
CT_WINDOW = (40.0, 400.0)  # centre, width (soft tissue)
ROOT = pathlib.Path(__file__).resolve().parents[2]
TRAIN_TYPES = ["blob", "foreign", "shift", "contrast", "mirror", "matched"]
HELD_OUT_TYPES = ["deform", "texture"]
# Whole-image degradations of clean anatomy during training (--degrade): scanners differ in
# resolution, sharpness and noise, so none of these is an anomaly; the network has to judge a
# region against the rest of its own image.
DEGRADE = False
BASE_AUGMENTATION = "mirror, 90-degree turns, crops, gamma"


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


def preprocess(values: np.ndarray, modality: str) -> np.ndarray:
    """One slice in modality units -> the network input (128 x 128, 0..1)."""
    if modality == "CT":
        center, width = CT_WINDOW
    else:
        center, width = percentile_window(values)
    return area_resize(apply_window(values, center, width))


# ---------------------------------------------------------------- anatomy

class Slice:
    def __init__(self, image: np.ndarray, modality: str, source: str, base: str):
        self.image = image  # preprocessed, 128 x 128
        self.modality = modality
        self.source = source
        self.base = base  # the unit the bootstrap resamples (one volume or one file)


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
            plane = np.take(volume, index, axis=axis)
            plane = np.rot90(plane)  # radiological display orientation for NIfTI (RAS)
            if modality != "CT" and (plane > plane.max() * 0.1).mean() < 0.12:
                continue  # mostly empty
            image = preprocess(plane, modality)
            if (image > 0.1).mean() < 0.12:
                continue
            out.append(Slice(image, modality, source, f"{source}"))
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
    if getattr(ds, "PhotometricInterpretation", "") == "MONOCHROME1":
        frames = frames.max() - frames
    return ds, frames


def dicom_slices(name: str, split_source: str) -> list[Slice]:
    ds, frames = dicom_frames(name)
    modality = str(ds.Modality)
    return [Slice(preprocess(f, modality), modality, split_source, f"{split_source}:{name}") for f in frames]


def radiograph(path: pathlib.Path, source: str) -> Slice:
    from PIL import Image
    values = np.asarray(Image.open(path).convert("L"), dtype=np.float32)
    return Slice(preprocess(values, "CR"), "CR", source, f"{source}:{path.name}")


def load_anatomy() -> dict[str, list[Slice]]:
    from nilearn import datasets
    templates = pathlib.Path("/usr/share/mricron/templates")
    nilearn_data = pathlib.Path(datasets.__file__).parent / "data"
    radiographs = sorted((ROOT / ".train-data" / "pneumonia").glob("*.jpeg"))
    if len(radiographs) < 16:
        raise SystemExit("run tools/train/setup.sh first (chest radiographs missing)")
    normal = [p for p in radiographs if "NORMAL" in p.name]
    other = [p for p in radiographs if "NORMAL" not in p.name]
    cranium = load_cranium()

    train: list[Slice] = []
    mni = as_scanner_values(load_nifti(nilearn_data / "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"))
    train += volume_slices(mni, "MR", "MNI152 T1 (nilearn)", axes=(0, 1, 2), step=3)
    ch2 = as_scanner_values(load_nifti(templates / "ch2better.nii.gz"))
    train += volume_slices(ch2, "MR", "ch2better (mricron-data)", axes=(0, 1, 2), step=3)
    cranium_train = cranium[:72]
    for index in range(0, 72, 1):
        train.append(Slice(preprocess(cranium_train[index], "CT"), "CT", "Cranium head CT (invesalius-examples)", "cranium-train"))
    for axis in (1, 2):
        for index in range(40, 216, 4):
            plane = np.take(cranium_train, index, axis=axis)
            train.append(Slice(preprocess(plane, "CT"), "CT", "Cranium head CT (invesalius-examples)", "cranium-train"))
    for path in normal[:5] + other[:5]:
        train.append(radiograph(path, "chest radiographs (pneumonia-model-package)"))

    validation: list[Slice] = []
    natbrain = as_scanner_values(load_nifti(templates / "natbrainlab.nii.gz"))
    validation += volume_slices(natbrain, "MR", "natbrainlab (mricron-data)", axes=(1, 2), step=3)
    for index in range(76, 108, 1):
        validation.append(Slice(preprocess(cranium[index], "CT"), "CT", "Cranium head CT, upper slices", "cranium-validation"))
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


def _has(name: str) -> bool:
    try:
        dicom_frames(name)
        return True
    except Exception:
        return False


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


def anomaly(kind: str, image: np.ndarray, rng: np.random.Generator, donor: np.ndarray | None = None):
    """(anomalous image, soft target, binary evaluation mask). Retries invisible anomalies."""
    for _ in range(6):
        soft, (cy, cx), radius = region_mask(rng, image)
        if kind == "blob":
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
        mask = soft > 0.5
        if mask.sum() < 6:
            continue
        change = float(np.abs(out - image)[mask].mean())
        if change >= 0.02:
            target = np.clip(soft, 0, 1).astype(np.float32)
            return out, target, mask, change
    return None


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
        out, target, _, _ = made
        images.append(out); targets.append(target); labels.append(1.0)
    return (torch.from_numpy(np.stack(images)[:, None]), torch.from_numpy(np.stack(targets)[:, None]),
            torch.tensor(labels)[:, None])


def train_unet(train: list[Slice], minutes: float, seed: int, log, start_from: str | None = None, learning_rate: float = 2e-3) -> UNet:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    # Every modality gets the same share of batches, whatever its slice count.
    modality_counts = {m: sum(s.modality == m for s in train) for m in {s.modality for s in train}}
    weights = np.array([1.0 / modality_counts[s.modality] for s in train])
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


# ---------------------------------------------------------------- approach B: patch nearest neighbours

class PatchBank:
    """Nearest-neighbour distance of 8 x 8 patch descriptors (PCA, 24 dims) to normal patches."""

    def __init__(self, train: list[Slice], seed: int):
        rng = np.random.default_rng(seed)
        patches = np.concatenate([self.patches(s.image) for s in train])
        patches = patches[rng.choice(len(patches), size=min(len(patches), 60000), replace=False)]
        self.mean = patches.mean(0)
        _, _, vt = np.linalg.svd(patches[:20000] - self.mean, full_matrices=False)
        self.components = vt[:24].T
        self.bank = torch.from_numpy(((patches - self.mean) @ self.components).astype(np.float32))

    @staticmethod
    def patches(image: np.ndarray) -> np.ndarray:
        windows = np.lib.stride_tricks.sliding_window_view(image, (8, 8))[::4, ::4]
        return windows.reshape(-1, 64).astype(np.float32)

    def score(self, image: np.ndarray):
        query = torch.from_numpy(((self.patches(image) - self.mean) @ self.components).astype(np.float32))
        best = torch.full((len(query),), float("inf"))
        for start in range(0, len(self.bank), 40000):
            best = torch.minimum(best, torch.cdist(query, self.bank[start:start + 40000]).min(1).values)
        side = int(math.sqrt(len(query)))
        grid = best.numpy().reshape(side, side)
        heat = ndimage.zoom(grid, SIZE / side, order=1)[:SIZE, :SIZE]
        heat = np.pad(heat, ((0, SIZE - heat.shape[0]), (0, SIZE - heat.shape[1])), mode="edge")
        return float(grid.max()), heat.astype(np.float32)


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
            rows.append(dict(image=image, mask=np.zeros((SIZE, SIZE), bool), label=0, kind="clean", change=0.0,
                             modality=s.modality, base=s.base, source=s.source, slice=index))
        for kind in types:
            for v in range(variants):
                donor = slices[rng.integers(len(slices))].image
                made = anomaly(kind, s.image if v == 0 else mild(s.image, rng), rng, donor)
                if made is None:
                    continue
                out, _, mask, change = made
                rows.append(dict(image=out, mask=mask, label=1, kind=kind, change=change, modality=s.modality,
                                 base=s.base, source=s.source, slice=index))
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


def metrics_for(rows, scores, heatmaps, calibrated=None, guard=None):
    labels = np.array([r["label"] for r in rows])
    masks = np.stack([r["mask"] for r in rows])
    out = {"images": len(rows), "anomalous": int(labels.sum()), "baseSlices": len({(r["base"], r["slice"]) for r in rows})}
    out["imageAUROC"] = bootstrap(rows, lambda idx: auroc(labels[idx], scores[idx]))
    # Pixel AUROC over every pixel of the chosen images (clean ones included), on a 2x2-strided
    # grid to keep the bootstrap affordable.
    sub_masks, sub_heat = masks[:, ::4, ::4], heatmaps[:, ::4, ::4]

    def pixel(idx):
        return auroc(sub_masks[idx].reshape(-1), sub_heat[idx].reshape(-1))
    out["pixelAUROC"] = bootstrap(rows, pixel, reps=40)
    out["pixelAUROC"][0] = auroc(masks[:, ::2, ::2].reshape(-1), heatmaps[:, ::2, ::2].reshape(-1))
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

def real_lesions(net: UNet, calibration, guard_fn, out_dir: pathlib.Path, log):
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
    p, h, e = run_unet(net, image[None])
    mask = area_resize(filled.astype(np.float32)) > 0.5
    entry = {"file": "MR-SIEMENS-DICOM-WithOverlays.dcm (pydicom-data)", "what": "abdominal MR; the overlay plane outlines a liver lesion",
             "rawProbability": float(p[0]), "calibratedProbability": float(calibrate(calibration, p[:1])[0]),
             "insideDomain": bool(guard_fn(e)[0]), "overlayPixels": int(mask.sum())}
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
    if ds.PhotometricInterpretation == "MONOCHROME1":
        pixels = pixels.max() - pixels
    image = preprocess(pixels, str(ds.Modality))
    p, h, e = run_unet(net, image[None])
    peak = np.unravel_index(np.argmax(h[0]), h[0].shape)
    results["extremityRadiograph"] = {
        "file": "RG3_UNCI.dcm (pydicom-data)", "what": "radiograph, study description: non-ossifying fibroma of distal tibia; no lesion mask available",
        "rawProbability": float(p[0]), "calibratedProbability": float(calibrate(calibration, p[:1])[0]),
        "insideDomain": bool(guard_fn(e)[0]), "heatmapPeak": {"row": int(peak[0]), "column": int(peak[1]), "ofSize": SIZE},
        "heatmapAreaAbove0.5": float((h[0] > 0.5).mean())}
    panels.append((image, h[0], None))

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
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--checkpoint", help="skip training and load these weights (a previous run's checkpoint)")
    parser.add_argument("--resume", help="continue training from these weights (a previous run's checkpoint) for --minutes more")
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--previous-minutes", type=float, default=0, help="minutes the resumed checkpoint was trained (recorded in the card)")
    parser.add_argument("--train-types", default=",".join(TRAIN_TYPES), help="anomaly types for training and validation (comma-separated)")
    parser.add_argument("--version", default="1.1.0", help="the model version in the card (results are cached per model version)")
    parser.add_argument("--degrade", action="store_true", help="whole-image blur, resolution loss and noise on clean training anatomy")
    parser.add_argument("--previous-schedule", help="how the resumed checkpoint was trained, in words (recorded in the card)")
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
    if args.checkpoint:
        net = UNet()
        net.load_state_dict(torch.load(args.checkpoint))
        net.eval()
    else:
        net = train_unet(anatomy["train"], args.minutes, args.seed + (1 if args.resume else 0), log, args.resume, args.learning_rate)
        if args.resume:
            checkpoint = ROOT / ".train-data" / "checkpoint-resumed.pt"
        torch.save(net.state_dict(), checkpoint)
        log(f"checkpoint saved to {checkpoint.relative_to(ROOT)} (not committed)")
    bank = PatchBank(anatomy["train"], args.seed)

    validation_rows = build_evaluation(anatomy["validation"], TRAIN_TYPES, args.seed + 1, variants=2)
    test_rows = build_evaluation(anatomy["test"], HELD_OUT_TYPES, args.seed + 2, variants=3)
    log(f"validation images {len(validation_rows)}, test images {len(test_rows)}")

    v_images = np.stack([r["image"] for r in validation_rows])
    v_labels = np.array([r["label"] for r in validation_rows])
    v_raw, v_heat, v_embed = run_unet(net, v_images)
    calibration, calibration_detail = fit_calibration(v_raw, v_labels)
    log(f"calibration: {calibration} ({calibration_detail})")

    # Out-of-domain guard: distance of the embedding to the training centroid.
    t_images = np.stack([s.image for s in anatomy["train"]])
    _, _, train_embed = run_unet(net, t_images)
    centroid = train_embed.mean(0)
    train_distance = np.linalg.norm(train_embed - centroid, axis=1)
    clean_validation = v_embed[v_labels == 0]
    limit = float(np.percentile(np.concatenate([train_distance, np.linalg.norm(clean_validation - centroid, axis=1)]), 99))

    def guard_fn(embeddings):
        return np.linalg.norm(embeddings - centroid, axis=1) <= limit

    # Finding threshold: the heatmap level with the best Dice on validation anomalies.
    best = (0.5, -1)
    for level in np.arange(0.2, 0.85, 0.05):
        dice = []
        for row, heat in zip(validation_rows, v_heat):
            if row["label"]:
                predicted = heat >= level
                dice.append(2 * (predicted & row["mask"]).sum() / max(predicted.sum() + row["mask"].sum(), 1))
        if np.mean(dice) > best[1]:
            best = (float(round(level, 2)), float(np.mean(dice)))
    log(f"finding threshold {best}")

    images = np.stack([r["image"] for r in test_rows])
    raw, heat, embed = run_unet(net, images)
    calibrated = calibrate(calibration, raw)
    guard = guard_fn(embed)
    report_a = breakdown(test_rows, raw, heat, calibrated, guard)
    validation_report = metrics_for(validation_rows, v_raw, v_heat, calibrate(calibration, v_raw), guard_fn(v_embed))
    log(f"approach A (U-Net) held-out: {json.dumps(report_a['all'])}")

    b_scores, b_heat = [], []
    for r in test_rows:
        score, map_ = bank.score(r["image"])
        b_scores.append(score); b_heat.append(map_)
    b_scores, b_heat = np.array(b_scores), np.stack(b_heat)
    report_b = {"all": metrics_for(test_rows, b_scores, b_heat)}
    for kind in HELD_OUT_TYPES:
        idx = [i for i, r in enumerate(test_rows) if r["kind"] in ("clean", kind)]
        report_b[f"type:{kind}"] = metrics_for([test_rows[i] for i in idx], b_scores[idx], b_heat[idx])
    log(f"approach B (patch bank) held-out: {json.dumps(report_b['all'])}")

    clean_test = [i for i, r in enumerate(test_rows) if r["label"] == 0]
    guard_trips = {"cleanHeldOutImages": len(clean_test), "tripped": int((~guard[clean_test]).sum())}
    by_modality = {}
    for i in clean_test:
        m = test_rows[i]["modality"]
        by_modality.setdefault(m, [0, 0])
        by_modality[m][0] += 1
        by_modality[m][1] += int(not guard[i])
    guard_trips["byModality"] = {m: {"images": v[0], "tripped": v[1]} for m, v in by_modality.items()}

    lesions = real_lesions(net, calibration, guard_fn, out, log)

    # ------------------------------------------------------------ export
    exported = Exported(net).eval()
    example = torch.from_numpy(images[:2][:, None])
    onnx_path = out / "model.onnx"
    torch.onnx.export(exported, example, str(onnx_path), dynamo=False, opset_version=17,
                      input_names=["image"], output_names=["probability", "heatmap", "embedding"],
                      dynamic_axes={"image": {0: "batch"}, "probability": {0: "batch"}, "heatmap": {0: "batch"}, "embedding": {0: "batch"}})
    import onnx
    import onnxruntime
    onnx.checker.check_model(onnx.load(str(onnx_path)))
    session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    reference_rows = [0, next(i for i, r in enumerate(test_rows) if r["label"] == 1)]
    batch = images[reference_rows][:, None].astype(np.float32)
    probability, heatmap, embedding = session.run(["probability", "heatmap", "embedding"], {"image": batch})
    with torch.no_grad():
        tp, th, te = exported(torch.from_numpy(batch))
    difference = max(float(np.abs(probability - tp.numpy()).max()), float(np.abs(heatmap - th.numpy()).max()), float(np.abs(embedding - te.numpy()).max()))
    log(f"onnxruntime vs torch, largest difference {difference:.2e}")
    (out / "reference.json").write_text(json.dumps({
        "input": [round(float(v), 7) for v in batch.flatten()], "inputShape": list(batch.shape),
        "probability": probability.flatten().tolist(), "heatmap": heatmap.flatten().tolist(),
        "embedding": embedding.flatten().tolist(), "onnxruntime": onnxruntime.__version__}))
    # The reference input went through JSON rounding; recompute outputs for exactly what was saved.
    saved = json.loads((out / "reference.json").read_text())
    batch = np.array(saved["input"], dtype=np.float32).reshape(saved["inputShape"])
    probability, heatmap, embedding = session.run(["probability", "heatmap", "embedding"], {"image": batch})
    saved.update(probability=probability.flatten().tolist(), heatmap=heatmap.flatten().tolist(), embedding=embedding.flatten().tolist())
    (out / "reference.json").write_text(json.dumps(saved))

    parameters = sum(p.numel() for p in net.parameters())
    card = {
        "name": "lightbox-anomaly-unet",
        "version": args.version,
        "intendedUse": ("Research and triage support only, not a diagnosis: highlights regions that look unlike the "
                        "anatomy it was trained on. Trained on synthetic anomalies in a handful of public templates; "
                        "never validated on patients."),
        "input": {"name": "image", "width": SIZE, "height": SIZE, "channels": 1},
        "outputs": {"probability": "probability", "heatmap": "heatmap", "embedding": "embedding"},
        "modalities": ["CT", "MR", "CR", "DX"],
        "preprocessing": {"CT": {"window": {"center": CT_WINDOW[0], "width": CT_WINDOW[1]}},
                          "MR": {"window": "percentile"}, "CR": {"window": "percentile"}, "DX": {"window": "percentile"}},
        "calibration": calibration,
        "tiers": {"high": 0.9, "medium": 0.7},
        "aggregation": "max",
        "findingThreshold": best[0],
        "domain": {"centroid": [float(v) for v in centroid], "maximumDistance": limit},
        "training": {
            "approach": "U-Net (4 levels, 16-128 channels, %d parameters) trained on synthetic anomaly masks" % parameters,
            "anomalyTypesTrained": TRAIN_TYPES, "anomalyTypesHeldOut": HELD_OUT_TYPES,
            "augmentation": (BASE_AUGMENTATION + ("; whole-image blur (sigma 0.5-1.5), resolution loss "
                             "(down to 32-80 px and back) and noise (sigma 0.005-0.03), each on 15% of training images" if DEGRADE else "")),
            "minutes": args.minutes + args.previous_minutes, "seed": args.seed,
            "schedule": (f"{args.previous_schedule or f'{args.previous_minutes:g} min at learning rate 2e-3 (cosine)'}, then resumed for {args.minutes:g} min at "
                         f"{args.learning_rate:g} (cosine)"
                         if args.resume else f"{args.minutes:g} min, AdamW, learning rate {args.learning_rate:g} with a cosine decay, batches of 24"),
            "splits": {split: sorted({f"{s.source} [{s.modality}]" for s in slices}) for split, slices in anatomy.items()},
            "sliceCounts": {split: len(slices) for split, slices in anatomy.items()},
        },
        "dataSources": DATA_SOURCES,
        "metrics": {
            "heldOut": report_a, "validationTrainTypes": validation_report,
            "alternativeApproachPatchBank": report_b, "calibrationFit": calibration_detail,
            "findingThresholdValidationDice": best[1], "domainGuard": guard_trips,
            "realLesions": lesions,
            "note": "[value, 95% lower, 95% upper]; intervals resample base slices (200 bootstrap draws; 40 for pixel AUROC, on a 4x4 pixel grid); pixel AUROC point value over every pixel of every evaluation image (clean ones included) on a 2x2 grid",
        },
        "knownFailureModes": [],
    }
    card["knownFailureModes"] = failure_modes(card["metrics"])
    chosen_better = report_a["all"]["imageAUROC"][0] >= report_b["all"]["imageAUROC"][0]
    card["training"]["whyThisApproach"] = (
        "The U-Net measured better than the patch bank on held-out anatomy with held-out anomaly types "
        f"(image AUROC {report_a['all']['imageAUROC'][0]:.3f} vs {report_b['all']['imageAUROC'][0]:.3f}, pixel AUROC "
        f"{report_a['all']['pixelAUROC'][0]:.3f} vs {report_b['all']['pixelAUROC'][0]:.3f}) and exports to one small ONNX graph."
        if chosen_better else
        "The patch bank measured better on image AUROC, but it cannot ship as a single small ONNX graph (its bank of normal "
        "patches is the model); the U-Net ships and the card reports both.")
    (out / "model.json").write_text(json.dumps(card, indent=2) + "\n")
    size = onnx_path.stat().st_size
    log(f"model.onnx {size / 1e6:.2f} MB, {parameters} parameters; total {(time.time() - began) / 60:.1f} min")
    write_markdown(card, out / "CARD.md")


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
                     f"{bone['heatmapAreaAbove0.5'] * 100:.0f}% of the image above 0.5 — large uniform regions (collimation, background) attract heat.")
    tiers = held["all"]["tiers"]
    modes.append("Tiers on held-out data: " + ", ".join(
        f"{name} {t['share'] * 100:.0f}% of images" + (f" ({t['correct'] * 100:.0f}% correct)" if t["correct"] is not None else "")
        for name, t in tiers.items()) + ". A High tier is rare and not evidence of correctness.")
    modes.append("Trained and measured on synthetic anomalies in a handful of templates and public test files; never on patients or real pathology.")
    return modes


DATA_SOURCES = [
    {"name": "MNI152 2009a symmetric T1 template", "package": "nilearn (PyPI)", "licence": "as distributed with nilearn; MNI template terms (free use with attribution)"},
    {"name": "ch2better, natbrainlab, INIA19 macaque T1 templates", "package": "mricron-data (Debian)", "licence": "per debian/copyright of mricron-data (BSD-style; INIA19: CC BY-NC-SA)"},
    {"name": "Cranium head CT (108 slices)", "package": "invesalius-examples (Debian)", "licence": "per debian/copyright of invesalius-examples (GPL-2)"},
    {"name": "CT_small, MR_small", "package": "pydicom (PyPI)", "licence": "pydicom test files (MIT / public test data)"},
    {"name": "emri_small, MR2, 693, eCT_Supplemental, RG1, RG3, MR-SIEMENS-DICOM-WithOverlays", "package": "pydicom-data (PyPI)", "licence": "pydicom-data (MIT; files from public DICOM test collections)"},
    {"name": "16 chest radiographs (8 normal, 8 bacterial pneumonia)", "package": "pneumonia-model-package 0.3.0 (PyPI)", "licence": "per the package (images from the public Kermany et al. chest X-ray set, CC BY 4.0)"},
]


def fmt(triple):
    if triple is None:
        return "—"
    value, lo, hi = triple
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.3f} ({lo:.3f}–{hi:.3f})"


def write_markdown(card, path):
    m = card["metrics"]
    lines = [f"# {card['name']} {card['version']}", "", f"**Intended use.** {card['intendedUse']}", "",
             "## Training", "", f"- {card['training']['approach']}; {card['training']['minutes']} minutes of CPU training, seed {card['training']['seed']}.",
             f"- Schedule: {card['training'].get('schedule', '')}.",
             f"- Anomaly types in training and validation: {', '.join(card['training']['anomalyTypesTrained'])}. Held out for evaluation only: {', '.join(card['training']['anomalyTypesHeldOut'])}.",
             f"- Augmentation of training images: {card['training'].get('augmentation', BASE_AUGMENTATION)}.",
             f"- Why this approach: {card['training']['whyThisApproach']}"]
    if card["training"].get("selection"):
        lines.append(f"- Which weights ship: {card['training']['selection']}")
    lines.append("")
    for split, sources in card["training"]["splits"].items():
        lines.append(f"- **{split}** ({card['training']['sliceCounts'][split]} slices): " + "; ".join(sources))
    lines += ["", "## Data sources and licences", ""]
    lines += [f"- {s['name']} — {s['package']} — {s['licence']}" for s in card["dataSources"]]
    overall = m["heldOut"]["all"]
    goals = [("image AUROC ≥ 0.85", overall["imageAUROC"][0] >= 0.85), ("pixel AUROC ≥ 0.90", overall["pixelAUROC"][0] >= 0.90),
             ("ECE ≤ 0.05", overall["ECE"][0] <= 0.05)]
    lines += ["", "## Results on held-out anatomy with held-out anomaly types", "",
              "Goals set for this model: " + "; ".join(f"{name}: {'met' if ok else 'NOT met'}" for name, ok in goals) + ".", "",
              "Value and 95% bootstrap interval (resampling base slices).", "",
              "| subset | images | image AUROC | pixel AUROC | ECE |", "|---|---|---|---|---|"]
    for key, r in m["heldOut"].items():
        lines.append(f"| {key} | {r['images']} | {fmt(r['imageAUROC'])} | {fmt(r['pixelAUROC'])} | {fmt(r.get('ECE'))} |")
    lines += ["", "Tiers (with the domain guard applied): share of images, share whose call is correct.", ""]
    for name, t in m["heldOut"]["all"]["tiers"].items():
        correct = "—" if t["correct"] is None else f"{t['correct']:.3f}"
        lines.append(f"- {name}: {t['share']:.3f} of images ({t['count']}), correct {correct}")
    b = m["alternativeApproachPatchBank"]
    lines += ["", "## The other approach measured", "",
              "Nearest-neighbour distance of 8×8 patch descriptors (PCA to 24 dimensions) to a bank of 60,000 normal training patches.", "",
              "| subset | image AUROC | pixel AUROC |", "|---|---|---|"]
    for key, r in b.items():
        lines.append(f"| {key} | {fmt(r['imageAUROC'])} | {fmt(r['pixelAUROC'])} |")
    v = m["validationTrainTypes"]
    lines += ["", "## Validation split (training anomaly types, validation anatomy)", "",
              f"image AUROC {fmt(v['imageAUROC'])}, pixel AUROC {fmt(v['pixelAUROC'])}, ECE {fmt(v['ECE'])}", "",
              f"Calibration: {json.dumps(card['calibration'])} (fit: {json.dumps({k: m['calibrationFit'][k] for k in ('temperatureLogLoss', 'plattLogLoss')})}).",
              f"Finding threshold {card['findingThreshold']} (validation Dice {m['findingThresholdValidationDice']:.3f}).", "",
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
        (path / "model.json").write_text(json.dumps(card, indent=2) + "\n")
        write_markdown(card, path / "CARD.md")
    else:
        main()
