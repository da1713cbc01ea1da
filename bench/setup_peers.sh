#!/usr/bin/env bash
# Peers for bench/motion.py live in their own venv: DVR-Scan brings its own OpenCV build,
# and two OpenCV distributions in the project venv would overwrite each other's cv2.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv-bench"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "dvr-scan>=1.6"
"$venv/bin/dvr-scan" --version
