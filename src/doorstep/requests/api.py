"""Requests for Assistance: post, close, public pages; owners' answers; the evidence locker."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.accounts.api import HomeLocation, Strict
from doorstep.accounts.models import User
from doorstep.agencies import store as agency_store
from doorstep.agencies.api import RfaPublic, rfa_public
from doorstep.agencies.models import Agency, AgencyStatus
from doorstep.clips import served_store as served_bytes
from doorstep.clips.api import parse_range
from doorstep.clips.models import Clip
from doorstep.clips.store import delete_after_commit
from doorstep.errors import DoorstepError, InvalidInput, NotFound
from doorstep.geo.cells import Coordinates
from doorstep.neighbors import store as feed
from doorstep.platform import ranges as served
from doorstep.platform.bus.memory import notify_after_commit
from doorstep.platform.http import footage, problems
from doorstep.platform.http.deps import CurrentUser, DbDep, StateDep
from doorstep.platform.http.state import AppState
from doorstep.platform.promote import work_key
from doorstep.platform.queue import core as queue
from doorstep.platform.types import new_id, utcnow
from doorstep.requests import consent
from doorstep.requests import jobs as redaction
from doorstep.requests import store as agencies
from doorstep.requests.models import EvidenceAction, Rfa, Share
from doorstep.requests.rules import Circle, Polygon, RfaDraft, parse_geojson
from doorstep.transparency import audit_store as audit

router = APIRouter(prefix="/api/v1", tags=["requests"])

RangeHeader = Annotated[str | None, Header(alias="range", max_length=100)]
ALERT_TEXT_LIMIT = 1900
WITHDRAWN_NOTE = "The footage was deleted by its owner; Doorstep keeps no copy of it."


class EvidenceWithdrawn(DoorstepError):
    """A share whose footage its owner deleted: nothing is left to view or download."""

    status = 410
    slug = "evidence-withdrawn"
    title = "Withdrawn: the footage was deleted"


class RfaCreate(Strict):
    """A request: a circle (centre and radius) or a GeoJSON polygon, and a past time window."""

    case_number: Annotated[str, Field(max_length=60)]
    incident_type: Annotated[str, Field(max_length=80)]
    description: Annotated[str, Field(max_length=4000)]
    centre: HomeLocation | None = None
    radius_m: Annotated[float | None, Field(gt=0, le=20_000)] = None
    polygon: dict[str, Any] | None = Field(None, description="A GeoJSON Polygon ([lon, lat]).")
    window_start: datetime
    window_end: datetime


class AnswerCreate(Strict):
    """An owner's answer: share some clips (named or anonymously), or decline."""

    decision: Literal["share", "decline"]
    clip_ids: Annotated[list[str], Field(max_length=200)] = []
    anonymous: bool = True


class OwnerClip(BaseModel):
    """One of the owner's clips inside a request's area and window."""

    id: str
    camera_name: str
    started_at: datetime
    ended_at: datetime
    preview_url: str


class AccessPublic(BaseModel):
    """A view or download of shared footage, as the owner sees it."""

    action: str
    at: datetime
    agency_name: str


class SharePrivate(BaseModel):
    """A share as its owner sees it: where it went, its state, every access."""

    id: str
    rfa_id: str
    agency_name: str
    case_number: str
    clip_id: str | None
    anonymous: bool
    state: str
    created_at: datetime
    expires_at: datetime
    downloaded_at: datetime | None
    sha256: str
    size: int
    bytes_served: int = Field(
        description="Distinct bytes of the agency's copy that have left Doorstep, over every "
        "view and download; once they are the whole file it counts as downloaded."
    )
    revocable: bool
    accesses: list[AccessPublic]


class InboxItem(BaseModel):
    """A request that reached the owner and where they stand on it."""

    request: RfaPublic
    answer: str
    answered_at: datetime | None


