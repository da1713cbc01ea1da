"""Copies of footage: the owner's redacted preview of a clip, and the watermarked agency copy.

Both are sealed with keys of their own: the preview's key lives in a row that goes with the clip
(so deleting the clip shreds its preview), the agency copy's in the share (so revoking or expiring
the share shreds the copy). Plaintext only ever exists in a private temporary folder.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.clips.models import Clip
from doorstep.clips.store import delete_after_commit, read_video
from doorstep.media.copies import Footage, SealedCopy, seal_copy
from doorstep.platform.crypto import (
    EncryptingReader,
    decrypt_stream,
    iter_decrypted_range,
    new_key,
    unwrap_key,
    wrap_key,
)
from doorstep.platform.db import Database
from doorstep.platform.keys import Keys as Keys
from doorstep.platform.promote import promote, work_key
from doorstep.platform.scratch import scratch_folder
from doorstep.platform.types import utcnow
from doorstep.requests import store
from doorstep.requests.models import ClipPreview, Share
from doorstep.requests.service_provenance import copy_provenance, operator_signing
from doorstep.requests.store import (
    expire_shares,
    is_preparing,
    preparing_shares,
    revoke,
)
from doorstep.transparency import audit_store as audit

log = logging.getLogger(__name__)

#: A share still preparing after this long lost its job (the process running it died).
STALE_AFTER = timedelta(minutes=10)


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


def redacted_preview(db: Session, keys: Keys, clip: Clip, *, timed: bool = True) -> ClipPreview:
    """The clip with bystanders' heads covered, made on first use and kept sealed.

    A preview kept from an earlier, weaker redaction is made again (and the old one shredded)
    before it is shown or copied, so no share made from now on carries the old redaction.
    Made for an agency copy (``timed`` false), its time is not in the metrics: it would count
    the share (I3).
    """
    # Imported here: only media/ loads the codecs and the face model, and only when needed.
    from doorstep.media.redact import METHOD, redact_file

    existing = store.clip_preview(db, clip.id)
    if existing is not None and existing.method == METHOD:
        return existing
    content_key = new_key()
    with scratch_folder(keys, "redact") as folder:
        original = _write(read_video(db, keys, clip), folder / "original.mp4")
        redacted = folder / "redacted.mp4"
        report = redact_file(original, redacted, masks=(), audio=False, timed=timed)
        preview = ClipPreview(
            clip_id=clip.id,
            owner_id=clip.owner_id,
            wrapped_key=wrap_key(keys.master, content_key, context=preview_key_context(clip.id)),
            size=redacted.stat().st_size,
            ciphertext_size=0,
            faces_found=report.faces_found,
            method=METHOD,
        )
        preview.ciphertext_size = _seal(keys, preview.blob_key, redacted, content_key)
    if existing is None:
        return store.add_clip_preview(db, preview)
    stale = existing.blob_key
    store.replace_clip_preview(db, existing, preview)
    delete_after_commit(db, keys.blobs, [stale])
    return existing


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


def _seal_agency_copy(db: Session, keys: Keys, clip: Clip, share: Share, target: str) -> SealedCopy:
    """Redact, watermark and seal the agency copy under ``target``."""
    preview = redacted_preview(db, keys, clip, timed=False)
    # Kept even if the copy fails: a retry need not find the faces again.
    db.commit()
    agency, case_number = share.rfa.agency.name, share.rfa.case_number
    lines = watermark_lines(agency, case_number, share.id)
    provenance = copy_provenance(
        keys,
        clip,
        purpose="share",
        reference=share.id,
        scope=share.rfa_id,
        faces_redacted=True,
        faces_found=preview.faces_found,
        lines=lines,
    )
    with scratch_folder(keys, "share") as folder:
        pieces = decrypt_stream(
            keys.blobs.open_stream(preview.blob_key), _preview_key(keys, preview)
        )
        return seal_copy(
            Footage(pieces, preview.faces_found),
            folder,
            lines=lines,
            blobs=keys.blobs,
            target=target,
            master_key=keys.master,
            key_context=share_key_context(share.id),
            provenance=provenance,
            signing=operator_signing(keys),
        )


def prepare_share(database: Database, keys: Keys, share_id: str) -> bool:
    """Make a share's agency copy; True when this run made it, False when nothing was to do.

    Safe to run again at any point: the copy is sealed under a work key and moved into place
    whole, and the share takes the copy's key only while it is still open and preparing, so a
    share revoked or expired meanwhile never gets one and its copy is removed.
    """
    with database.session() as db:
        share = store.find_share(db, share_id)
        if share is None:
            return False
        work = work_key(share.blob_key)
        if not is_preparing(share):
            # A run killed after sealing but before the move may have left its work behind.
            keys.blobs.delete(work)
            return False
        clip = db.get(Clip, share.clip_id) if share.clip_id else None
        if clip is None or clip.wrapped_key is None:
            # The owner deleted the clip before its copy was made: nothing is left to share.
            revoke(db, share)
            log.debug("a share's clip is gone; closed without a copy")
            return False
        # DEBUG and no id: a line per share, at INFO, would tell a share from a decline (which
        # writes none), and an id would tie an anonymous share to a household in logs that
        # outlive both.
        log.debug("making an agency copy")
        sealed = _seal_agency_copy(db, keys, clip, share, work)
        promote(keys.blobs, work, share.blob_key)
        taken = store.take_agency_copy(
            db,
            share_id,
            sha256=sealed.sha256,
            size=sealed.size,
            faces_found=sealed.faces_found,
            ciphertext_size=sealed.ciphertext_size,
            wrapped_key=sealed.wrapped_key,
        )
        if not taken:
            keys.blobs.delete(share.blob_key)
            return False
        owner = db.get(User, share.owner_id)
        audit.record(
            db,
            keys.master,
            "share.create",
            actor=owner,
            owner_id=share.owner_id,
            # Scoped to the request, without the share's id: see audit.record.
            scope=share.rfa_id,
            detail={
                "request": share.rfa_id,
                "agency": share.rfa.agency.name,
                "case": share.rfa.case_number,
                "sha256": sealed.sha256,
                "redacted": True,
            },
        )
    log.debug("agency copy ready")
    return True


def stale_preparing(database: Database, older_than: timedelta = STALE_AFTER) -> list[str]:
    """Shares preparing for longer than a job should take: their job was lost with a process."""
    with database.session() as db:
        return preparing_shares(db, utcnow() - older_than)


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
        blob_keys = [key for share in expired for key in (share.blob_key, work_key(share.blob_key))]
    # The keys are gone with the commit; removing the ciphertext only tidies up.
    for blob_key in blob_keys:
        keys.blobs.delete(blob_key)
    if expired:
        log.info("shares: closed %d past their end", len(expired))
    return len(expired)
