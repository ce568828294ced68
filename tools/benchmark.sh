#!/usr/bin/env bash
# Foundation figures: scanning 1,000 instances, and file → 160×48 half-block frame for a 512×512
# CT slice, in process and as a whole process beside dcm2pnm + chafa on the same slice.
# Then a 100-slice series as a contact sheet (`render DIR --grid`) beside pydicom + numpy doing the
# same reading, windowing, area averaging and half-block text in one Python process.
# Usage: tools/benchmark.sh [LIGHTBOX_BINARY] [PYTHON]   (make bench builds the release binary and
# the reference environment first; PYTHON needs pydicom and numpy)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.build/release/lightbox}
bench="$(dirname "$bin")/lightbox-benchmark"
python=${2:-.build/reference-venv/bin/python}
runs=30
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bench" --workdir "$work" --repeats "$runs"
slice="$work/dicom/00000.dcm"

# Prints "label median / p95" for `runs` runs of a command (a shell function); the median in
# microseconds goes to the file named by $3.
measure() {
  local label=$1 command=$2 out=$3
  local times=() start end
  for _ in $(seq "$runs"); do
    start=$(date +%s%N); "$command" >/dev/null 2>&1; end=$(date +%s%N)
    times+=($(( (end - start) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk -v label="$label" -v out="$out" '
    { t[NR] = $1 } END { m = t[int((NR + 1) / 2)]; p = t[int(NR * 0.95 + 0.5)]
      printf "  %-36s %8.2f ms / %8.2f ms\n", label, m / 1000, p / 1000; print m > out }'
}

lightbox_frame() { "$bin" render "$slice" --cols 160 --rows 48; }
peer_frame() {
  dcm2pnm +Wi 1 "$slice" "$work/peer.pnm" &&
    chafa --size 160x48 --symbols vhalf --colors full --animate off "$work/peer.pnm"
}

echo "file → 160×48 frame as whole processes, same slice, $runs runs (median / p95):"
lightbox_frame >/dev/null && peer_frame >/dev/null || { echo "a frame command failed" >&2; exit 1; }
measure "lightbox render" lightbox_frame "$work/ours"
measure "dcm2pnm + chafa (two processes)" peer_frame "$work/peer"
awk -v a="$(cat "$work/peer")" -v b="$(cat "$work/ours")" 'BEGIN { printf "  ratio (dcm2pnm + chafa) / lightbox:  %.2fx\n", a / b }'

# The contact sheet: the first series (100 slices) of the benchmark's study, in its own folder.
mkdir -p "$work/series100"
for i in $(seq -f '%05g' 0 99); do ln -s "$work/dicom/$i.dcm" "$work/series100/$i.dcm"; done
lightbox_grid() { "$bin" render "$work/series100" --grid --cols 160 --rows 48; }
# One BLAS thread: the peer's fastest setting here (two threads on two cores thrash, 3-4x slower).
peer_grid() { OPENBLAS_NUM_THREADS=1 "$python" tools/grid_peer.py "$work/series100" --cols 160 --rows 48; }
echo "100-slice series → 160×48 contact sheet as whole processes, $runs runs (median / p95):"
lightbox_grid >/dev/null && peer_grid >/dev/null || { echo "a grid command failed" >&2; exit 1; }
measure "lightbox render --grid" lightbox_grid "$work/grid-ours"
measure "pydicom + numpy (one process)" peer_grid "$work/grid-peer"
awk -v a="$(cat "$work/grid-peer")" -v b="$(cat "$work/grid-ours")" 'BEGIN { printf "  ratio (pydicom + numpy) / lightbox:  %.2fx\n", a / b }'