class InboxRequest(BaseModel):
    """A request with the owner's clips inside its area and window, and what they shared."""

    request: RfaPublic
    answer: str
    answered_at: datetime | None
    clips: list[OwnerClip]
    shares: list[SharePrivate]


class EvidencePublic(BaseModel):
    """A shared clip in the agency's locker; anonymous shares carry nothing about the owner.

    A share whose footage was deleted stays listed as ``withdrawn`` until it would have ended,
    with no links: Doorstep keeps no copy of it.
    """

    id: str
    rfa_id: str
    case_number: str
    shared_by: str | None
    anonymous: bool
    clip_started_at: datetime
    clip_ended_at: datetime
    shared_at: datetime
    expires_at: datetime
    state: str
    withdrawn_at: datetime | None
    note: str | None
    sha256: str
    size: int
    faces_blurred: int
    video_url: str | None
    download_url: str | None = Field(
        description="POST here (never GET) to download the whole file; it is recorded, the "
        "owner is told, and the owner can no longer withdraw it."
    )


class HashRecord(BaseModel):
    """What the public record says about a delivered file's SHA-256."""

    sha256: str
    share_id: str
    agency_name: str
    case_number: str
    rfa_id: str
    shared_at: datetime
    size: int


# --- posting -------------------------------------------------------------------------------------


def draft_area(
    centre: Coordinates | None, radius_m: float | None, geometry: dict[str, Any] | None
) -> Circle | Polygon:
    """The request area from a centre and radius, or from a GeoJSON polygon (exactly one)."""
    if geometry is not None and (centre is not None or radius_m is not None):
        raise InvalidInput("give a centre and radius or a polygon, not both", field="area")
    if geometry is not None:
        region = parse_geojson(geometry)
        if len(region.polygons) != 1:
            raise InvalidInput("a request covers one polygon", field="area")
        return region.polygons[0]
    if centre is None or radius_m is None:
        raise InvalidInput("give a centre and a radius in metres, or a polygon", field="area")
    return Circle(centre, radius_m)


def _alert_text(agency: Agency, rfa: Rfa) -> str:
    window = (
        f"{rfa.window_start.strftime('%d %b %Y %H:%M')}–"
        f"{rfa.window_end.strftime('%d %b %Y %H:%M')} UTC"
    )
    text = (
        f"Request for Assistance from {agency.name}, case {rfa.case_number}: "
        f"{rfa.incident_type}. {rfa.description} Footage from {window}. "
    )
    link = f"Details and how to answer: /rfa/{rfa.id}"
    return text[: ALERT_TEXT_LIMIT - len(link)] + link


def post_request(db: Session, state: AppState, author: User, draft: RfaDraft) -> Rfa:
    """Check and store a request, publish it on the feed of its area, and tell owners."""
    agency = agency_store.agency_of(db, author)
    rfa, _checked = agencies.create_rfa(
        db, agency, author, draft, cell_resolution=state.settings.public_cell_resolution
    )
    # The request's cells are already only those inside the jurisdiction (``domain.rfa``): its
    # feed alert, the owners asked and the clips they may share all reach exactly those.
    alert = feed.post_alert(
        db,
        author,
        agency_name=agency.name,
        jurisdiction=agency.jurisdiction,
        text=_alert_text(agency, rfa),
        cells=rfa.cells,
        cell_resolution=state.settings.public_cell_resolution,
    )
    rfa.alert_id = alert.id
    db.flush()
    event = {
        "type": "rfa",
        "request": {
            "id": rfa.id,
            "agency_name": agency.name,
            "incident_type": rfa.incident_type,
            "url": f"/requests/{rfa.id}",
        },
    }
    for owner_id in agencies.ask_owners(db, rfa):
        notify_after_commit(db, owner_id, event)
    return rfa


