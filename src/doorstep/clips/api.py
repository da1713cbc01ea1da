"""An owner's clips: timeline, playback with Range, snapshot, download, deletion."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import Row, Select, and_, bindparam, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from doorstep.accounts.models import User
from doorstep.accounts.schemas import Strict
from doorstep.cameras.models import Camera
from doorstep.clips import store as clip_store
from doorstep.clips.models import Clip
from doorstep.clips.store import viewable_cameras_param
from doorstep.errors import InvalidInput, RangeNotSatisfiable
from doorstep.platform.http import problems
from doorstep.platform.http.deps import (
    ClipReader,
    ClipWriter,
    DbDep,
    Principal,
    StateDep,
    read_in_one_hop,
)
from doorstep.platform.http.state import AppState
from doorstep.platform.types import decode_cursor, encode_cursor
from doorstep.transparency import audit_store as audit

router = APIRouter(prefix="/api/v1/clips", tags=["clips"])

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
MAX_PAGE = 200


class ClipPublic(BaseModel):
    """A clip as its owner sees it in the timeline."""

    id: str
    camera_id: str
    camera_name: str
    started_at: datetime
    ended_at: datetime
    duration_seconds: float
    labels: list[str]
    peak_motion: float
    size: int
    width: int
    height: int
    has_audio: bool
    expires_at: datetime
    video_url: str
    snapshot_url: str


class ClipPage(BaseModel):
    """A page of the timeline, newest first; pass ``next_cursor`` as ``cursor`` for more."""

    clips: list[ClipPublic]
    next_cursor: str | None = Field(
        description="Where this page ended; null when there is nothing further back. A page "
        "with a label filter may hold fewer clips than asked for and still have a next one."
    )


class ClipDelete(Strict):
    """Delete a selection of clips, or all of them."""

    ids: Annotated[list[str], Field(max_length=1000)] = []
    all: bool = False


class Deleted(BaseModel):
    """How many clips were shredded."""

    deleted: int


def record_access(
    db: Session,
    state: AppState,
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
            state.master_key,
            action,
            actor=user,
            owner_id=clip.owner_id,
            # Pseudonyms scoped to this clip and no camera id: nothing links the entry to the
            # owner's (or the member's) other entries.
            scope=clip.id,
            detail=detail,
        )


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
    Camera.name.label("camera_name"),
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
        .where(Clip.camera_id.in_(viewable_cameras_param()))
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


def _label_test(label: str | None) -> Callable[[Any], bool]:
    if label == "person":
        return lambda row: "person" in row.labels
    if label == "motion":
        return lambda row: "person" not in row.labels
    return lambda _row: True


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
) -> tuple[list[Row[Any]], str | None]:
    """Up to ``limit`` timeline rows after ``cursor``, and the cursor of the next page.

    Labels are a short JSON list, filtered here (the query is the same on every database): a
    label filter reads batches of rows until the page is full, the clips run out, or it has read
    ``LABEL_ROUNDS`` batches; the cursor is the last row read, so the next page goes on from
    there and no clip is ever passed over.
    """
    after = decode_cursor(cursor, what="timeline") if cursor else None
    wanted = _label_test(label)
    fetch = limit * 4 if label else limit + 1
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
    )


@router.get("", response_model=ClipPage, responses=problems.responses(*problems.ONE_HOP_READ))
async def timeline(
    request: Request,
    camera_id: Annotated[str | None, Query(max_length=32)] = None,
    label: Annotated[str | None, Query(pattern="^(person|motion)$")] = None,
    since: AwareDatetime | None = None,
    before: AwareDatetime | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> Response:
    """The caller's clips across cameras, newest first, filtered by camera, label and time."""

    def page(db: Session, principal: Principal) -> ClipPage:
        principal.require_scope("clips:read")
        rows, next_cursor = read_timeline(
            db,
            principal.user.id,
            camera_id=camera_id,
            label=label,
            since=since,
            before=before,
            cursor=cursor,
            limit=limit,
        )
        return ClipPage(
            clips=[clip_public(row, row.camera_name) for row in rows], next_cursor=next_cursor
        )

    # Every resident's home screen asks for this: one thread hop for all of it.
    return await read_in_one_hop(request, ClipPage, page)


