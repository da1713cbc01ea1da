"""The clips' use cases: receive an upload, the timeline, playback by range, deletion, expiry.

Routes, pages, jobs and other features call these; only they reach ``clips.store``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from doorstep.accounts.auth import Principal
from doorstep.accounts.models import User
from doorstep.cameras.models import Camera
from doorstep.clips import _store_timeline as timeline_store
from doorstep.clips import store
from doorstep.clips._store_timeline import ClipFields
from doorstep.clips.models import Clip
from doorstep.clips.rules_objects import KINDS
from doorstep.clips.schemas import ClipPage, ClipPublic, ObjectPublic
from doorstep.clips.service_events import clip_alerts as event_alerts
from doorstep.clips.service_visits import Visit, joined, page_visits, timeline_visits
from doorstep.clips.store import ClipMeta
from doorstep.errors import NotFound
from doorstep.platform.blobs import BlobStore
from doorstep.platform.bus.memory import notify_after_commit
from doorstep.platform.http.metrics_commit import count_clip_stored
from doorstep.platform.keys import Keys
from doorstep.platform.ranges import parse_range
from doorstep.transparency import audit_store as audit
from doorstep.transparency import service_receipts as receipts


def clip_public(clip: ClipFields, camera_name: str) -> ClipPublic:
    """The owner's view of a clip."""
    return ClipPublic(
        id=clip.id,
        camera_id=clip.camera_id,
        camera_name=camera_name,
        started_at=clip.started_at,
        ended_at=clip.ended_at,
        duration_seconds=round((clip.ended_at - clip.started_at).total_seconds(), 2),
        labels=list(clip.labels),
        peak_motion=clip.peak_motion,
        size=clip.size,
        width=clip.width,
        height=clip.height,
        has_audio=clip.has_audio,
        expires_at=clip.expires_at,
        video_url=f"/api/v1/clips/{clip.id}/video",
        snapshot_url=f"/api/v1/clips/{clip.id}/snapshot",
        event_id=clip.event_id,
        segment=clip.segment,
        kind=clip.kind,
        objects=[ObjectPublic.model_validate(seen) for seen in clip.objects or []],
    )


def receive_clip(
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
    e2e: bool,
) -> tuple[ClipPublic, bool]:
    """Seal and store an upload and alert the owner's pages once it commits; False if a repeat."""
    clip, created = store.store_clip(
        db,
        keys,
        camera,
        meta,
        video=video,
        snapshot=snapshot,
        width=width,
        height=height,
        has_audio=has_audio,
        e2e=e2e,
    )
    body = clip_public(clip, camera.name)
    if created:
        count_clip_stored(db, clip.size)
        # An event the agent announced at its start has alerted already: its clips do not.
        alert = event_alerts(db, camera, clip)
        body = clip_public(clip, camera.name)
        notify_after_commit(
            db,
            camera.owner_id,
            {"type": "clip", "alert": alert, "clip": body.model_dump(mode="json")},
        )
    return body, created


def record_access(
    db: Session,
    keys: Keys,
    user: User,
    clip: Clip,
    action: str,
    span: tuple[int, int] | None = None,
) -> None:
    """Audit every access to a clip by anyone but its owner: each range, each snapshot."""
    if user.id != clip.owner_id:
        detail = {"clip": clip.id, "as": "household"}
        if span is not None:
            detail["bytes"] = f"{span[0]}-{span[1]}"
        audit.record(
            db,
            keys.master,
            action,
            actor=user,
            owner_id=clip.owner_id,
            # Pseudonyms scoped to this clip and no camera id: nothing links the entry to the
            # owner's (or the member's) other entries.
            scope=clip.id,
            detail=detail,
        )


