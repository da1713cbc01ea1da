"""Redaction work: the owner's redacted preview of a clip, and the watermarked agency copy.

Both are sealed with keys of their own: the preview's key lives in a row that goes with the clip
(so deleting the clip shreds its preview), the agency copy's in the share (so revoking or expiring
the share shreds the copy). Plaintext only ever exists in a private temporary folder.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.orm import Session

from doorstep.storage.agencies import ClipPreview, Share, expire_shares
from doorstep.storage.clips import Keys, read_video, sha256_file
from doorstep.storage.crypto import (
    EncryptingReader,
    decrypt_stream,
    iter_decrypted_range,
    new_key,
    unwrap_key,
    wrap_key,
)
from doorstep.storage.db import Database
from doorstep.storage.models import Clip


def preview_key_context(clip_id: str) -> bytes:
    """Associated data binding a wrapped preview key to its clip."""
    return b"doorstep preview " + clip_id.encode()


def share_key_context(share_id: str) -> bytes:
    """Associated data binding a wrapped agency-copy key to its share."""
    return b"doorstep share " + share_id.encode()


def _write(pieces: Iterator[bytes], path: Path) -> Path:
    with path.open("wb") as handle:
        for piece in pieces:
            handle.write(piece)
    return path


def _seal(keys: Keys, blob_key: str, path: Path, content_key: bytes) -> int:
    with path.open("rb") as handle:
        return keys.blobs.put(blob_key, EncryptingReader(handle, content_key))


def redacted_preview(db: Session, keys: Keys, clip: Clip) -> ClipPreview:
    """The clip with bystanders' faces blurred, made on first use and kept sealed."""
    existing = db.get(ClipPreview, clip.id)
    if existing is not None:
        return existing
    # Imported here: only video/ loads the codecs and the face model, and only when needed.
    from doorstep.video.redact import redact_file

    content_key = new_key()
    with tempfile.TemporaryDirectory(prefix="doorstep-redact-") as folder:
        original = _write(read_video(db, keys, clip), Path(folder) / "original.mp4")
        redacted = Path(folder) / "redacted.mp4"
        report = redact_file(original, redacted, masks=(), audio=False)
        preview = ClipPreview(
            clip_id=clip.id,
            owner_id=clip.owner_id,
            wrapped_key=wrap_key(keys.master, content_key, context=preview_key_context(clip.id)),
            size=redacted.stat().st_size,
            ciphertext_size=0,
            faces_found=report.faces_found,
        )
        preview.ciphertext_size = _seal(keys, preview.blob_key, redacted, content_key)
    db.add(preview)
    db.flush()
    return preview


def _preview_key(keys: Keys, preview: ClipPreview) -> bytes:
    return unwrap_key(
        keys.master, preview.wrapped_key, context=preview_key_context(preview.clip_id)
    )


def read_preview(keys: Keys, preview: ClipPreview, start: int, end: int) -> Iterator[bytes]:
    """Plaintext bytes ``start..end`` of the redacted preview."""
    key = _preview_key(keys, preview)

    def read_at(offset: int, length: int) -> bytes:
        return keys.blobs.read_at(preview.blob_key, offset, length)

    return iter_decrypted_range(read_at, key, start, end, preview.ciphertext_size)


def watermark_lines(agency_name: str, case_number: str, share_id: str) -> list[str]:
    """What is burned into every frame of an agency copy."""
    return [f"{agency_name} - case {case_number}", f"Doorstep share {share_id}"]


def make_agency_copy(
    db: Session, keys: Keys, clip: Clip, share: Share, *, agency_name: str, case_number: str
) -> Share:
    """Seal the redacted, watermarked copy the agency gets, recording its size and SHA-256."""
    from doorstep.video.watermark import watermark_file

    preview = redacted_preview(db, keys, clip)
    content_key = new_key()
    with tempfile.TemporaryDirectory(prefix="doorstep-share-") as folder:
        redacted = _write(
            decrypt_stream(keys.blobs.open_stream(preview.blob_key), _preview_key(keys, preview)),
            Path(folder) / "redacted.mp4",
        )
        delivered = Path(folder) / "delivered.mp4"
        watermark_file(redacted, delivered, watermark_lines(agency_name, case_number, share.id))
        share.sha256 = sha256_file(delivered)
        share.size = delivered.stat().st_size
        share.faces_found = preview.faces_found
        share.ciphertext_size = _seal(keys, share.blob_key, delivered, content_key)
    share.wrapped_key = wrap_key(keys.master, content_key, context=share_key_context(share.id))
    return share


def read_agency_copy(keys: Keys, share: Share, start: int, end: int) -> Iterator[bytes]:
    """Plaintext bytes ``start..end`` of the agency copy; the caller checked the share is open."""
    assert share.wrapped_key is not None
    key = unwrap_key(keys.master, share.wrapped_key, context=share_key_context(share.id))

    def read_at(offset: int, length: int) -> bytes:
        return keys.blobs.read_at(share.blob_key, offset, length)

    return iter_decrypted_range(read_at, key, start, end, share.ciphertext_size)


def digest_of(pieces: Iterator[bytes]) -> str:
    """SHA-256 of a stream of bytes."""
    digest = hashlib.sha256()
    for piece in pieces:
        digest.update(piece)
    return digest.hexdigest()


def sweep_expired_shares(db: Database, keys: Keys) -> int:
    """Close shares past their end and shred their agency copies; returns how many."""
    with db.session() as session:
        expired = expire_shares(session)
        blob_keys = [share.blob_key for share in expired]
    # The keys are gone with the commit; removing the ciphertext only tidies up.
    for blob_key in blob_keys:
        keys.blobs.delete(blob_key)
    return len(blob_keys)
