#!/usr/bin/env bash
# Set everything up and run the Doorstep demo at http://127.0.0.1:8000 (SQLite + a local data folder).
set -euo pipefail
source "$(dirname "$0")/_setup.sh"
# OpenCV (opencv-python) loads libGL.so.1 and GLib from the system.
ensure_debian_packages libgl1 libglib2.0-0
ensure_venv "dev"
ensure_web_packages
cd "$doorstep_root"
exec "$venv/bin/doorstep" demo "$@"
