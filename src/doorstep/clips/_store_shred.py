"""Shredding: a clip goes with everything made from it, keys first and bytes after COMMIT.

Shredding a clip shreds everything made from it too (invariant I6): the owner's redacted preview,
the agency copy of every share (the share is withdrawn, so the agency sees it gone) and every copy
disclosed under a warrant or an emergency, and every copy an owner shared with a lost-pet
notice. Keys go in the transaction; the ciphertext is removed once it commits
(``platform.after_commit``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from doorstep.accounts.models import OwnerKey, User
from doorstep.clips.models import Clip, ClipEvent
from doorstep.clips.rules import EVENT_MEMORY
from doorstep.errors import DoorstepError
from doorstep.legal.models import Disclosure
from doorstep.pets.models import PetShare
from doorstep.platform import after_commit
from doorstep.platform.blobs import BlobStore
from doorstep.platform.keys import Keys
from doorstep.platform.promote import work_key
from doorstep.platform.types import utcnow
from doorstep.requests import consent
from doorstep.requests.models import ClipPreview, Share
from doorstep.requests.store import share_domain, share_state
from doorstep.transparency import audit_store as audit

log = logging.getLogger(__name__)


class ShredReason(StrEnum):
    """Why footage was shredded, as the audit log says."""

    DELETED = "deleted_by_owner"
    EXPIRED = "retention_expired"
    ACCOUNT_DELETED = "account_deleted"
    #: The clip went before its copies were shredded with it (a crash, or an older Doorstep).
    ALREADY_GONE = "footage_already_deleted"


def delete_after_commit(db: Session, blobs: BlobStore, blob_keys: Iterable[str]) -> None:
    """Remove ciphertext once the transaction that destroyed its keys has committed.

    Keys go first, inside the transaction; the bytes only once it lands, so a delete that rolls
    back never leaves a row whose blob is missing. Should removing fail or the process die in
    between, nothing the server holds can decrypt what is left.
    """
    for key in blob_keys:
        after_commit.defer(db, after_commit.SHREDS, (blobs, key))
    after_commit.run_after_commit(db, after_commit.SHREDS, _remove_doomed)


def _remove_doomed(doomed: list[tuple[BlobStore, str]]) -> None:
    for blobs, key in doomed:
        try:
            blobs.delete(key)
        except (DoorstepError, OSError) as err:
            # Only tidying up: the key that opened these bytes is already destroyed. The blob's
            # kind only: its key (and the error's text) names the owner and the clip just deleted.
            kind = key.partition("/")[0]
            reason = type(err).__name__
            log.warning("could not remove a shredded %s blob (%s); its key is gone", kind, reason)


def _withdraw_share(share: Share, now: datetime) -> bool:
    """Close a share whose footage is gone and destroy its copy's key; True if now withdrawn."""
    share.wrapped_key = None
    current = share_state(share, now)
    if current in (consent.ShareState.ACTIVE, consent.ShareState.DOWNLOADED):
        changed = consent.withdraw(share_domain(share), now)
    elif current is consent.ShareState.EXPIRED and share.state == consent.ShareState.ACTIVE.value:
        changed = consent.expire_share(share_domain(share), now)
    else:
        return False
    share.state = changed.state.value
    share.changed_at = changed.changed_at
    return changed.state is consent.ShareState.WITHDRAWN


def _shred_shares(
    db: Session, keys: Keys, shares: Iterable[Share], actor: User | None, reason: ShredReason
) -> list[str]:
    """Withdraw shares whose footage is gone; returns the blobs that held their copies."""
    now = utcnow()
    doomed: list[str] = []
    for share in shares:
        withdrawn = _withdraw_share(share, now)
        doomed += [share.blob_key, work_key(share.blob_key)]
        if withdrawn:
            audit.record(
                db,
                keys.master,
                "share.withdraw",
                actor=actor,
                owner_id=share.owner_id,
                # Scoped to the request, and without the share's id: nothing in the public log
                # links this share to the same owner's shares with other requests.
                scope=share.rfa_id,
                detail={
                    "request": share.rfa_id,
                    "agency": share.rfa.agency.name,
                    "case": share.rfa.case_number,
                    "reason": reason.value,
                },
            )
    return doomed


def _shred_disclosures(
    db: Session,
    keys: Keys,
    rows: Iterable[Disclosure],
    actor: User | None,
    reason: ShredReason,
) -> list[str]:
    """Destroy the agency copies of disclosed footage that is gone; returns their blobs.

    Deleting footage is the owner's right even while a warrant or an emergency disclosure of it
    waits for the agency's download: the copy goes too, and the log says so, with whether the
    agency had downloaded it. An owner whose notice is still held back by a non-disclosure order
    does not find this entry among their own (it would tell them of the disclosure early).
    """
    doomed: list[str] = []
    for row in rows:
        row.wrapped_key = None
        doomed.append(row.blob_key)
        basis = row.demand_id or row.emergency_id
        audit.record(
            db,
            keys.master,
            "disclosure.shred",
            actor=actor,
            owner_id=row.owner_id if row.notified_at is not None else None,
            scope=basis,
            detail={
                "disclosure": row.id,
                "basis": basis,
                "agency": row.agency.name,
                "downloaded": row.downloaded_at is not None,
                "reason": reason.value,
            },
        )
    return doomed


