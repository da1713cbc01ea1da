"""The timeline's queries: a page of clips across the cameras a viewer may see, newest first."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Row, Select, and_, bindparam, exists, or_, select, tuple_
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import BindParameter

from doorstep.cameras.models import Camera
from doorstep.cameras.rules import OBJECT_LABELS
from doorstep.clips.models import Clip
from doorstep.clips.rules_objects import in_zone
from doorstep.clips.store import viewable_cameras_param
from doorstep.platform.types import decode_cursor, encode_cursor


class ClipFields(Protocol):
    """What the timeline shows of a clip: a stored clip has it, and so does a timeline row."""

    id: str
    camera_id: str
    started_at: datetime
    ended_at: datetime
    labels: list[str]
    peak_motion: float
    size: int
    width: int
    height: int
    has_audio: bool
    expires_at: datetime
    event_id: str | None
    segment: int
    kind: str
    objects: list[Any]
    e2e: bool


#: The columns a timeline row holds (with the camera's name), so a page loads no whole clips.
TIMELINE_COLUMNS = (
    Clip.id,
    Clip.camera_id,
    Clip.started_at,
    Clip.ended_at,
    Clip.labels,
    Clip.peak_motion,
    Clip.size,
    Clip.width,
    Clip.height,
    Clip.has_audio,
    Clip.expires_at,
    Clip.event_id,
    Clip.segment,
    Clip.kind,
    Clip.objects,
    Clip.e2e,
    Camera.name.label("camera_name"),
)

_Earlier = aliased(Clip)
#: A long event's segments show as one entry, at its first segment the camera still has.
_FIRST_OF_ITS_EVENT = ~exists().where(
    _Earlier.camera_id == Clip.camera_id,
    _Earlier.event_id == Clip.event_id,
    _Earlier.segment < Clip.segment,
)


#: A label filter works on the rows read, so a page reads up to this many batches of rows to
#: fill itself; past that it ends early, with a cursor to go on from where the reading stopped.
LABEL_ROUNDS = 5


# Built once per combination of filters and run with parameters: building a select costs more
# CPU than the database takes to answer it.
@functools.lru_cache(maxsize=16)
def _timeline_query(
    by_camera: bool, since: bool, before: bool, after_cursor: bool
) -> Select[*tuple[Any, ...]]:
    query = (
        select(*TIMELINE_COLUMNS)
        .join(Camera, Camera.id == Clip.camera_id)
        .where(Clip.camera_id.in_(viewable_cameras_param()), _FIRST_OF_ITS_EVENT)
    )
    if by_camera:
        query = query.where(Clip.camera_id == bindparam("camera_id"))
    if since:
        query = query.where(Clip.started_at >= bindparam("since"))
    if before:
        query = query.where(Clip.started_at < bindparam("before"))
    if after_cursor:
        # Time, then id: two clips that started at the same instant are both reached.
        at: BindParameter[datetime] = bindparam("cursor_at")
        query = query.where(
            or_(Clip.started_at < at, and_(Clip.started_at == at, Clip.id < bindparam("cursor_id")))
        )
    order = (Clip.started_at.desc(), Clip.id.desc())
    return query.order_by(*order).limit(bindparam("fetch"))


_NOT_MOTION = frozenset((*OBJECT_LABELS, "ring"))


def _label_test(label: str | None) -> Callable[[Any], bool]:
    # "motion" means "other motion": nothing seen and no ring, only movement.
    if label == "motion":
        return lambda row: not _NOT_MOTION.intersection(row.labels)
    if label:
        return lambda row: label in row.labels
    return lambda _row: True


def row_test(
    label: str | None, zone: str | None = None, kind: str | None = None
) -> Callable[[Any], bool]:
    """Whether a clip (or timeline row) passes the filters: a label, a zone entered, a kind."""
    labelled = _label_test(label)

    def wanted(row: Any) -> bool:
        return (
            labelled(row)
            and (not zone or in_zone(row.objects or [], zone))
            and (not kind or row.kind == kind)
        )

    return wanted


def read_timeline(
    db: Session,
    viewer_id: str,
    *,
    camera_id: str | None,
    label: str | None,
    since: datetime | None,
    before: datetime | None,
    cursor: str | None,
    limit: int,
    zone: str | None = None,
    kind: str | None = None,
) -> tuple[list[Row[Any]], str | None]:
    """Up to ``limit`` timeline rows after ``cursor``, and the cursor of the next page.

    Labels are a short JSON list, filtered here (the query is the same on every database): a
    label filter reads batches of rows until the page is full, the clips run out, or it has read
    ``LABEL_ROUNDS`` batches; the cursor is the last row read, so the next page goes on from
    there and no clip is ever passed over.
    """
    after = decode_cursor(cursor, what="timeline") if cursor else None
    wanted = row_test(label, zone, kind)
    filtered = bool(label or zone or kind)
    fetch = limit * 4 if filtered else limit + 1
    params: dict[str, Any] = {"viewer": viewer_id, "camera_id": camera_id, "fetch": fetch}
    params.update(since=since, before=before)
    page: list[Row[Any]] = []
    last: Row[Any] | None = None
    for _ in range(LABEL_ROUNDS):
        if after is not None:
            params.update(cursor_at=after[0], cursor_id=after[1])
        query = _timeline_query(bool(camera_id), since is not None, before is not None, bool(after))
        rows = list(db.execute(query, params))
        for row in rows:
            if len(page) == limit:
                # A full page and a row beyond it: the next page starts after the last one shown.
                return page, encode_cursor(last.started_at, last.id) if last else None
            last = row
            if wanted(row):
                page.append(row)
        if len(rows) < fetch:
            return page, None
        assert last is not None
        after = (last.started_at, last.id)
    # Rounds used up with clips still behind: stop where the reading stopped.
    return page, encode_cursor(last.started_at, last.id) if last else None


#: The most segments of one event the timeline joins (a day of motion at a minute a segment).
MAX_SEGMENTS = 1440


def event_segments(db: Session, events: list[tuple[str, str]]) -> list[Row[Any]]:
    """Every clip of the (camera, event id) pairs, as timeline rows, in segment order."""
    if not events:
        return []
    query = (
        select(*TIMELINE_COLUMNS)
        .join(Camera, Camera.id == Clip.camera_id)
        .where(tuple_(Clip.camera_id, Clip.event_id).in_(events))
        .order_by(Clip.camera_id, Clip.event_id, Clip.segment)
        .limit(MAX_SEGMENTS * len(events))
    )
    return list(db.execute(query))


#: The clips page shows at most this many clips (newest first); the API pages through them all.
PAGE_LIMIT = 400


def recent_clips(
    db: Session,
    camera_ids: list[str],
    *,
    camera_id: str | None,
    since: datetime | None,
    until: datetime | None,
) -> list[Clip]:
    """The newest clips of ``camera_ids``, of one camera and between two times if asked."""
    query = select(Clip).where(Clip.camera_id.in_(camera_ids))
    if camera_id:
        query = query.where(Clip.camera_id == camera_id)
    if since is not None and until is not None:
        query = query.where(Clip.started_at >= since, Clip.started_at < until)
    return list(db.scalars(query.order_by(Clip.started_at.desc()).limit(PAGE_LIMIT)))


def camera_names(db: Session, camera_ids: list[str]) -> dict[str, str]:
    """Each camera's name, by id."""
    return {cam.id: cam.name for cam in db.scalars(select(Camera).where(Camera.id.in_(camera_ids)))}
