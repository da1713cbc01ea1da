"""The agency copy: redacted footage, watermarked, hashed and sealed under a key of its own.

One function for every copy that leaves an owner, a share's (``requests.service_copies``) and a
legal disclosure's (``legal.service_disclose``) alike. Redaction is the clip's redacted preview,
made once per clip and kept sealed by its owner feature; the caller hands its plaintext over with
the faces it blurred, or the original clip when a warrant orders the copy unredacted. Plaintext
only touches ``folder``, a private scratch folder the caller holds for the length of the call.
Given a ``Provenance``, the copy carries a C2PA manifest signed by the operator
(``media.provenance``); the hash kept and published is the signed file's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from doorstep.media.provenance import Provenance, SigningIdentity, sign_copy
from doorstep.platform.blobs import BlobStore
from doorstep.platform.crypto import EncryptingReader, new_key, wrap_key


@dataclass(frozen=True, slots=True)
class Footage:
    """Plaintext MP4 to copy, piece by piece, and how many faces were blurred in it."""

    pieces: Iterable[bytes]
    faces_found: int = 0


@dataclass(frozen=True, slots=True)
class SealedCopy:
    """What the copy's row keeps: the delivered file's hash and size, and its wrapped key."""

    sha256: str
    size: int
    faces_found: int
    ciphertext_size: int
    wrapped_key: bytes


def _write(pieces: Iterable[bytes], path: Path) -> Path:
    with path.open("wb") as handle:
        for piece in pieces:
            handle.write(piece)
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while piece := handle.read(1024 * 1024):
            digest.update(piece)
    return digest.hexdigest()


def seal_copy(
    footage: Footage,
    folder: Path,
    *,
    lines: Sequence[str],
    blobs: BlobStore,
    target: str,
    master_key: bytes,
    key_context: bytes,
    provenance: Provenance | None = None,
    signing: SigningIdentity | None = None,
) -> SealedCopy:
    """Burn ``lines`` into every frame, hash the result and seal it under ``target``.

    The copy's key is new and wrapped by the master key with ``key_context`` (the share's or
    the disclosure's), so destroying the wrapped key shreds the copy. With ``provenance`` and
    ``signing`` the delivered file is signed: its manifest records what was done to it.
    """
    # Imported here: the codecs load only in the process that makes a copy.
    from doorstep.media.watermark import watermark_file

    source = _write(footage.pieces, folder / "source.mp4")
    delivered = folder / "delivered.mp4"
    watermark_file(source, delivered, lines)
    if provenance is not None and signing is not None:
        signed = folder / "signed.mp4"
        sign_copy(delivered, signed, provenance, signing)
        delivered = signed
    content_key = new_key()
    with delivered.open("rb") as handle:
        ciphertext_size = blobs.put(target, EncryptingReader(handle, content_key))
    return SealedCopy(
        sha256=_sha256(delivered),
        size=delivered.stat().st_size,
        faces_found=footage.faces_found,
        ciphertext_size=ciphertext_size,
        wrapped_key=wrap_key(master_key, content_key, context=key_context),
    )
