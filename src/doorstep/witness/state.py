"""What a witness keeps on disk: its own Ed25519 key and the latest checkpoint it cosigned per log.

One folder (``--state``): ``witness.key`` (made once, readable by its owner only) and one file per
log under ``logs/``. Checking a submission against the kept checkpoint and writing the new one
happen under one lock, and the file is replaced whole, so two submissions at once can never roll
the log back (the race tlog-witness warns about).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path

from doorstep.transparency.note import Checkpoint, Signature, cosign

KEY_FILE = "witness.key"


class WitnessState:
    """The witness's folder: its key, and per log origin the checkpoint it cosigned last."""

    def __init__(self, folder: Path, name: str) -> None:
        """Open (or start) the folder; the key is made on first use and kept."""
        self.folder = folder
        self.name = name
        self._lock = threading.Lock()
        (folder / "logs").mkdir(parents=True, exist_ok=True)
        self.private_key = self._key()

    def _key(self) -> bytes:
        path = self.folder / KEY_FILE
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
        return base64.b64decode(path.read_text().strip())

    def _path(self, origin: str) -> Path:
        return self.folder / "logs" / (hashlib.sha256(origin.encode()).hexdigest() + ".json")

    def latest(self, origin: str) -> Checkpoint | None:
        """The checkpoint cosigned last for ``origin``, if any."""
        path = self._path(origin)
        if not path.exists():
            return None
        kept = json.loads(path.read_text())
        return Checkpoint(kept["origin"], int(kept["size"]), base64.b64decode(kept["root"]))

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
            scratch = path.with_suffix(".tmp")
            scratch.write_text(json.dumps(kept))
            os.replace(scratch, path)
            return cosign(text, self.name, self.private_key, int(time.time()))
