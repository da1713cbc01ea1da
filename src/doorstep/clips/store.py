"""Clips repository: seal and store uploads, read them back by range, shred on delete or expiry.

Shredding a clip shreds everything made from it too (invariant I6): the owner's redacted preview,
the agency copy of every share (the share is withdrawn, so the agency sees it gone) and every copy
disclosed under a warrant or an emergency. Keys go in the transaction; the ciphertext is removed
once it commits.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import io
import logging
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy import CompoundSelect, Select, bindparam, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from doorstep.accounts.models import OwnerKey, User
from doorstep.cameras.models import Camera, HouseholdMember
from doorstep.clips.models import Clip
from doorstep.clips.rules import expires_at
from doorstep.errors import DoorstepError, Forbidden, InvalidInput, NotFound
from doorstep.legal.store import Disclosure
from doorstep.platform.blobs import BlobStore
from doorstep.platform.crypto import (
    EncryptingReader,
    clip_key_context,
    decrypt_stream,
    iter_decrypted_range,
    new_key,
    owner_key_context,
    unwrap_key,
    wrap_key,
)
from doorstep.platform.folders import private_folder
from doorstep.platform.promote import work_key
from doorstep.platform.types import new_id, utcnow
from doorstep.requests import consent
from doorstep.requests.models import ClipPreview, Share
from doorstep.requests.store import share_domain, share_state
from doorstep.transparency import audit_store as audit

log = logging.getLogger(__name__)

ALLOWED_LABELS = frozenset({"motion", "person"})
#: Session info keys: blobs to remove once the transaction commits, and whether we listen.
_DOOMED = "doorstep.clips.doomed_blobs"
_LISTENING = "doorstep.clips.listening"


class ShredReason(StrEnum):
    """Why footage was shredded, as the audit log says."""

    DELETED = "deleted_by_owner"
    EXPIRED = "retention_expired"
    ACCOUNT_DELETED = "account_deleted"
    #: The clip went before its copies were shredded with it (a crash, or an older Doorstep).
    ALREADY_GONE = "footage_already_deleted"


@dataclass(frozen=True, slots=True)
class ClipMeta:
    """Event metadata the agent sends with a clip."""

    started_at: datetime
    ended_at: datetime
    peak_motion: float
    labels: Sequence[str]


#: The data folder's folder for footage being worked on (see ``Keys.scratch``).
WORK_FOLDER = "work"


@dataclass(frozen=True, slots=True)
class Keys:
    """The server's master key and where blobs live: what reading or writing footage needs."""

    master: bytes
    blobs: BlobStore
    #: Where plaintext footage may touch the disk while it is redacted or watermarked: the data
    #: folder's ``work``, never the system's temporary folder. A process killed in the middle of
    #: the work leaves its files here, and the next start or sweep removes them
    #: (``jobs.retention.clear_stale_files``); nothing else would.
    scratch: Path


#: In each work folder: held locked by the process doing the work, for as long as it does.
WORK_LOCK = ".in-use"


@contextmanager
def scratch_folder(keys: Keys, purpose: str) -> Iterator[Path]:
    """A folder of its own under ``keys.scratch`` for one piece of work, removed after it.

    The folder's lock file stays locked while the work goes on; the kernel lets go of it when
    the process dies, however it dies, and that is how a sweep tells a crash's leftovers from
    work in progress (``abandoned``).
    """
    private_folder(keys.scratch)
    # A sweep may remove the folder the moment the lock goes, before this would.
    with tempfile.TemporaryDirectory(
        prefix=f"{purpose}-", dir=keys.scratch, ignore_cleanup_errors=True
    ) as name:
        folder = Path(name)
        with (folder / f"{WORK_LOCK}.new").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            # Locked before it takes its name: a sweep never finds it unlocked while in use.
            (folder / f"{WORK_LOCK}.new").rename(folder / WORK_LOCK)
            yield folder


def abandoned(folder: Path) -> bool | None:
    """Whether a work folder's process is gone (its lock is free); None if it has no lock yet."""
    try:
        handle = (folder / WORK_LOCK).open("r")
    except FileNotFoundError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


