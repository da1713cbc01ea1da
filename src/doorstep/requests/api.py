"""Requests for Assistance: post, close, public pages; owners' answers; the evidence locker."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, status
from fastapi.responses import PlainTextResponse, StreamingResponse

from doorstep.accounts.auth import CurrentUser
from doorstep.geo.cells import Coordinates
from doorstep.platform import ranges as served
from doorstep.platform.http import footage, problems
from doorstep.platform.http.deps import DbDep, StateDep
from doorstep.platform.ranges import parse_range
from doorstep.requests import service
from doorstep.requests import service_standing as standing
from doorstep.requests.models import EvidenceAction
from doorstep.requests.rules import RfaDraft, draft_area
from doorstep.requests.schemas import (
    AnswerCreate,
    EvidencePublic,
    HashRecord,
    InboxItem,
    InboxRequest,
    RfaCreate,
    RfaPublic,
    SharePrivate,
    StandingCreate,
    StandingPublic,
)

router = APIRouter(prefix="/api/v1", tags=["requests"])

RangeHeader = Annotated[str | None, Header(alias="range", max_length=100)]


# --- posting -------------------------------------------------------------------------------------


@router.post("/requests", status_code=status.HTTP_201_CREATED)
def create_request(body: RfaCreate, user: CurrentUser, db: DbDep, state: StateDep) -> RfaPublic:
    """Send a Request for Assistance; refused with the reason when it breaks the policy (I10)."""
    centre = Coordinates(body.centre.lat, body.centre.lon) if body.centre else None
    draft = RfaDraft(
        case_number=body.case_number,
        incident_type=body.incident_type,
        description=body.description,
        area=draft_area(centre, body.radius_m, body.polygon),
        start=body.window_start,
        end=body.window_end,
        offence_category=body.offence_category,
    )
    rfa = service.post_request(db, state, user, draft)
    return service.public_request(db, rfa, state.settings.camera_map_k)


@router.get("/requests")
def list_requests(db: DbDep, state: StateDep) -> list[RfaPublic]:
    """Every request of every verified agency, newest first (requests are public)."""
    return service.list_requests(db, state.settings.camera_map_k)


@router.get("/requests/{rfa_id}")
def get_request(rfa_id: str, db: DbDep, state: StateDep) -> RfaPublic:
    """One request, with how many owners were asked and how many shared."""
    return service.get_request(db, rfa_id, state.settings.camera_map_k)


@router.post("/requests/{rfa_id}/close", responses=problems.responses(409))
def close(rfa_id: str, user: CurrentUser, db: DbDep, state: StateDep) -> RfaPublic:
    """Close a request early; it stays public, and what was shared stays shared."""
    rfa = service.close_request(db, user, rfa_id)
    return service.public_request(db, rfa, state.settings.camera_map_k)


# --- owners --------------------------------------------------------------------------------------


@router.get("/inbox")
def inbox(user: CurrentUser, db: DbDep, state: StateDep) -> list[InboxItem]:
    """Requests that reached the caller's cameras, newest first."""
    return service.inbox(db, user, state.settings.camera_map_k)


@router.get("/inbox/{rfa_id}")
def inbox_item(rfa_id: str, user: CurrentUser, db: DbDep, state: StateDep) -> InboxRequest:
    """One request: the caller's clips inside its area and window, and what they shared."""
    return service.inbox_request(db, user, rfa_id, state.settings.camera_map_k)


@router.get(
    "/inbox/{rfa_id}/clips/{clip_id}/preview",
    response_class=StreamingResponse,
    responses={200: {"content": {"video/mp4": {}}}, 206: {"content": {"video/mp4": {}}}},
)
def preview(
    rfa_id: str,
    clip_id: str,
    user: CurrentUser,
    db: DbDep,
    state: StateDep,
    range_header: RangeHeader = None,
) -> StreamingResponse:
    """The clip with bystanders' faces blurred, exactly the redaction the agency would get."""
    clip = service.preview_clip(db, user, rfa_id, clip_id)
    copy = service.redacted_preview(db, state.keys, clip)
    bounds = parse_range(range_header, copy.size, what="the clip")
    start, end = bounds or (0, copy.size - 1)
    headers = {
        "accept-ranges": "bytes",
        "content-length": str(end - start + 1),
        "cache-control": "private, no-store",
    }
    if bounds is not None:
        headers["content-range"] = f"bytes {start}-{end}/{copy.size}"
    return StreamingResponse(
        service.read_preview(state.keys, copy, start, end),
        status_code=status.HTTP_206_PARTIAL_CONTENT if bounds else status.HTTP_200_OK,
        media_type="video/mp4",
        headers=headers,
    )