def timeline(
    db: Session,
    viewer: User,
    *,
    camera_id: str | None,
    label: str | None,
    since: datetime | None,
    before: datetime | None,
    cursor: str | None,
    limit: int,
    zone: str | None = None,
    kind: str | None = None,
    visits: bool = False,
) -> ClipPage:
    """A page of the clips ``viewer`` may see across cameras, newest first.

    With ``visits`` the clips of one visit on the page are one entry (``service_visits``).
    """
    rows, next_cursor = timeline_store.read_timeline(
        db,
        viewer.id,
        camera_id=camera_id,
        label=label,
        since=since,
        before=before,
        cursor=cursor,
        limit=limit,
        zone=zone,
        kind=kind,
    )
    # A long event is one entry: its first segment, with every segment of it joined on.
    named = [(row.camera_id, row.event_id) for row in rows if row.event_id is not None]
    by_event: dict[tuple[str, str | None], list[ClipFields]] = {}
    for segment in timeline_store.event_segments(db, named):
        by_event.setdefault((segment.camera_id, segment.event_id), []).append(segment)
    clips = [
        joined(clip_public(row, row.camera_name), by_event.get((row.camera_id, row.event_id), []))
        for row in rows
    ]
    return ClipPage(clips=timeline_visits(clips) if visits else clips, next_cursor=next_cursor)


def caller_timeline(
    db: Session,
    principal: Principal,
    *,
    camera_id: str | None,
    label: str | None,
    since: datetime | None,
    before: datetime | None,
    cursor: str | None,
    limit: int,
    zone: str | None = None,
    kind: str | None = None,
    visits: bool = False,
) -> ClipPage:
    """``timeline`` for a caller, whose token must hold ``clips:read``."""
    principal.require_scope("clips:read")
    return timeline(
        db,
        principal.user,
        camera_id=camera_id,
        label=label,
        since=since,
        before=before,
        cursor=cursor,
        limit=limit,
        zone=zone,
        kind=kind,
        visits=visits,
    )


@dataclass(frozen=True, slots=True)
class ClipListing:
    """What the clips page shows: the newest clips, grouped in visits, and each camera's name."""

    clips: list[Clip]
    names: dict[str, str]
    visits: list[Visit]


def clip_listing(
    db: Session,
    viewer: User,
    *,
    camera_id: str,
    label: str,
    day: datetime | None,
    zone: str = "",
    kind: str = "",
) -> ClipListing:
    """The newest clips ``viewer`` may see, of one camera, label, zone entered, kind or day."""
    viewable = store.viewable_camera_ids(db, viewer)
    until = day + timedelta(days=1) if day is not None else None
    rows = timeline_store.recent_clips(
        db, viewable, camera_id=camera_id or None, since=day, until=until
    )
    wanted = timeline_store.row_test(label or None, zone.strip() or None, kind or None)
    rows = [clip for clip in rows if wanted(clip)]
    return ClipListing(rows, timeline_store.camera_names(db, viewable), page_visits(rows))


def apply_retention(db: Session, camera: Camera, kinds: Iterable[str] = KINDS) -> int:
    """After the owner changed a retention: unexpired clips of ``kinds`` follow their days.

    A clip already expired stays expired, for the sweep.
    """
    return store.apply_retention(db, camera, kinds)


def viewable_clip(db: Session, viewer: User, clip_id: str) -> Clip:
    """A clip ``viewer`` may see (owner or household member), or NotFound."""
    return store.clip_for_viewer(db, viewer, clip_id)


def get_clip(db: Session, viewer: User, clip_id: str) -> ClipPublic:
    """One clip as the timeline shows it."""
    clip = store.clip_for_viewer(db, viewer, clip_id)
    return clip_public(clip, clip.camera.name)


@dataclass(frozen=True, slots=True)
class VideoSpan:
    """The bytes of a clip's video asked for, decrypted as they are read."""

    clip_id: str
    size: int
    start: int
    end: int
    #: Whether a range was asked for (206) rather than the whole clip (200).
    partial: bool
    body: Iterator[bytes]


def open_video(
    db: Session, keys: Keys, viewer: User, clip_id: str, range_header: str | None, *, download: bool
) -> VideoSpan:
    """The part of the video ``Range`` asks for; a household member's request is audited."""
    clip = store.clip_for_viewer(db, viewer, clip_id)
    bounds = parse_range(range_header, clip.size, what="the clip")
    start, end = bounds or (0, clip.size - 1)
    action = "clip.download" if download else "clip.view"
    record_access(db, keys, viewer, clip, action, (start, end))
    body = store.read_range(db, keys, clip, start, end)
    return VideoSpan(clip.id, clip.size, start, end, bounds is not None, body)


