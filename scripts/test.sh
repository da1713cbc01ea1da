#!/usr/bin/env bash
# Set everything up and run the whole check: formatting, lint, types and the full test suite.
# With no arguments: every suite, then the API and journey suites again on the scale-out engines,
# then a short load run. Extra arguments run only pytest with them (`bash scripts/test.sh tests/geo`).
set -euo pipefail
source "$(dirname "$0")/_setup.sh"
# chromium drives the browser tests; coturn relays the doorbell's NAT test; espeak-ng speaks the
# quick replies; iproute2 makes the network namespaces; libgl1 and libglib2.0-0 load OpenCV;
# GStreamer's RTSP server plays the IP camera; mosquitto runs the TLS broker; pg_dump backs up
# PostgreSQL; systemd, nginx and docker-compose check the operator files. The rest comes from PyPI.
ensure_debian_packages chromium fonts-dejavu-core coturn espeak-ng iproute2 tcpdump libgl1 libglib2.0-0 \
  python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-rtsp gstreamer1.0-plugins-base \
  gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly mosquitto postgresql-client systemd nginx-light \
  docker-compose
ensure_venv "dev"
ensure_web_packages
cd "$doorstep_root"
export PATH="$venv/bin:$PATH"
echo "==> ruff format --check"; ruff format --check --quiet src tests bench
echo "==> ruff check";          ruff check --quiet src tests bench
echo "==> mypy --strict";       mypy
echo "==> lint-imports";        lint-imports --no-cache
# pytest exits 5 when it collects nothing; that is a failure here like any other.
if [ "$#" -gt 0 ]; then
  echo "==> pytest $*"
  exec python -m pytest "$@"
fi
echo "==> pytest (every suite; storage and API tests on SQLite and PostgreSQL)"
python -m pytest
echo "==> pytest --backends=scaleout (PostgreSQL, SeaweedFS S3, Mosquitto, Dramatiq on Redis)"
python -m pytest --backends=scaleout tests/*/test_api*.py tests/test_journey.py
echo "==> scripts/check_install.sh (pip install . and the wheel in a fresh venv: doctor, redact, serve)"
bash scripts/check_install.sh
echo "==> bench/load.py, short form (two server processes on PostgreSQL; fails on any error)"
python bench/load.py --seconds 10 --agents 10 --readers 20 --posts 2000 --check
