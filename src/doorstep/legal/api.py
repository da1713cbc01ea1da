"""Legal demands and emergency requests over JSON: each route parses, calls the service, answers.

What may be disclosed, and how, is decided in ``legal/service.py`` and ``legal/rules.py``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, status
from fastapi.responses import StreamingResponse

from doorstep.accounts.auth import AgencyUser, CurrentUser, ReviewerUser
from doorstep.accounts.roles import AGENCY_STAFF, REVIEWERS
from doorstep.errors import Forbidden
from doorstep.legal import service, service_locker
from doorstep.legal.schemas import (
    CloseBody,
    DemandCreate,
    DemandPublic,
    DiscloseBody,
    DisclosureHashRecord,
    DisclosurePublic,
    EmergencyCreate,
    EmergencyPublic,
    OrderCreate,
    OwnerDisclosure,
    RefuseBody,
)

# The periodic job app.py schedules: owners told once an order ends or an emergency is over.
from doorstep.legal.service_disclose import send_due_notices as send_due_notices
from doorstep.platform.http import footage, problems
from doorstep.platform.http.deps import DbDep, StateDep
from doorstep.platform.ranges import parse_range

router = APIRouter(prefix="/api/v1", tags=["legal"])

RangeHeader = Annotated[str | None, Header(alias="range", max_length=100)]


# --- demands -------------------------------------------------------------------------------------


@router.post(
    "/legal/demands", status_code=status.HTTP_201_CREATED, responses=problems.responses(404)
)
def create_demand(
    body: DemandCreate, user: ReviewerUser, db: DbDep, state: StateDep
) -> DemandPublic:
    """Record a warrant, subpoena or court order with its scope (reviewers only)."""
    return service.record_demand(db, state, user, body)


@router.get("/legal/demands")
def list_demands(user: ReviewerUser, db: DbDep) -> list[DemandPublic]:
    """Every recorded demand, newest first."""
    del user
    return service.demands(db)


@router.get("/legal/demands/{demand_id}")
def get_demand(demand_id: str, user: ReviewerUser, db: DbDep) -> DemandPublic:
    """One demand with its order and disclosures."""
    del user
    return service.demand(db, demand_id)


@router.post("/legal/demands/{demand_id}/non-disclosure-order", responses=problems.responses(409))
def create_order(
    demand_id: str, body: OrderCreate, user: ReviewerUser, db: DbDep, state: StateDep
) -> DemandPublic:
    """Delay the owner's notice until the order's end date (an end date is required)."""
    return service.record_order(db, state, user, demand_id, body.ends_at)


@router.post("/legal/demands/{demand_id}/disclose")
def disclose(
    demand_id: str, body: DiscloseBody, user: ReviewerUser, db: DbDep, state: StateDep
) -> list[DisclosurePublic]:
    """Disclose footage inside the demand's scope; a subpoena or anything outside is refused."""
    return service.disclose_footage(
        db, state, user, demand_id, body.clip_ids, unredacted=body.unredacted
    )


@router.post("/legal/demands/{demand_id}/disclose-account")
def disclose_account_info(
    demand_id: str, user: ReviewerUser, db: DbDep, state: StateDep
) -> DisclosurePublic:
    """Disclose the named account's name, email and camera count (never footage)."""
    return service.disclose_account(db, state, user, demand_id)


@router.post("/legal/demands/{demand_id}/close", responses=problems.responses(409))
def close(
    demand_id: str, body: CloseBody, user: ReviewerUser, db: DbDep, state: StateDep
) -> DemandPublic:
    """Close a demand: complied in full, in part, or rejected."""
    return service.close_demand(db, state, user, demand_id, body.outcome)


# --- emergencies ---------------------------------------------------------------------------------


@router.post("/emergencies", status_code=status.HTTP_201_CREATED, responses=problems.responses(404))
def create_emergency(
    body: EmergencyCreate, user: AgencyUser, db: DbDep, state: StateDep
) -> EmergencyPublic:
    """File an emergency request; nothing is disclosed until two different reviewers approve."""
    return service.file_emergency(db, state, user, body)


@router.get("/emergencies")
def list_emergencies(user: CurrentUser, db: DbDep) -> list[EmergencyPublic]:
    """Reviewers see every emergency request; an agency sees its own."""
    return service.emergencies(db, user)


@router.get("/emergencies/{request_id}")
def get_emergency(request_id: str, user: CurrentUser, db: DbDep) -> EmergencyPublic:
    """One emergency request."""
    return service.emergency(db, user, request_id)


