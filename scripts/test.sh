#!/usr/bin/env bash
# Set everything up and run the whole check: formatting, lint, types and the full test suite.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh tests/domain -x`).
set -euo pipefail
source "$(dirname "$0")/_setup.sh"
# chromium drives the browser tests; everything else comes from PyPI.
ensure_debian_packages chromium fonts-dejavu-core
ensure_venv "dev"
cd "$doorstep_root"
export PATH="$venv/bin:$PATH"
echo "==> ruff format --check"; ruff format --check --quiet src tests bench
echo "==> ruff check";          ruff check --quiet src tests bench
echo "==> mypy --strict";       mypy
echo "==> pytest"
# pytest exits 5 when it collects nothing; that is a failure here like any other.
exec python -m pytest "$@"