def public_request(db: Session, rfa: Rfa, k: int) -> RfaPublic:
    """A request with its counts, "asked" withheld below ``k`` (settings' ``camera_map_k``)."""
    return rfa_public(rfa, agencies.rfa_counts(db, [rfa.id])[rfa.id], k)


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
    )
    return public_request(db, post_request(db, state, user, draft), state.settings.camera_map_k)


@router.get("/requests")
def list_requests(db: DbDep, state: StateDep) -> list[RfaPublic]:
    """Every request of every verified agency, newest first (requests are public)."""
    rows = list(db.scalars(select(Rfa).order_by(Rfa.created_at.desc()).limit(500)))
    rows = [rfa for rfa in rows if rfa.agency.status == AgencyStatus.VERIFIED.value]
    counts = agencies.rfa_counts(db, [rfa.id for rfa in rows])
    return [rfa_public(rfa, counts[rfa.id], state.settings.camera_map_k) for rfa in rows]


@router.get("/requests/{rfa_id}")
def get_request(rfa_id: str, db: DbDep, state: StateDep) -> RfaPublic:
    """One request, with how many owners were asked and how many shared."""
    return public_request(db, agencies.get_rfa(db, rfa_id), state.settings.camera_map_k)


def close_request(db: Session, user: User, rfa_id: str) -> Rfa:
    """Close one of the caller's agency's requests early."""
    agency = agency_store.agency_of(db, user)
    rfa = agencies.get_rfa(db, rfa_id)
    if rfa.agency_id != agency.id:
        raise NotFound("no such request among your agency's")
    return agencies.close_rfa(db, rfa)


@router.post("/requests/{rfa_id}/close", responses=problems.responses(409))
def close(rfa_id: str, user: CurrentUser, db: DbDep, state: StateDep) -> RfaPublic:
    """Close a request early; it stays public, and what was shared stays shared."""
    return public_request(db, close_request(db, user, rfa_id), state.settings.camera_map_k)


# --- owners --------------------------------------------------------------------------------------


def _owner_clip(rfa: Rfa, clip: Clip, names: dict[str, str]) -> OwnerClip:
    return OwnerClip(
        id=clip.id,
        camera_name=names.get(clip.camera_id, "camera"),
        started_at=clip.started_at,
        ended_at=clip.ended_at,
        preview_url=f"/api/v1/inbox/{rfa.id}/clips/{clip.id}/preview",
    )


def share_private(db: Session, share: Share) -> SharePrivate:
    """The owner's view of one share with every access to it."""
    accesses = agencies.accesses_for(db, [share.id])[share.id]
    served_now = served_bytes.bytes_served_for_shares(db, [share.id])[share.id]
    current = agencies.share_state(share)
    shown = "preparing" if agencies.is_preparing(share) else current.value
    return SharePrivate(
        id=share.id,
        rfa_id=share.rfa_id,
        agency_name=share.rfa.agency.name,
        case_number=share.rfa.case_number,
        clip_id=share.clip_id,
        anonymous=share.anonymous,
        state=shown,
        created_at=share.created_at,
        expires_at=share.expires_at,
        downloaded_at=share.downloaded_at,
        sha256=share.sha256,
        size=share.size,
        bytes_served=served_now,
        revocable=current is consent.ShareState.ACTIVE,
        accesses=[
            AccessPublic(action=a.action, at=a.at, agency_name=share.rfa.agency.name)
            for a in accesses
        ],
    )


