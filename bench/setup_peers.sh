#!/usr/bin/env bash
# Peers for the benchmarks, each in a venv of its own: DVR-Scan (bench/motion.py) and deface
# (bench/redact.py) each bring their own OpenCV build, and two OpenCV distributions in one venv
# overwrite each other's cv2 - in the project venv or in each other's.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
make_venv() {
  local venv="$1"; shift
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet "$@"
}
make_venv "$root/.venv-bench" "dvr-scan>=1.6"
make_venv "$root/.venv-bench-deface" "deface==1.5.0"
"$root/.venv-bench/bin/dvr-scan" --version
"$root/.venv-bench-deface/bin/deface" --help >/dev/null && echo "deface ready"