@router.get("/{clip_id}")
def get_clip(clip_id: str, principal: ClipReader, db: DbDep) -> ClipPublic:
    """One clip."""
    clip = clip_store.clip_for_viewer(db, principal.user, clip_id)
    return clip_public(clip, clip.camera.name)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """Parse a single-range ``Range`` header into inclusive bounds; None means the whole clip."""
    if header is None:
        return None
    match = _RANGE.match(header.strip())
    if match is None or (not match.group(1) and not match.group(2)):
        raise RangeNotSatisfiable("use one range like 'bytes=0-1023'", extra={"size": size})
    first, last = match.group(1), match.group(2)
    if not first:
        start, end = max(size - int(last), 0), size - 1
    else:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    if size == 0 or start > end or start >= size:
        raise RangeNotSatisfiable(f"the clip has {size} bytes", extra={"size": size})
    return start, end


@router.get(
    "/{clip_id}/video",
    response_class=StreamingResponse,
    responses={200: {"content": {"video/mp4": {}}}, 206: {"content": {"video/mp4": {}}}},
)
def video(
    clip_id: str,
    principal: ClipReader,
    db: DbDep,
    state: StateDep,
    range_header: Annotated[str | None, Header(alias="range", max_length=100)] = None,
    download: bool = False,
) -> StreamingResponse:
    """The clip's MP4, decrypted on the fly; Range requests decrypt only what they ask for.

    Every request by a household member, whatever its range, is an audit entry the owner sees.
    """
    clip = clip_store.clip_for_viewer(db, principal.user, clip_id)
    bounds = parse_range(range_header, clip.size)
    start, end = bounds or (0, clip.size - 1)
    action = "clip.download" if download else "clip.view"
    record_access(db, state, principal.user, clip, action, (start, end))
    headers = {
        "accept-ranges": "bytes",
        "content-length": str(end - start + 1),
        "cache-control": "private, no-store",
    }
    if download:
        headers["content-disposition"] = f'attachment; filename="doorstep-{clip.id}.mp4"'
    if bounds is not None:
        headers["content-range"] = f"bytes {start}-{end}/{clip.size}"
    body = clip_store.read_range(db, state.keys, clip, start, end)
    return StreamingResponse(
        body,
        status_code=status.HTTP_206_PARTIAL_CONTENT if bounds else status.HTTP_200_OK,
        media_type="video/mp4",
        headers=headers,
    )


@router.get("/{clip_id}/snapshot", responses={200: {"content": {"image/jpeg": {}}}})
def snapshot(clip_id: str, principal: ClipReader, db: DbDep, state: StateDep) -> Response:
    """The clip's JPEG snapshot; a household member's look at it is audited like the video."""
    clip = clip_store.clip_for_viewer(db, principal.user, clip_id)
    data = clip_store.read_snapshot(db, state.keys, clip)
    record_access(db, state, principal.user, clip, "clip.snapshot")
    return Response(data, media_type="image/jpeg", headers={"cache-control": "private, no-store"})


@router.delete("/{clip_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_clip(clip_id: str, principal: ClipWriter, db: DbDep, state: StateDep) -> Response:
    """Delete a clip for good: its key is destroyed."""
    clip_store.shred(db, state.keys, clip_store.clip_for_owner(db, principal.user, clip_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/delete", responses=problems.responses(404))
def delete_clips(body: ClipDelete, principal: ClipWriter, db: DbDep, state: StateDep) -> Deleted:
    """Delete a selection of clips, or every clip with ``all``."""
    if body.all == bool(body.ids):
        raise InvalidInput("give either ids or all=true", field="ids")
    if body.all:
        chosen = list(db.scalars(select(Clip).where(Clip.owner_id == principal.user.id)))
    else:
        chosen = [clip_store.clip_for_owner(db, principal.user, clip_id) for clip_id in body.ids]
    for clip in chosen:
        clip_store.shred(db, state.keys, clip)
    return Deleted(deleted=len(chosen))