def answer_request(
    db: Session,
    state: AppState,
    owner: User,
    rfa_id: str,
    *,
    share: bool,
    clip_ids: list[str],
    anonymous: bool,
) -> list[Share]:
    """Decline, or share the chosen clips as redacted, watermarked copies (I2, I4)."""
    # The copies are made by the app's job queue after the commit, not with this state.
    del state
    row = agencies.recipient(db, owner, rfa_id)
    rfa = row.rfa
    if not share:
        agencies.decline(db, row)
        return []
    if not clip_ids:
        raise InvalidInput("choose at least one clip to share, or decline", field="clip_ids")
    allowed = {clip.id: clip for clip in agencies.clips_in_request(db, owner, rfa)}
    chosen = []
    for clip_id in dict.fromkeys(clip_ids):
        if clip_id not in allowed:
            raise NotFound("that clip is not one of yours inside this request", field="clip_ids")
        chosen.append(allowed[clip_id])
    answer = agencies.mark_shared(db, row)
    now = utcnow()
    shares = []
    for clip in chosen:
        opened = consent.open_share(answer, new_id(), now)
        item = Share(
            id=opened.share_id,
            rfa_id=rfa.id,
            owner_id=owner.id,
            clip_id=clip.id,
            anonymous=anonymous,
            owner_name=None if anonymous else owner.display_name,
            clip_started_at=clip.started_at,
            clip_ended_at=clip.ended_at,
            sha256="",
            size=0,
            ciphertext_size=0,
            state=opened.state.value,
            created_at=opened.created_at,
            expires_at=opened.expires_at,
        )
        db.add(item)
        db.flush()
        # The copy is made by a background job once this commit lands; the share is
        # "preparing" (open, with no key) until then, and the job writes its audit entry.
        queue.send_after_commit(db, queue.SHARE_PREPARE, item.id)
        shares.append(item)
    return shares


def revoke_share(db: Session, state: AppState, owner: User, share_id: str) -> Share:
    """Withdraw a share before the agency downloads it; its copy is shredded."""
    share = agencies.revoke(db, agencies.owner_share(db, owner, share_id))
    delete_after_commit(db, state.keys.blobs, [share.blob_key, work_key(share.blob_key)])
    audit.record(
        db,
        state.master_key,
        "share.revoke",
        actor=owner,
        owner_id=owner.id,
        # No share id and a pseudonym for this request only: the public log cannot link this
        # share to the same owner's shares with other requests (the owner sees it in /disclosures).
        scope=share.rfa_id,
        detail={"request": share.rfa_id, "agency": share.rfa.agency.name},
    )
    return share


def inbox_request(db: Session, owner: User, rfa_id: str, k: int) -> InboxRequest:
    """One request in the owner's inbox with their clips and shares."""
    row = agencies.recipient(db, owner, rfa_id)
    rfa = row.rfa
    names = {camera.id: camera.name for camera in owner.cameras}
    shares = [s for s in agencies.owner_shares(db, owner) if s.rfa_id == rfa.id]
    return InboxRequest(
        request=public_request(db, rfa, k),
        answer=agencies.answer_state(row).value,
        answered_at=row.answered_at,
        clips=[_owner_clip(rfa, c, names) for c in agencies.clips_in_request(db, owner, rfa)],
        shares=[share_private(db, s) for s in shares],
    )


@router.get("/inbox")
def inbox(user: CurrentUser, db: DbDep, state: StateDep) -> list[InboxItem]:
    """Requests that reached the caller's cameras, newest first."""
    rows = agencies.owner_requests(db, user)
    counts = agencies.rfa_counts(db, [row.rfa_id for row in rows])
    return [
        InboxItem(
            request=rfa_public(row.rfa, counts[row.rfa_id], state.settings.camera_map_k),
            answer=agencies.answer_state(row).value,
            answered_at=row.answered_at,
        )
        for row in rows
    ]


@router.get("/inbox/{rfa_id}")
def inbox_item(rfa_id: str, user: CurrentUser, db: DbDep, state: StateDep) -> InboxRequest:
    """One request: the caller's clips inside its area and window, and what they shared."""
    return inbox_request(db, user, rfa_id, state.settings.camera_map_k)