@router.post("/inbox/{rfa_id}/answer", responses=problems.responses(409))
def answer(
    rfa_id: str, body: AnswerCreate, user: CurrentUser, db: DbDep, state: StateDep
) -> InboxRequest:
    """Share the chosen clips (redacted, named or anonymously) or decline."""
    service.answer_request(
        db,
        state,
        user,
        rfa_id,
        share=body.decision == "share",
        clip_ids=body.clip_ids,
        anonymous=body.anonymous,
    )
    return service.inbox_request(db, user, rfa_id, state.settings.camera_map_k)


@router.get("/disclosures")
def disclosures(user: CurrentUser, db: DbDep) -> list[SharePrivate]:
    """Everything the caller ever shared, with every view and download by an agency (I5)."""
    return service.disclosures(db, user)


@router.post("/shares/{share_id}/revoke", responses=problems.responses(409))
def revoke(share_id: str, user: CurrentUser, db: DbDep, state: StateDep) -> SharePrivate:
    """Withdraw a share until the agency has downloaded it."""
    return service.share_private(db, service.revoke_share(db, state, user, share_id))


@router.post(
    "/inbox/{rfa_id}/standing",
    status_code=status.HTTP_201_CREATED,
    responses=problems.responses(409),
)
def grant_standing(
    rfa_id: str, body: StandingCreate, user: CurrentUser, db: DbDep
) -> StandingPublic:
    """Give the request's case the camera's clips recorded from now on, never any from before."""
    grant = standing.grant_standing(
        db, user, rfa_id, body.camera_id, days=body.days, anonymous=body.anonymous
    )
    return standing.standing_public(grant)


@router.get("/inbox/{rfa_id}/standing")
def list_standing(rfa_id: str, user: CurrentUser, db: DbDep) -> list[StandingPublic]:
    """The caller's standing access for one request."""
    return standing.standing_grants(db, user, rfa_id)


@router.post("/standing/{grant_id}/revoke", responses=problems.responses(409))
def revoke_standing(grant_id: str, user: CurrentUser, db: DbDep) -> StandingPublic:
    """Stop standing access now; what it already shared stays revocable one share at a time."""
    return standing.standing_public(standing.revoke_standing(db, user, grant_id))


# --- the evidence locker -------------------------------------------------------------------------


@router.get("/evidence")
def locker(user: CurrentUser, db: DbDep) -> list[EvidencePublic]:
    """The agency's evidence locker: shares it may open, and withdrawn ones, newest first."""
    _agency, items = service.locker(db, user)
    return items


def _download_url(share_id: str) -> str:
    return f"/api/v1/evidence/{share_id}/download"


@router.get(
    "/evidence/{share_id}/video",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"video/mp4": {}}},
        206: {"content": {"video/mp4": {}}},
        **problems.responses(405, 410),
    },
)
def evidence_video(
    share_id: str,
    request: Request,
    user: CurrentUser,
    db: DbDep,
    state: StateDep,
    range_header: RangeHeader = None,
    download: bool = False,
) -> StreamingResponse:
    """Play a shared clip (redacted, watermarked) by byte ranges; every range is recorded.

    A range is answered with at most ``PLAYBACK_CHUNK`` bytes. Ranges that add up to the whole
    file are a download. To download, POST to ``download_url``: a GET never does.
    """
    footage.refuse_download_by_get(download, _download_url(share_id))
    footage.refuse_cross_site(request)
    size = service.evidence_size(db, user, share_id)
    bounds = parse_range(range_header, size, what="the clip")
    span = served.playback_span(bounds, size)
    share, span = service.open_evidence(db, state, user, share_id, EvidenceAction.VIEW, span)
    return footage.copy_response(
        service.read_agency_copy(state.keys, share, *span),
        span,
        share.size,
        ranged=bounds is not None,
        sha256=share.sha256,
    )


@router.post(
    "/evidence/{share_id}/download",
    response_class=StreamingResponse,
    responses={200: {"content": {"video/mp4": {}}}, **problems.responses(410)},
)
def evidence_download(
    share_id: str, user: CurrentUser, db: DbDep, state: StateDep
) -> StreamingResponse:
    """Download a shared clip whole: recorded, told to the owner, no longer revocable by them."""
    share, span = service.open_evidence(db, state, user, share_id, EvidenceAction.DOWNLOAD)
    return footage.copy_response(
        service.read_agency_copy(state.keys, share, *span),
        span,
        share.size,
        ranged=False,
        sha256=share.sha256,
        filename=f"doorstep-share-{share.id}.mp4",
    )


@router.get(
    "/evidence/provenance-ca",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}}},
)
def evidence_provenance_ca(state: StateDep) -> PlainTextResponse:
    """The operator's root certificate (PEM): agency copies' C2PA signatures chain to it."""
    return PlainTextResponse(service.operator_root(state.keys))


@router.get("/evidence/hash/{sha256}")
def evidence_hash(sha256: str, db: DbDep) -> HashRecord:
    """Is this SHA-256 a file Doorstep delivered? For which agency and case, shared when."""
    return service.evidence_hash(db, sha256)
