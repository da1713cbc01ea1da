"""Which witnesses the log asks, how many must cosign, and the log's checkpoint origin: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from doorstep.errors import InvalidInput
from doorstep.transparency.note import (
    COSIGNATURE_V1,
    Note,
    VerifierKey,
    cosigned_at,
    parse_verifier_key,
)


@dataclass(frozen=True, slots=True)
class WitnessConfig:
    """One witness: its cosigning key and where it takes ``add-checkpoint`` requests."""

    key: VerifierKey
    url: str


def parse_witnesses(text: str) -> list[WitnessConfig]:
    """Read the ``witnesses`` setting: comma-separated ``VERIFIERKEY URL`` pairs."""
    found: list[WitnessConfig] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        key_text, _, url = item.partition(" ")
        key = parse_verifier_key(key_text)
        url = url.strip().rstrip("/")
        if key.kind != COSIGNATURE_V1:
            raise InvalidInput(
                f"{key.name}: a witness key is a cosignature (type 4) key", field="key"
            )
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise InvalidInput(f"{key.name}: the witness's address is an http(s) URL", field="url")
        if any(known.key.name == key.name for known in found):
            raise InvalidInput(f"{key.name}: a witness is named once", field="key")
        found.append(WitnessConfig(key, url))
    return found


def log_origin(audit_origin: str, public_url: str) -> str:
    """The checkpoint origin: the setting, or the public URL's host and path plus ``/audit``."""
    if audit_origin:
        return audit_origin
    parts = urlsplit(public_url or "http://localhost")
    return f"{parts.netloc}{parts.path.rstrip('/')}/audit"


def cosigned_by(note: Note, witnesses: list[VerifierKey]) -> list[str]:
    """The names of the witnesses whose valid cosignature the note carries."""
    return [key.name for key in witnesses if cosigned_at(note, key) is not None]