def preview_clip(db: Session, owner: User, rfa_id: str, clip_id: str) -> Clip:
    """One of the owner's clips inside a request, for previewing."""
    rfa = agencies.recipient(db, owner, rfa_id).rfa
    for clip in agencies.clips_in_request(db, owner, rfa):
        if clip.id == clip_id:
            return clip
    raise NotFound("no such clip inside this request")


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
    clip = preview_clip(db, user, rfa_id, clip_id)
    copy = redaction.redacted_preview(db, state.keys, clip)
    bounds = parse_range(range_header, copy.size)
    start, end = bounds or (0, copy.size - 1)
    headers = {
        "accept-ranges": "bytes",
        "content-length": str(end - start + 1),
        "cache-control": "private, no-store",
    }
    if bounds is not None:
        headers["content-range"] = f"bytes {start}-{end}/{copy.size}"
    return StreamingResponse(
        redaction.read_preview(state.keys, copy, start, end),
        status_code=status.HTTP_206_PARTIAL_CONTENT if bounds else status.HTTP_200_OK,
        media_type="video/mp4",
        headers=headers,
    )


@router.post("/inbox/{rfa_id}/answer", responses=problems.responses(409))
def answer(
    rfa_id: str, body: AnswerCreate, user: CurrentUser, db: DbDep, state: StateDep
) -> InboxRequest:
    """Share the chosen clips (redacted, named or anonymously) or decline."""
    answer_request(
        db,
        state,
        user,
        rfa_id,
        share=body.decision == "share",
        clip_ids=body.clip_ids,
        anonymous=body.anonymous,
    )
    return inbox_request(db, user, rfa_id, state.settings.camera_map_k)


@router.get("/disclosures")
def disclosures(user: CurrentUser, db: DbDep) -> list[SharePrivate]:
    """Everything the caller ever shared, with every view and download by an agency (I5)."""
    return [share_private(db, share) for share in agencies.owner_shares(db, user)]


@router.post("/shares/{share_id}/revoke", responses=problems.responses(409))
def revoke(share_id: str, user: CurrentUser, db: DbDep, state: StateDep) -> SharePrivate:
    """Withdraw a share until the agency has downloaded it."""
    return share_private(db, revoke_share(db, state, user, share_id))


# --- the evidence locker -------------------------------------------------------------------------


def evidence_public(share: Share) -> EvidencePublic:
    """A share as the agency sees it: no owner, camera or position, and a name only if given."""
    withdrawn = share.state == consent.ShareState.WITHDRAWN.value
    video_url = None if withdrawn else f"/api/v1/evidence/{share.id}/video"
    return EvidencePublic(
        id=share.id,
        rfa_id=share.rfa_id,
        case_number=share.rfa.case_number,
        shared_by=None if share.anonymous else share.owner_name,
        anonymous=share.anonymous,
        clip_started_at=share.clip_started_at,
        clip_ended_at=share.clip_ended_at,
        shared_at=share.created_at,
        expires_at=share.expires_at,
        state=agencies.share_state(share).value,
        withdrawn_at=share.changed_at if withdrawn else None,
        note=WITHDRAWN_NOTE if withdrawn else None,
        sha256=share.sha256,
        size=share.size,
        faces_blurred=share.faces_found,
        video_url=video_url,
        download_url=None if withdrawn else f"/api/v1/evidence/{share.id}/download",
    )


def evidence_shares(db: Session, agency: Agency) -> list[Share]:
    """The locker: shares the agency may open now, and those withdrawn since, newest first.

    A withdrawn share is listed only if its copy was ever ready (the agency could have seen it)
    and only until it would have ended.
    """
    withdrawn = (
        select(Share)
        .join(Rfa, Rfa.id == Share.rfa_id)
        .where(
            Rfa.agency_id == agency.id,
            Share.state == consent.ShareState.WITHDRAWN.value,
            Share.sha256 != "",
            Share.expires_at > utcnow(),
        )
    )
    rows = [*agencies.locker(db, agency), *db.scalars(withdrawn)]
    return sorted(rows, key=lambda share: share.created_at, reverse=True)


