"""The Python peer of `lightbox render DIR --grid`: the same contact sheet with pydicom and numpy.

Reads every file of a folder with pydicom (sorted by name: the benchmark's series is written in
slice order), rescales to modality units, windows with the first file's stored window (DICOM's
linear VOI function), area-averages each slice to the tile size of the same layout Lightbox uses
(the largest tiles that fit COLS x 2*ROWS half-block pixels), and prints the sheet as 24-bit
half-block text, as `lightbox render DIR --grid --cols COLS --rows ROWS` does.

Usage: python tools/grid_peer.py DIR [--cols 160] [--rows 48]
Needs pydicom and numpy (the reference environment has both).
"""
import argparse
import math
import pathlib
import sys

import numpy as np
import pydicom


def area_matrix(source: int, target: int) -> np.ndarray:
    """Rows of coverage weights: target x source, each row summing to 1."""
    weights = np.zeros((target, source), dtype=np.float32)
    scale = source / target
    for i in range(target):
        start, end = i * scale, (i + 1) * scale
        for j in range(int(math.floor(start)), min(source, int(math.ceil(end)))):
            weights[i, j] = max(0.0, min(end, j + 1) - max(start, j))
        weights[i] /= weights[i].sum()
    return weights


def fit(width, height, aspect, max_width, max_height):
    physical_width, physical_height = width * aspect, height
    scale = min(max_width / physical_width, max_height / physical_height)
    return min(max_width, max(1, round(physical_width * scale))), min(max_height, max(1, round(physical_height * scale)))


def layout(count, width, height, aspect, max_width, max_height, gutter_x=1, gutter_y=2):
    best, best_area = (1, count, 1, 2), 0
    for columns in range(1, count + 1):
        rows = -(-count // columns)
        available_width = (max_width - (columns - 1) * gutter_x) // columns
        available_height = (max_height - (rows - 1) * gutter_y) // rows
        available_height -= available_height % 2
        if available_width < 1 or available_height < 2:
            continue
        tile_width, tile_height = fit(width, height, aspect, available_width, available_height)
        tile_height = max(2, tile_height - tile_height % 2)
        if tile_width * tile_height > best_area:
            best, best_area = (columns, rows, tile_width, tile_height), tile_width * tile_height
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--cols", type=int, default=160)
    parser.add_argument("--rows", type=int, default=48)
    args = parser.parse_args()
    files = sorted(p for p in pathlib.Path(args.folder).iterdir() if p.suffix == ".dcm")
    first = pydicom.dcmread(files[0])
    spacing = [float(v) for v in getattr(first, "PixelSpacing", [1, 1])]
    aspect = spacing[1] / spacing[0]
    rows_, columns_ = int(first.Rows), int(first.Columns)
    columns, grid_rows, tile_width, tile_height = layout(len(files), columns_, rows_, aspect, args.cols, 2 * args.rows)
    tile_width, tile_height = fit(columns_, rows_, aspect, tile_width, tile_height)
    tile_height = max(2, tile_height - tile_height % 2)
    center = float(first.WindowCenter if not isinstance(first.WindowCenter, pydicom.multival.MultiValue) else first.WindowCenter[0])
    width = float(first.WindowWidth if not isinstance(first.WindowWidth, pydicom.multival.MultiValue) else first.WindowWidth[0])
    down, across = area_matrix(rows_, tile_height), area_matrix(columns_, tile_width).T
    sheet_width = columns * tile_width + (columns - 1)
    sheet_height = grid_rows * tile_height + (grid_rows - 1) * 2
    sheet = np.zeros((sheet_height, sheet_width), dtype=np.uint8)
    for index, path in enumerate(files):
        ds = pydicom.dcmread(path)
        values = ds.pixel_array.astype(np.float32) * float(getattr(ds, "RescaleSlope", 1)) + float(getattr(ds, "RescaleIntercept", 0))
        shade = np.clip((values - (center - 0.5)) / (width - 1) + 0.5, 0, 1)
        tile = np.rint((down @ shade @ across) * 255).astype(np.uint8)
        y, x = (index // columns) * (tile_height + 2), (index % columns) * (tile_width + 1)
        sheet[y:y + tile_height, x:x + tile_width] = tile
    out = []
    for row in range(0, sheet_height, 2):
        top, bottom = sheet[row], sheet[row + 1] if row + 1 < sheet_height else np.zeros(sheet_width, np.uint8)
        line = "".join(f"\x1b[38;2;{t};{t};{t}m\x1b[48;2;{b};{b};{b}m\u2580" for t, b in zip(top.tolist(), bottom.tolist()))
        out.append(line + "\x1b[0m\n")
    sys.stdout.write("".join(out))


if __name__ == "__main__":
    main()
