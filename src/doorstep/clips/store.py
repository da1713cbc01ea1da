"""Clips repository: seal and store uploads, read them back by range, shred on delete or expiry.

Shredding, with everything made from a clip, is written in ``_store_shred.py`` and part of this
module's interface (``shred``, ``shred_owner``, ``expire`` ...).
"""

from __future__ import annotations

import functools
import hashlib
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import CompoundSelect, Select, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.elements import BindParameter

from doorstep.accounts.models import OwnerKey, User
from doorstep.cameras.models import Camera, HouseholdMember
from doorstep.cameras.rules import OBJECT_LABELS, kept_labels
from doorstep.clips._store_shred import ShredReason as ShredReason
from doorstep.clips._store_shred import delete_after_commit as delete_after_commit
from doorstep.clips._store_shred import expire as expire
from doorstep.clips._store_shred import shred as shred
from doorstep.clips._store_shred import shred_orphans as shred_orphans
from doorstep.clips._store_shred import shred_owner as shred_owner
from doorstep.clips.models import Clip
from doorstep.clips.rules import expires_at
from doorstep.clips.rules_objects import (
    KINDS,
    check_objects,
    clip_kind,
    kept_objects,
    kind_days,
    zone_names,
)
from doorstep.errors import Forbidden, InvalidInput, NotFound
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
from doorstep.platform.keys import Keys
from doorstep.platform.types import new_id, utcnow

#: ``ring``: the visitor pressed the doorbell during the clip; the rest are what the detector saw.
ALLOWED_LABELS = frozenset({"motion", "ring", *OBJECT_LABELS})


@dataclass(frozen=True, slots=True)
class ClipMeta:
    """Event metadata the agent sends with a clip."""

    started_at: datetime
    ended_at: datetime
    peak_motion: float
    labels: Sequence[str]
    #: The agent's id of the event the clip belongs to, and which segment of it (0 first).
    event_id: str | None = None
    segment: int = 0
    #: What was seen on the snapshot, as agents report it (``clips.rules_objects``).
    objects: Sequence[Mapping[str, object]] = field(default=())


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
    check_objects(list(meta.objects), zone_names=None)


def retention_days(camera: Camera, kind: str) -> int:
    """How long the camera keeps a clip of ``kind``."""
    return kind_days(
        kind,
        retention_days=camera.retention_days,
        detection_days=camera.detection_retention_days,
        motion_days=camera.motion_retention_days,
    )


def set_kind(clip: Clip, camera: Camera, kind: str) -> None:
    """Make ``clip`` of ``kind``, kept as long as the camera keeps that kind from its start."""
    clip.kind = kind
    clip.expires_at = expires_at(clip.started_at, retention_days(camera, kind))


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
    labels = sorted(set(kept_labels(meta.labels, camera.object_rules)))
    # Whether its event alerts is decided once it is stored (``service_events``).
    kind = clip_kind(labels, alerted=False)
    clip = Clip(
        id=new_id(),
        camera_id=camera.id,
        owner_id=camera.owner_id,
        started_at=meta.started_at,
        ended_at=meta.ended_at,
        peak_motion=meta.peak_motion,
        labels=labels,
        # An end-to-end clip keeps only its labels: where and how long anyone stood is not
        # the server's to know when the footage itself is not.
        objects=[] if e2e else _kept_objects(camera, meta),
        kind=kind,
        content_sha256=sha256,
        size=video.stat().st_size,
        width=width,
        height=height,
        has_audio=has_audio,
        e2e=e2e,
        expires_at=expires_at(meta.started_at, retention_days(camera, kind)),
        event_id=meta.event_id,
        segment=meta.segment,
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


def _kept_objects(camera: Camera, meta: ClipMeta) -> list[dict[str, Any]]:
    seen = check_objects(list(meta.objects), zone_names=zone_names(camera.detection_zones))
    return kept_objects(seen, camera.object_rules)


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


def latest_readable_clip(db: Session, viewer: User, camera_id: str) -> Clip | None:
    """The newest clip of ``camera_id`` whose snapshot the server can read, if ``viewer`` may.

    None for a camera ``viewer`` may not view and for an end-to-end camera: its stills are sealed
    with a key only its owner's browser holds, even ones it sent before it was turned on.
    """
    camera = db.get(Camera, camera_id)
    if camera is None or camera.e2e_enabled:
        return None
    if camera.owner_id != viewer.id and not is_household(db, viewer, camera_id):
        return None
    query = (
        select(Clip)
        .where(
            Clip.camera_id == camera_id,
            Clip.e2e.is_(False),
            Clip.snapshot_size > 0,
            Clip.wrapped_key.is_not(None),
            # An expired clip is gone for its owner at once, whenever the sweep shreds it.
            Clip.expires_at > utcnow(),
        )
        .order_by(Clip.started_at.desc())
        .limit(1)
    )
    return db.scalars(query).first()


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


def owner_clips(db: Session, owner_id: str) -> list[Clip]:
    """Every clip the owner has."""
    return list(db.scalars(select(Clip).where(Clip.owner_id == owner_id)))


def find_clip(db: Session, clip_id: str) -> Clip | None:
    """A clip by id, or None."""
    return db.get(Clip, clip_id)


#: Clips whose expiry one statement moves at a time.
_RETENTION_BATCH = 500


def apply_retention(db: Session, camera: Camera, kinds: Iterable[str] = KINDS) -> int:
    """Give the camera's clips of ``kinds`` the expiry their retention sets now; how many moved.

    Only clips not yet expired move: one already past its day waits for the sweep, whatever
    the new setting (raising retention never brings a clip back). Reads ids and times only,
    and writes in batches by id.
    """
    now = utcnow()
    moved = 0
    for kind in sorted(set(kinds)):
        days = retention_days(camera, kind)
        rows = db.execute(
            select(Clip.id, Clip.started_at, Clip.expires_at).where(
                Clip.camera_id == camera.id, Clip.kind == kind, Clip.expires_at > now
            )
        )
        changes = [
            {"id": row.id, "expires_at": new}
            for row in rows
            if (new := expires_at(row.started_at, days)) != row.expires_at
        ]
        for start in range(0, len(changes), _RETENTION_BATCH):
            batch = changes[start : start + _RETENTION_BATCH]
            db.execute(update(Clip), batch)
        _follow_loaded(db, changes)
        moved += len(changes)
    return moved


def _follow_loaded(db: Session, changes: list[dict[str, Any]]) -> None:
    # A bulk update leaves clips this session already holds as they were; tell them.
    by_id = {change["id"]: change["expires_at"] for change in changes}
    for held in list(db.identity_map.values()):
        if isinstance(held, Clip) and held.id in by_id:
            set_committed_value(held, "expires_at", by_id[held.id])


def event_clips(db: Session, camera_id: str, event_id: str) -> list[Clip]:
    """The clips the camera stored of one event, its segments in order."""
    query = select(Clip).where(Clip.camera_id == camera_id, Clip.event_id == event_id)
    return list(db.scalars(query.order_by(Clip.segment)))
