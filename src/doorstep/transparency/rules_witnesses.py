"""Which witnesses the log asks, the checkpoint origin, and how its key rotates: no I/O."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from doorstep.errors import InvalidInput
from doorstep.transparency.note import (
    COSIGNATURE_V1,
    Note,
    Signature,
    VerifierKey,
    cosigned_at,
    parse_verifier_key,
    verifier_for,
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


def verified_cosignature(
    text: str, lines: list[Signature], witness: VerifierKey
) -> Signature | None:
    """The one line among a witness's answer ``lines`` that is its valid cosignature on ``text``.

    Only that line may be kept with the checkpoint: a line that merely carries the witness's name
    (beside, or instead of, a valid one) must never count it toward the quorum.
    """
    for line in lines:
        if cosigned_at(Note(text, (line,)), witness) is not None:
            return line
    return None


#: The audit action that retires the checkpoint key for another.
KEY_ROTATION = "log.checkpoint_key_rotated"


def _rotation_statement(old: str, new: str) -> bytes:
    return f"doorstep checkpoint key rotation\nold {old}\nnew {new}\n".encode()


def rotation_detail(name: str, old_private: bytes, new_private: bytes) -> dict[str, str]:
    """The rotation entry's detail: both keys, and the old key's signature on the new one."""
    old = verifier_for(name, old_private).encode()
    new = verifier_for(name, new_private).encode()
    signed = Ed25519PrivateKey.from_private_bytes(old_private).sign(_rotation_statement(old, new))
    return {"old_key": old, "new_key": new, "signature": base64.b64encode(signed).decode()}


def follow_rotations(pinned: VerifierKey, details: list[dict[str, str]]) -> VerifierKey:
    """The key in use now, reached from ``pinned`` only through rotations its holder signed.

    ``details`` are the rotation entries' details in log order. One that retires another key is
    none of this chain's business; one that names the current key but is not signed by it is a
    forgery, and fails.
    """
    current = pinned
    for detail in details:
        if detail.get("old_key") != current.encode():
            continue
        statement = _rotation_statement(detail["old_key"], detail.get("new_key", ""))
        try:
            signature = base64.b64decode(detail.get("signature", ""), validate=True)
            Ed25519PublicKey.from_public_bytes(current.public_key).verify(signature, statement)
        except (binascii.Error, InvalidSignature) as err:
            raise InvalidInput(
                f"a rotation away from {current.encode()} is not signed by it", field="key"
            ) from err
        current = parse_verifier_key(detail["new_key"])
    return current
