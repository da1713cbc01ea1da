"""What `doorstep audit verify` remembers per server: the pinned log key and the last checkpoint.

Kept under ``$XDG_STATE_HOME/doorstep/audit/`` (``~/.local/state/doorstep/audit/`` by default),
one JSON file per server origin, folders 0700 and files 0600. The checkpoint is the last signed tree
head that verified in full; the next run demands a consistency proof from it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)

from doorstep.errors import InvalidInput
from doorstep.transparency.merkle import SignedTreeHead

_DEFAULT_PORTS = {"http": 80, "https": 443}
_FORMAT = "doorstep-audit-pin-v1"


def state_folder(environ: Mapping[str, str] = os.environ) -> Path:
    """``$XDG_STATE_HOME/doorstep``; a relative or empty value is ignored, as the spec says."""
    base = environ.get("XDG_STATE_HOME", "")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "state"
    return root / "doorstep"


def server_origin(server: str) -> str:
    """The origin a pin belongs to: scheme, host and port, lower case, default port left out."""
    parts = urlsplit(server.strip())
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise InvalidInput(f"{server!r} is not an http(s) address", field="server")
    try:
        port = parts.port
    except ValueError as err:
        raise InvalidInput(f"{server!r} has an invalid port", field="server") from err
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def parse_public_key(text: str) -> bytes:
    """A raw Ed25519 public key from base64, hex, a PEM block, or the name of a file holding one."""
    value = text.strip()
    path = Path(value).expanduser()
    if value and len(value) < 4096 and path.is_file():
        value = path.read_text().strip()
    if value.startswith("-----BEGIN"):
        try:
            key = load_pem_public_key(value.encode())
        except ValueError as err:
            raise InvalidInput("the key file is not a PEM public key", field="key") from err
        if not isinstance(key, Ed25519PublicKey):
            raise InvalidInput("the audit log's key is an Ed25519 key", field="key")
        return key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    raw = b""
    with contextlib.suppress(ValueError):
        raw = bytes.fromhex(value) if len(value) == 64 else b""
    if not raw:
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as err:
            raise InvalidInput("the key is not base64, hex or a key file", field="key") from err
    if len(raw) != 32:
        raise InvalidInput("an Ed25519 public key is 32 bytes", field="key")
    return raw


@dataclass(frozen=True, slots=True)
class Pin:
    """One server's pinned key and, once a run verified, the checkpoint it reached."""

    origin: str
    public_key: bytes
    checkpoint: SignedTreeHead | None = None
    #: The size of the largest witnessed checkpoint verified so far: it may never go back.
    witnessed_size: int = 0


def _head_json(head: SignedTreeHead) -> dict[str, Any]:
    return {
        "size": head.size,
        "root": head.root.hex(),
        "timestamp": head.timestamp.isoformat(),
        "signature": base64.b64encode(head.signature).decode(),
    }


def _head_from(data: Mapping[str, Any]) -> SignedTreeHead:
    return SignedTreeHead(
        size=int(data["size"]),
        root=bytes.fromhex(data["root"]),
        timestamp=datetime.fromisoformat(data["timestamp"]),
        signature=base64.b64decode(data["signature"], validate=True),
    )


class PinStore:
    """The pins of every server verified from this account, one file per origin."""

    def __init__(self, folder: Path) -> None:
        """Keep pins in ``folder`` (normally ``state_folder()``)."""
        self.folder = folder

    def path_for(self, origin: str) -> Path:
        """The file holding ``origin``'s pin."""
        readable = re.sub(r"[^a-z0-9.-]+", "_", origin.lower()).strip("_")
        digest = hashlib.sha256(origin.encode()).hexdigest()[:12]
        return self.folder / "audit" / f"{readable}-{digest}.json"

    def load(self, origin: str) -> Pin | None:
        """The pin kept for ``origin``, or None before its first verification."""
        path = self.path_for(origin)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as err:
            raise InvalidInput(f"cannot read the pin in {path}: {err}", field="state") from err
        try:
            if data["format"] != _FORMAT or data["origin"] != origin:
                raise ValueError("it belongs to another format or server")
            key = base64.b64decode(data["public_key"], validate=True)
            if len(key) != 32:
                raise ValueError("its key is not 32 bytes")
            checkpoint = _head_from(data["checkpoint"]) if data.get("checkpoint") else None
            witnessed = data.get("witnessed_size", 0)
            if isinstance(witnessed, bool) or not isinstance(witnessed, int) or witnessed < 0:
                raise ValueError("its witnessed size is not a count")
        except (KeyError, TypeError, ValueError) as err:
            # Never re-pin silently: a damaged pin is exactly what an attacker would like.
            raise InvalidInput(
                f"the pin in {path} is damaged ({err}); check it, or remove it to pin again",
                field="state",
            ) from err
        return Pin(origin, key, checkpoint, witnessed)

    def keep_evidence(
        self, origin: str, remembered: SignedTreeHead, offered: SignedTreeHead, problem: str
    ) -> Path:
        """Keep two heads ``origin``'s pinned key signed that disagree, and why; return the file."""
        pin = self.path_for(origin)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        document = {
            "format": "doorstep-audit-evidence-v1",
            "origin": origin,
            "problem": problem,
            "remembered": _head_json(remembered),
            "offered": _head_json(offered),
        }
        return self._write(pin.with_name(f"{pin.stem}.evidence-{stamp}.json"), document)

    def save(self, pin: Pin) -> Path:
        """Write ``pin`` atomically, readable by this account only; returns the file."""
        document = {
            "format": _FORMAT,
            "origin": pin.origin,
            "public_key": base64.b64encode(pin.public_key).decode(),
            "checkpoint": _head_json(pin.checkpoint) if pin.checkpoint else None,
            "witnessed_size": pin.witnessed_size,
        }
        return self._write(self.path_for(pin.origin), document)

    def _write(self, path: Path, document: Mapping[str, Any]) -> Path:
        for folder in (self.folder, path.parent):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            # mkdir's mode is filtered by the umask and ignored for folders that exist.
            os.chmod(folder, 0o700)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(document, handle, indent=2, sort_keys=True)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return path