def snapshot(db: Session, keys: Keys, viewer: User, clip_id: str) -> bytes:
    """The clip's JPEG snapshot; a household member's look at it is audited like the video."""
    clip = store.clip_for_viewer(db, viewer, clip_id)
    data = store.read_snapshot(db, keys, clip)
    record_access(db, keys, viewer, clip, "clip.snapshot")
    return data


def latest_still(db: Session, viewer: User, camera_id: str) -> Clip | None:
    """The newest clip of a camera with a snapshot the server can read (none for e2e cameras)."""
    return store.latest_readable_clip(db, viewer, camera_id)


def latest_snapshot(db: Session, keys: Keys, viewer: User, camera_id: str) -> bytes:
    """A camera's newest readable snapshot, audited like any clip's; NotFound when there is none."""
    clip = store.latest_readable_clip(db, viewer, camera_id)
    if clip is None:
        raise NotFound("no snapshot from this camera yet")
    data = store.read_snapshot(db, keys, clip)
    record_access(db, keys, viewer, clip, "clip.snapshot")
    return data


def delete_clip(db: Session, keys: Keys, owner: User, clip_id: str) -> int:
    """Delete one of the owner's clips for good (its key destroyed); returns the receipt's index."""
    store.shred(db, keys, store.clip_for_owner(db, owner, clip_id))
    return receipts.clip_deleted(db, keys.master, owner.id, clip_id)


def delete_clips(db: Session, keys: Keys, owner: User, clip_ids: list[str] | None) -> int:
    """Delete the owner's clips named in ``clip_ids``, or every one with None; returns how many."""
    if clip_ids is None:
        chosen = store.owner_clips(db, owner.id)
    else:
        chosen = [store.clip_for_owner(db, owner, clip_id) for clip_id in clip_ids]
    for clip in chosen:
        clip_id = clip.id
        store.shred(db, keys, clip)
        receipts.clip_deleted(db, keys.master, owner.id, clip_id)
    return len(chosen)


def shred_all(db: Session, keys: Keys, chosen: list[Clip]) -> None:
    """Shred these clips, with every copy made from them (a camera being removed)."""
    for clip in chosen:
        store.shred(db, keys, clip)


def expire_clips(db: Session, keys: Keys) -> int:
    """Shred every clip past its retention, with its copies; returns how many clips."""
    return store.expire(db, keys)


# What other features do with footage: they call these, not ``clips.store``.


def read_video(db: Session, keys: Keys, clip: Clip) -> Iterator[bytes]:
    """The whole clip's video, decrypted piece by piece (for a copy or an export)."""
    return store.read_video(db, keys, clip)


def read_snapshot(db: Session, keys: Keys, clip: Clip) -> bytes:
    """The clip's snapshot, decrypted (for an export)."""
    return store.read_snapshot(db, keys, clip)


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in pieces (the digest of a copy made from a clip)."""
    return store.sha256_file(path)


def shred_owner(db: Session, keys: Keys, owner_id: str) -> int:
    """Destroy an owner's data key, every clip and every copy made from them; returns how many."""
    return store.shred_owner(db, keys, owner_id)


def delete_after_commit(db: Session, blobs: BlobStore, blob_keys: Iterable[str]) -> None:
    """Remove ciphertext once the transaction that destroyed its keys has committed."""
    store.delete_after_commit(db, blobs, blob_keys)


def store_footage(
    db: Session,
    keys: Keys,
    camera: Camera,
    *,
    started_at: datetime,
    ended_at: datetime,
    peak_motion: float,
    labels: list[str],
    video: Path,
    snapshot: bytes,
    width: int,
    height: int,
    has_audio: bool,
    objects: Sequence[Mapping[str, object]] = (),
) -> Clip:
    """Seal and store footage made on the server (the demo's) as an upload is; nobody is alerted."""
    meta = ClipMeta(
        started_at=started_at,
        ended_at=ended_at,
        peak_motion=peak_motion,
        labels=labels,
        objects=objects,
    )
    clip, created = store.store_clip(
        db,
        keys,
        camera,
        meta,
        video=video,
        snapshot=snapshot,
        width=width,
        height=height,
        has_audio=has_audio,
    )
    if created:
        count_clip_stored(db, clip.size)
    return clip


def find_clip(db: Session, clip_id: str) -> Clip | None:
    """A clip by id, whoever may view it, or None."""
    return store.find_clip(db, clip_id)