def check_meta(meta: ClipMeta) -> None:
    """Refuse metadata that cannot describe a real event."""
    if meta.started_at.tzinfo is None or meta.ended_at.tzinfo is None:
        raise InvalidInput("event times need a time zone", field="started_at")
    if meta.ended_at < meta.started_at:
        raise InvalidInput("an event cannot end before it starts", field="ended_at")
    if (meta.ended_at - meta.started_at).total_seconds() > 3600:
        raise InvalidInput("an event is at most an hour long", field="ended_at")
    # A few minutes of clock drift on a camera is normal; an event from the future is not.
    if (meta.started_at - utcnow()).total_seconds() > 300:
        raise InvalidInput("the event starts in the future", field="started_at")
    if not 0 <= meta.peak_motion <= 1:
        raise InvalidInput("peak motion is a fraction from 0 to 1", field="peak_motion")
    unknown = set(meta.labels) - ALLOWED_LABELS
    if unknown:
        raise InvalidInput(f"unknown labels: {', '.join(sorted(unknown))}", field="labels")


def owner_data_key(db: Session, master_key: bytes, owner_id: str) -> bytes:
    """The owner's data key, made on first use and kept only wrapped by the master key."""
    row = db.get(OwnerKey, owner_id)
    context = owner_key_context(owner_id)
    if row is None:
        key = new_key()
        db.add(OwnerKey(user_id=owner_id, wrapped_key=wrap_key(master_key, key, context=context)))
        db.flush()
        return key
    return unwrap_key(master_key, row.wrapped_key, context=context)


def _clip_key(db: Session, keys: Keys, clip: Clip) -> bytes:
    if clip.wrapped_key is None:
        raise NotFound("that clip has been deleted")
    data_key = owner_data_key(db, keys.master, clip.owner_id)
    return unwrap_key(data_key, clip.wrapped_key, context=clip_key_context(clip.owner_id, clip.id))


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in pieces."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while piece := handle.read(1024 * 1024):
            digest.update(piece)
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def _duplicate_query() -> Select[Clip]:
    # Built once: every upload asks, and building a select costs more than running this one.
    return select(Clip).where(
        Clip.camera_id == bindparam("camera_id"), Clip.content_sha256 == bindparam("sha256")
    )


def find_duplicate(db: Session, camera: Camera, sha256: str) -> Clip | None:
    """The clip this camera already uploaded with the same content, if any."""
    return db.scalar(_duplicate_query(), {"camera_id": camera.id, "sha256": sha256})


def store_clip(
    db: Session,
    keys: Keys,
    camera: Camera,
    meta: ClipMeta,
    *,
    video: Path,
    snapshot: bytes,
    width: int,
    height: int,
    has_audio: bool,
    e2e: bool = False,
) -> tuple[Clip, bool]:
    """Seal and store an uploaded clip; the same content twice returns the first (``False``)."""
    check_meta(meta)
    sha256 = sha256_file(video)
    existing = find_duplicate(db, camera, sha256)
    if existing is not None:
        return existing, False
    clip = Clip(
        id=new_id(),
        camera_id=camera.id,
        owner_id=camera.owner_id,
        started_at=meta.started_at,
        ended_at=meta.ended_at,
        peak_motion=meta.peak_motion,
        labels=sorted(set(meta.labels)),
        content_sha256=sha256,
        size=video.stat().st_size,
        width=width,
        height=height,
        has_audio=has_audio,
        e2e=e2e,
        expires_at=expires_at(meta.started_at, camera.retention_days),
    )
    content_key = new_key()
    data_key = owner_data_key(db, keys.master, camera.owner_id)
    clip.wrapped_key = wrap_key(
        data_key, content_key, context=clip_key_context(clip.owner_id, clip.id)
    )
    # Blobs first, row last: a crash in between leaves only ciphertext whose key never existed.
    with video.open("rb") as handle:
        sealed = EncryptingReader(handle, content_key)
        clip.ciphertext_size = keys.blobs.put(clip.video_key, sealed)
    snapshot_sealed = EncryptingReader(io.BytesIO(snapshot), content_key)
    clip.snapshot_size = keys.blobs.put(clip.snapshot_key, snapshot_sealed)
    db.add(clip)
    try:
        db.flush()
    except IntegrityError:
        # The same upload raced in twice; keep the first and drop our copy's blobs.
        db.rollback()
        keys.blobs.delete(clip.video_key)
        keys.blobs.delete(clip.snapshot_key)
        duplicate = find_duplicate(db, camera, sha256)
        assert duplicate is not None
        return duplicate, False
    return clip, True


