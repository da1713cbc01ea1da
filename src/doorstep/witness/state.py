"""What a witness keeps on disk: its own Ed25519 key and the latest checkpoint it cosigned per log.

One folder (``--state``): ``witness.key`` (made once, readable by its owner only) and one file per
log under ``logs/``. Checking a submission against the kept checkpoint and writing the new one
happen under one lock, and the file is replaced whole, so two submissions at once can never roll
the log back (the race tlog-witness warns about). Every file is written to a temporary file, synced
and renamed into place, so a crash leaves the old file or the new one, never a part of one; a file
that cannot be read anyway is an error at start, never a fresh start from size 0.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path

from doorstep.errors import DoorstepError
from doorstep.transparency.note import Checkpoint, Signature, cosign

KEY_FILE = "witness.key"


def now() -> int:
    """The time a cosignature states: POSIX seconds."""
    return int(time.time())


class DamagedState(DoorstepError):
    """A file in the witness's folder cannot be read: it must be looked at, not started over."""


def _write_synced(path: Path, text: str, *, replace: bool) -> None:
    """Write ``text`` to ``path`` whole (0600): temp file, fsync, then rename (or link if new)."""
    scratch = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        if replace:
            os.replace(scratch, path)
        else:
            os.link(scratch, path)  # fails if another process made the file first
    finally:
        scratch.unlink(missing_ok=True)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


class WitnessState:
    """The witness's folder: its key, and per log origin the checkpoint it cosigned last."""

    def __init__(self, folder: Path, name: str) -> None:
        """Open (or start) the folder; the key is made on first use and kept."""
        self.folder = folder
        self.name = name
        self._lock = threading.Lock()
        (folder / "logs").mkdir(parents=True, exist_ok=True)
        self.private_key = self._key()
        for kept in sorted((folder / "logs").glob("*.json")):
            self._read(kept)

    def _key(self) -> bytes:
        path = self.folder / KEY_FILE
        if not path.exists():
            fresh = base64.b64encode(secrets.token_bytes(32)).decode() + "\n"
            with contextlib.suppress(FileExistsError):  # another process made it first
                _write_synced(path, fresh, replace=False)
        try:
            key = base64.b64decode(path.read_text().strip(), validate=True)
        except (OSError, ValueError) as err:
            raise DamagedState(f"the witness key {path} cannot be read: {err}") from err
        if len(key) != 32:
            raise DamagedState(f"the witness key {path} is not a 32-byte key in base64")
        return key

    def _path(self, origin: str) -> Path:
        return self.folder / "logs" / (hashlib.sha256(origin.encode()).hexdigest() + ".json")

    def latest(self, origin: str) -> Checkpoint | None:
        """The checkpoint cosigned last for ``origin``, if any."""
        path = self._path(origin)
        if not path.exists():
            return None
        return self._read(path)

    @staticmethod
    def _read(path: Path) -> Checkpoint:
        try:
            kept = json.loads(path.read_text())
            size, root = kept["size"], base64.b64decode(kept["root"], validate=True)
            if not isinstance(size, int) or isinstance(size, bool) or size < 0 or len(root) != 32:
                raise ValueError("no size and 32-byte root")
            return Checkpoint(str(kept["origin"]), size, root)
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise DamagedState(
                f"the witness state {path} cannot be read ({err}); restore it from a backup: "
                "starting over would let the log roll back"
            ) from err

    def cosign_if(self, text: str, decide: Callable[[Checkpoint | None], Checkpoint]) -> Signature:
        """Cosign checkpoint ``text`` if ``decide`` accepts it given the kept one, keeping it first.

        ``decide`` raises to refuse; nothing is kept then.
        """
        origin = text.split("\n", 1)[0]
        with self._lock:
            accepted = decide(self.latest(origin))
            path = self._path(origin)
            kept = {
                "origin": accepted.origin,
                "size": accepted.size,
                "root": base64.b64encode(accepted.root).decode(),
            }
            _write_synced(path, json.dumps(kept), replace=True)
            return cosign(text, self.name, self.private_key, now())