@router.post("/emergencies/{request_id}/approve", responses=problems.responses(409))
def approve(request_id: str, user: ReviewerUser, db: DbDep, state: StateDep) -> EmergencyPublic:
    """Approve; the same reviewer twice is refused (409), two different ones release the clips."""
    return service.approve_emergency(db, state, user, request_id)


@router.post("/emergencies/{request_id}/refuse", responses=problems.responses(409))
def refuse(
    request_id: str, body: RefuseBody, user: ReviewerUser, db: DbDep, state: StateDep
) -> EmergencyPublic:
    """Refuse with a reason."""
    return service.refuse_emergency(db, state, user, request_id, body.reason)


@router.post("/emergencies/{request_id}/disclose")
def disclose_more(
    request_id: str, body: DiscloseBody, user: ReviewerUser, db: DbDep, state: StateDep
) -> list[DisclosurePublic]:
    """Disclose named clips under an approved emergency (in scope, never end-to-end encrypted)."""
    return service.disclose_more(
        db, state, user, request_id, body.clip_ids, unredacted=body.unredacted
    )


@router.post("/emergencies/{request_id}/over", responses=problems.responses(409))
def over(request_id: str, user: CurrentUser, db: DbDep, state: StateDep) -> EmergencyPublic:
    """Mark the emergency over (a reviewer or the filing agency); owners are told now."""
    if user.role not in REVIEWERS | AGENCY_STAFF:
        raise Forbidden("only reviewers or the filing agency may end an emergency")
    return service.end_emergency(db, state, user, request_id)


# --- the agency's locker and the owner's history --------------------------------------------------


@router.get("/evidence/disclosure-hash/{sha256}")
def disclosure_hash(sha256: str, db: DbDep) -> DisclosureHashRecord:
    """Is this SHA-256 a copy Doorstep disclosed? On what basis, to which agency, when."""
    return service_locker.disclosure_hash(db, sha256)


@router.get("/evidence/disclosures")
def agency_disclosures(user: AgencyUser, db: DbDep) -> list[DisclosurePublic]:
    """What the caller's agency received under legal process or emergencies, newest first."""
    return service_locker.agency_disclosures(db, user)


def _download_url(disclosure_id: str) -> str:
    return f"/api/v1/evidence/disclosures/{disclosure_id}/download"


@router.get(
    "/evidence/disclosures/{disclosure_id}/video",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"video/mp4": {}}},
        206: {"content": {"video/mp4": {}}},
        **problems.responses(405),
    },
)
def disclosure_video(
    disclosure_id: str,
    request: Request,
    user: AgencyUser,
    db: DbDep,
    state: StateDep,
    range_header: RangeHeader = None,
    download: bool = False,
) -> StreamingResponse:
    """Play a disclosed clip (watermarked) by byte ranges; every range is logged for the owner.

    Ranges that add up to the whole file are a download. To download, POST to ``download_url``.
    """
    footage.refuse_download_by_get(download, _download_url(disclosure_id))
    footage.refuse_cross_site(request)
    bounds = parse_range(
        range_header, service_locker.disclosure_size(db, user, disclosure_id), what="the clip"
    )
    copy = service_locker.open_disclosure(
        db, state, user, disclosure_id, download=False, bounds=bounds
    )
    return footage.copy_response(
        copy.pieces, copy.span, copy.size, ranged=bounds is not None, sha256=copy.sha256
    )


@router.post(
    "/evidence/disclosures/{disclosure_id}/download",
    response_class=StreamingResponse,
    responses={200: {"content": {"video/mp4": {}}}},
)
def disclosure_download(
    disclosure_id: str, user: AgencyUser, db: DbDep, state: StateDep
) -> StreamingResponse:
    """Download a disclosed clip whole: recorded, dated, and told to the owner."""
    copy = service_locker.open_disclosure(db, state, user, disclosure_id, download=True)
    return footage.copy_response(
        copy.pieces,
        copy.span,
        copy.size,
        ranged=False,
        sha256=copy.sha256,
        filename=f"doorstep-disclosure-{copy.id}.mp4",
    )


@router.get("/me/disclosures/legal")
def my_disclosures(user: CurrentUser, db: DbDep) -> list[OwnerDisclosure]:
    """Every disclosure of the caller's footage or account under legal process or an emergency."""
    return service_locker.owner_disclosures(db, user)