def clip_for_owner(db: Session, owner: User, clip_id: str) -> Clip:
    """One of the owner's clips, or NotFound; a household member is told they may only view."""
    clip = db.get(Clip, clip_id)
    if clip is not None and clip.owner_id != owner.id and is_household(db, owner, clip.camera_id):
        raise Forbidden("household members may view clips, not delete or share them")
    if clip is None or clip.owner_id != owner.id:
        raise NotFound("no such clip")
    return clip


def is_household(db: Session, user: User, camera_id: str) -> bool:
    """Whether ``user`` may view ``camera_id``'s clips as a household member."""
    return db.get(HouseholdMember, (camera_id, user.id)) is not None


def viewable_cameras(user: User) -> CompoundSelect[str]:
    """A query for the cameras whose clips ``user`` may view: own and household-shared ones."""
    return _viewable(user.id)


def viewable_cameras_param() -> CompoundSelect[str]:
    """``viewable_cameras`` for a statement built once: the account is the parameter ``viewer``."""
    return _viewable(bindparam("viewer"))


def _viewable(viewer: str | BindParameter[str]) -> CompoundSelect[str]:
    own = select(Camera.id).where(Camera.owner_id == viewer)
    shared = select(HouseholdMember.camera_id).where(HouseholdMember.user_id == viewer)
    return own.union(shared)


def viewable_camera_ids(db: Session, user: User) -> list[str]:
    """Cameras whose clips ``user`` may view: their own and those shared with their household."""
    return list(db.scalars(viewable_cameras(user)))


def clip_for_viewer(db: Session, user: User, clip_id: str) -> Clip:
    """A clip ``user`` may view (owner or household member), or NotFound."""
    clip = db.get(Clip, clip_id)
    if clip is None or (clip.owner_id != user.id and not is_household(db, user, clip.camera_id)):
        raise NotFound("no such clip")
    return clip


def read_range(db: Session, keys: Keys, clip: Clip, start: int, end: int) -> Iterator[bytes]:
    """Plaintext bytes ``start..end`` of the clip's video, decrypting only what is asked."""
    key = _clip_key(db, keys, clip)
    video_key = clip.video_key

    def read_at(offset: int, length: int) -> bytes:
        return keys.blobs.read_at(video_key, offset, length)

    return iter_decrypted_range(read_at, key, start, end, clip.ciphertext_size)


def read_snapshot(db: Session, keys: Keys, clip: Clip) -> bytes:
    """The clip's snapshot, decrypted."""
    key = _clip_key(db, keys, clip)
    return b"".join(decrypt_stream(keys.blobs.open_stream(clip.snapshot_key), key))


def read_video(db: Session, keys: Keys, clip: Clip) -> Iterator[bytes]:
    """The whole clip's video, decrypted piece by piece."""
    key = _clip_key(db, keys, clip)
    return decrypt_stream(keys.blobs.open_stream(clip.video_key), key)


def delete_after_commit(db: Session, blobs: BlobStore, blob_keys: Iterable[str]) -> None:
    """Remove ciphertext once the transaction that destroyed its keys has committed.

    Keys go first, inside the transaction; the bytes only once it lands, so a delete that rolls
    back never leaves a row whose blob is missing. Should removing fail or the process die in
    between, nothing the server holds can decrypt what is left.
    """
    pending: list[tuple[BlobStore, str]] = db.info.setdefault(_DOOMED, [])
    pending.extend((blobs, key) for key in blob_keys)
    if not db.info.get(_LISTENING):
        db.info[_LISTENING] = True
        event.listen(db, "after_commit", _remove_doomed)
        event.listen(db, "after_rollback", _forget_doomed)


def _remove_doomed(session: Session) -> None:
    if session.in_nested_transaction():
        # A savepoint was released; the keys are not gone until the outer transaction commits.
        return
    for blobs, key in session.info.pop(_DOOMED, []):
        try:
            blobs.delete(key)
        except (DoorstepError, OSError) as err:
            # Only tidying up: the key that opened these bytes is already destroyed. The blob's
            # kind only: its key (and the error's text) names the owner and the clip just deleted.
            kind = key.partition("/")[0]
            reason = type(err).__name__
            log.warning("could not remove a shredded %s blob (%s); its key is gone", kind, reason)


def _forget_doomed(session: Session) -> None:
    # The keys were not destroyed after all: keep the bytes they still open.
    session.info.pop(_DOOMED, None)


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
    shred_orphans(db, keys)
    return len(expired)
