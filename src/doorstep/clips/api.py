"""An owner's clips: timeline, playback with Range, snapshot, download, deletion."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime

from doorstep.accounts.auth import ClipReader, ClipWriter
from doorstep.clips import service
from doorstep.clips.schemas import MAX_PAGE, ClipDelete, ClipPage, ClipPublic, Deleted
from doorstep.errors import InvalidInput
from doorstep.platform.http import problems
from doorstep.platform.http.deps import DbDep, StateDep, read_in_one_hop

router = APIRouter(prefix="/api/v1/clips", tags=["clips"])


@router.get("", response_model=ClipPage, responses=problems.responses(*problems.ONE_HOP_READ))
async def timeline(
    request: Request,
    camera_id: Annotated[str | None, Query(max_length=32)] = None,
    label: Annotated[
        str | None, Query(pattern="^(person|vehicle|bicycle|animal|ring|motion)$")
    ] = None,
    zone: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    kind: Annotated[str | None, Query(pattern="^(alert|detection|motion)$")] = None,
    visits: bool = False,
    since: AwareDatetime | None = None,
    before: AwareDatetime | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> Response:
    """The caller's clips across cameras, newest first, filtered by camera, label and time.

    ``label=motion`` is motion without a person; ``zone`` keeps clips with an object that
    entered that named zone; ``kind`` alerts, detections or motion. With ``visits=true`` the
    clips of one camera that overlap or follow within 30 s are one entry (a visit).
    """
    page = partial(
        service.caller_timeline,
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
    # Every resident's home screen asks for this: one thread hop for all of it.
    return await read_in_one_hop(request, ClipPage, page)


@router.get("/{clip_id}")
def get_clip(clip_id: str, principal: ClipReader, db: DbDep) -> ClipPublic:
    """One clip."""
    return service.get_clip(db, principal.user, clip_id)


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
    span = service.open_video(
        db, state.keys, principal.user, clip_id, range_header, download=download
    )
    headers = {
        "accept-ranges": "bytes",
        "content-length": str(span.end - span.start + 1),
        "cache-control": "private, no-store",
    }
    if download:
        headers["content-disposition"] = f'attachment; filename="doorstep-{span.clip_id}.mp4"'
    if span.partial:
        headers["content-range"] = f"bytes {span.start}-{span.end}/{span.size}"
    return StreamingResponse(
        span.body,
        status_code=status.HTTP_206_PARTIAL_CONTENT if span.partial else status.HTTP_200_OK,
        media_type="video/mp4",
        headers=headers,
    )


@router.get("/{clip_id}/snapshot", responses={200: {"content": {"image/jpeg": {}}}})
def snapshot(clip_id: str, principal: ClipReader, db: DbDep, state: StateDep) -> Response:
    """The clip's JPEG snapshot; a household member's look at it is audited like the video."""
    data = service.snapshot(db, state.keys, principal.user, clip_id)
    return Response(data, media_type="image/jpeg", headers={"cache-control": "private, no-store"})


@router.delete("/{clip_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_clip(clip_id: str, principal: ClipWriter, db: DbDep, state: StateDep) -> Response:
    """Delete a clip for good: its key is destroyed."""
    service.delete_clip(db, state.keys, principal.user, clip_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/delete", responses=problems.responses(404))
def delete_clips(body: ClipDelete, principal: ClipWriter, db: DbDep, state: StateDep) -> Deleted:
    """Delete a selection of clips, or every clip with ``all``."""
    if body.all == bool(body.ids):
        raise InvalidInput("give either ids or all=true", field="ids")
    chosen = None if body.all else body.ids
    return Deleted(deleted=service.delete_clips(db, state.keys, principal.user, chosen))