def _shred_derived(
    db: Session, keys: Keys, clip: Clip, actor: User | None, reason: ShredReason
) -> list[str]:
    """Destroy the keys of everything made from a clip; returns the blobs that held them."""
    doomed: list[str] = []
    preview = db.get(ClipPreview, clip.id)
    if preview is not None:
        doomed.append(preview.blob_key)
        db.delete(preview)
    shares = db.scalars(select(Share).where(Share.clip_id == clip.id))
    doomed += _shred_shares(db, keys, shares, actor, reason)
    disclosed = db.scalars(
        select(Disclosure).where(Disclosure.clip_id == clip.id, Disclosure.wrapped_key.is_not(None))
    )
    doomed += _shred_disclosures(db, keys, disclosed, actor, reason)
    # Copies shared with a lost-pet notice go too: the poster's page no longer shows them.
    now = utcnow()
    for copy in db.scalars(
        select(PetShare).where(PetShare.clip_id == clip.id, PetShare.wrapped_key.is_not(None))
    ):
        copy.wrapped_key = None
        copy.withdrawn_at = copy.withdrawn_at or now
        doomed.append(copy.blob_key)
    return doomed


def shred(
    db: Session, keys: Keys, clip: Clip, *, reason: ShredReason = ShredReason.DELETED
) -> None:
    """Delete a clip and every copy made from it: keys first (crypto-shred), rows, then bytes.

    The clip's own key, its preview's, the agency copies' of its shares (withdrawn) and of its
    legal disclosures all go in this transaction; the ciphertext is removed once it commits.
    """
    actor = None if reason is ShredReason.EXPIRED else db.get(User, clip.owner_id)
    clip.wrapped_key = None
    doomed = [clip.video_key, clip.snapshot_key, *_shred_derived(db, keys, clip, actor, reason)]
    db.flush()
    if clip.event_id is not None:
        # What was announced of the event (when, labels) goes with its footage.
        db.execute(
            delete(ClipEvent).where(
                ClipEvent.camera_id == clip.camera_id, ClipEvent.event_id == clip.event_id
            )
        )
    db.delete(clip)
    db.flush()
    delete_after_commit(db, keys.blobs, doomed)


def shred_orphans(db: Session, keys: Keys, owner_id: str | None = None) -> int:
    """Shred agency copies whose clip is already gone (or all of one owner's); returns how many.

    A clip deleted by an older Doorstep left its shares' and disclosures' copies behind, keys and
    all: the retention sweep shreds them. Account deletion shreds every copy of the owner's.
    """
    shares = select(Share).where(Share.wrapped_key.is_not(None))
    disclosed = select(Disclosure).where(
        Disclosure.what == "footage", Disclosure.wrapped_key.is_not(None)
    )
    if owner_id is None:
        shares = shares.where(Share.clip_id.is_(None))
        disclosed = disclosed.where(Disclosure.clip_id.is_(None))
        reason, actor = ShredReason.ALREADY_GONE, None
    else:
        shares = shares.where(Share.owner_id == owner_id)
        disclosed = disclosed.where(Disclosure.owner_id == owner_id)
        reason, actor = ShredReason.ACCOUNT_DELETED, db.get(User, owner_id)
    share_rows = list(db.scalars(shares))
    disclosure_rows = list(db.scalars(disclosed))
    doomed = _shred_shares(db, keys, share_rows, actor, reason)
    doomed += _shred_disclosures(db, keys, disclosure_rows, actor, reason)
    db.flush()
    delete_after_commit(db, keys.blobs, doomed)
    return len(share_rows) + len(disclosure_rows)


def shred_owner(db: Session, keys: Keys, owner_id: str) -> int:
    """Destroy an owner's data key and every clip, so nothing of theirs can ever be decrypted.

    Every copy made from their clips goes too: previews, agency copies of their shares and of
    footage disclosed under legal process.
    """
    clips = list(db.scalars(select(Clip).where(Clip.owner_id == owner_id)))
    row = db.get(OwnerKey, owner_id)
    if row is not None:
        db.delete(row)
        db.flush()
    for clip in clips:
        shred(db, keys, clip, reason=ShredReason.ACCOUNT_DELETED)
    shred_orphans(db, keys, owner_id)
    return len(clips)


def expire(db: Session, keys: Keys, now: datetime | None = None) -> int:
    """Shred every clip past its retention, with its copies; returns how many clips."""
    moment = now or utcnow()
    expired = list(db.scalars(select(Clip).where(Clip.expires_at <= moment)))
    for clip in expired:
        shred(db, keys, clip, reason=ShredReason.EXPIRED)
    db.execute(delete(ClipEvent).where(ClipEvent.started_at <= moment - EVENT_MEMORY))
    shred_orphans(db, keys)
    return len(expired)
