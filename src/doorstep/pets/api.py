"""Lost pets: post and close a notice; owners share one of their own animal clips, or withdraw."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from doorstep.accounts.auth import CurrentUser
from doorstep.geo.cells import Coordinates
from doorstep.neighbors.rules import MAX_PHOTO_BYTES
from doorstep.pets import service
from doorstep.pets.rules import NoticeDraft
from doorstep.pets.schemas import NoticeCreate, NoticePublic, ShareCreate, SharePublic
from doorstep.platform.http import problems
from doorstep.platform.http.deps import DbDep, StateDep
from doorstep.platform.http.middleware import body_limit
from doorstep.platform.ranges import parse_range
from doorstep.requests.rules import draft_area

router = APIRouter(prefix="/api/v1", tags=["pets"])

RangeHeader = Annotated[str | None, Header(alias="range", max_length=100)]


@router.post("/pets", status_code=status.HTTP_201_CREATED, responses=problems.responses(403, 429))
def create_notice(
    body: NoticeCreate, user: CurrentUser, db: DbDep, state: StateDep
) -> NoticePublic:
    """Post a lost-pet notice; owners of cameras in its cells see it, and nothing is searched."""
    centre = Coordinates(body.centre.lat, body.centre.lon) if body.centre else None
    draft = NoticeDraft(
        species=body.species.value,
        name=body.name,
        description=body.description,
        area=draft_area(centre, body.radius_m, body.polygon),
        start=body.window_start,
        end=body.window_end,
    )
    notice = service.post_notice(
        db, state.blobs, user, draft, cell_resolution=state.settings.public_cell_resolution
    )
    return service.notice_public(db, user, notice)


@router.get("/pets")
def list_notices(user: CurrentUser, db: DbDep) -> dict[str, list[NoticePublic]]:
    """The caller's own notices, and open notices of others that reach their cameras."""
    mine, near = service.list_notices(db, user)
    return {"mine": mine, "near": near}


@router.get("/pets/{notice_id}")
def get_notice(notice_id: str, user: CurrentUser, db: DbDep) -> NoticePublic:
    """A notice: for an owner, with their own animal clips in its window; for its poster, shares."""
    return service.get_notice(db, user, notice_id)


@router.put(
    "/pets/{notice_id}/photo",
    openapi_extra=body_limit(MAX_PHOTO_BYTES + 64 * 1024),
    responses=problems.responses(413, 415),
)
async def upload_photo(
    notice_id: str, request: Request, user: CurrentUser, db: DbDep, state: StateDep
) -> NoticePublic:
    """Attach a JPEG, PNG or WebP photo (at most 5 MB) to one's own notice; metadata is removed."""
    data = await request.body()
    # Re-encoding the photo, the blob write and the database all block: off the event loop.
    notice = await run_in_threadpool(service.upload_photo, db, state.blobs, user, notice_id, data)
    return await run_in_threadpool(service.notice_public, db, user, notice)


@router.get("/pets/{notice_id}/photo", responses={200: {"content": {"image/jpeg": {}}}})
def read_photo(notice_id: str, user: CurrentUser, db: DbDep, state: StateDep) -> Response:
    """The notice's photo, as cleaned on upload."""
    data = service.read_photo(db, state.blobs, user, notice_id)
    return Response(data, media_type="image/jpeg", headers={"cache-control": "private"})


@router.post("/pets/{notice_id}/close", responses=problems.responses(409))
def close_notice(notice_id: str, user: CurrentUser, db: DbDep, state: StateDep) -> NoticePublic:
    """Close one's own notice; every copy shared with it is shredded."""
    notice = service.close_notice(db, state.keys, user, notice_id)
    return service.notice_public(db, user, notice)


@router.post(
    "/pets/{notice_id}/shares",
    status_code=status.HTTP_201_CREATED,
    responses=problems.responses(403, 409),
)
def share_clip(
    notice_id: str, body: ShareCreate, user: CurrentUser, db: DbDep, state: StateDep
) -> SharePublic:
    """Share one of one's own animal clips in the window with the poster, faces redacted."""
    share = service.share_clip(db, state.keys, user, notice_id, body.clip_id)
    return service.share_public(db, user, share)


@router.delete("/pets/{notice_id}/shares/{share_id}", responses=problems.responses(409))
def withdraw_share(
    notice_id: str, share_id: str, user: CurrentUser, db: DbDep, state: StateDep
) -> SharePublic:
    """Withdraw one's share: its copy is shredded and the poster can no longer watch it."""
    share = service.withdraw_share(db, state.keys, user, notice_id, share_id)
    return service.share_public(db, user, share)


@router.get(
    "/pets/{notice_id}/shares/{share_id}/video",
    response_class=StreamingResponse,
    responses={200: {"content": {"video/mp4": {}}}, 206: {"content": {"video/mp4": {}}}},
)
def watch_share(
    notice_id: str,
    share_id: str,
    user: CurrentUser,
    db: DbDep,
    state: StateDep,
    range_header: RangeHeader = None,
) -> StreamingResponse:
    """A copy shared with the caller's open notice (faces redacted)."""
    share = service.shared_copy(db, user, notice_id, share_id)
    bounds = parse_range(range_header, share.size, what="the clip")
    start, end = bounds or (0, share.size - 1)
    headers = {
        "accept-ranges": "bytes",
        "content-length": str(end - start + 1),
        "cache-control": "private, no-store",
    }
    if bounds is not None:
        headers["content-range"] = f"bytes {start}-{end}/{share.size}"
    return StreamingResponse(
        service.read_copy(state.keys, share, start, end),
        status_code=status.HTTP_206_PARTIAL_CONTENT if bounds else status.HTTP_200_OK,
        media_type="video/mp4",
        headers=headers,
    )