@router.get("/evidence")
def locker(user: CurrentUser, db: DbDep) -> list[EvidencePublic]:
    """The agency's evidence locker: shares it may open, and withdrawn ones, newest first."""
    agency = agency_store.agency_of(db, user)
    return [evidence_public(share) for share in evidence_shares(db, agency)]


def refuse_withdrawn(db: Session, agency: Agency, share_id: str) -> None:
    """410 for one of the agency's shares whose footage was deleted (not a 404 or a 500)."""
    share = db.get(Share, share_id)
    if (
        share is not None
        and share.rfa.agency_id == agency.id
        and share.state == consent.ShareState.WITHDRAWN.value
    ):
        raise EvidenceWithdrawn(
            WITHDRAWN_NOTE,
            extra={
                "state": share.state,
                "withdrawn_at": share.changed_at.isoformat() if share.changed_at else None,
            },
        )


def open_evidence(
    db: Session,
    state: AppState,
    user: User,
    share_id: str,
    action: EvidenceAction,
    span: served.Interval | None = None,
) -> tuple[Share, served.Interval]:
    """Check the caller may open a share and account for the bytes ``span`` it is about to get.

    Every piece is an audit entry. A download, or the piece that makes the bytes served the
    whole file (however many ranges it took), is a download: the share can no longer be revoked,
    and the owner sees it and is told. Views are listed for the owner once per viewing.
    ``span`` defaults to the whole file for a download and the first playback piece for a view.
    """
    agency = agency_store.agency_of(db, user)
    refuse_withdrawn(db, agency, share_id)
    share = agencies.evidence(db, agency, share_id)
    if span is None:
        whole = (0, share.size - 1)
        download = action is EvidenceAction.DOWNLOAD
        span = whole if download else served.playback_span(whole, share.size)
    coverage = agencies.serve_share(db, share, user, *span)
    if coverage.completed:
        action = EvidenceAction.DOWNLOAD
    audit.record(
        db,
        state.master_key,
        f"evidence.{action.value}",
        actor=user,
        owner_id=share.owner_id,
        scope=share.rfa_id,
        detail={
            "request": share.rfa_id,
            "agency": agency.name,
            "case": share.rfa.case_number,
            "bytes": f"{span[0]}-{span[1]}",
        },
    )
    if action is EvidenceAction.VIEW and agencies.recently_viewed(db, share, user):
        return share, span
    agencies.record_access(db, share, agency, user, action)
    notify_after_commit(
        db,
        share.owner_id,
        {
            "type": "disclosure",
            "disclosure": {"share": share.id, "action": action.value, "agency_name": agency.name},
        },
    )
    return share, span


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
    agency = agency_store.agency_of(db, user)
    refuse_withdrawn(db, agency, share_id)
    size = agencies.evidence(db, agency, share_id).size
    bounds = parse_range(range_header, size)
    span = served.playback_span(bounds, size)
    share, span = open_evidence(db, state, user, share_id, EvidenceAction.VIEW, span)
    return footage.copy_response(
        redaction.read_agency_copy(state.keys, share, *span),
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
    share, span = open_evidence(db, state, user, share_id, EvidenceAction.DOWNLOAD)
    return footage.copy_response(
        redaction.read_agency_copy(state.keys, share, *span),
        span,
        share.size,
        ranged=False,
        sha256=share.sha256,
        filename=f"doorstep-share-{share.id}.mp4",
    )


@router.get("/evidence/hash/{sha256}")
def evidence_hash(sha256: str, db: DbDep) -> HashRecord:
    """Is this SHA-256 a file Doorstep delivered? For which agency and case, shared when."""
    share = agencies.share_by_hash(db, sha256) if len(sha256) == 64 else None
    if share is None:
        raise NotFound("no Doorstep share has that SHA-256")
    return HashRecord(
        sha256=share.sha256,
        share_id=share.id,
        agency_name=share.rfa.agency.name,
        case_number=share.rfa.case_number,
        rfa_id=share.rfa_id,
        shared_at=share.created_at,
        size=share.size,
    )
