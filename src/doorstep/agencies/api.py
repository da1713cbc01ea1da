"""Agencies: apply, verification by an admin, members, the public directory, the camera map."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from doorstep.accounts.api import Strict
from doorstep.accounts.models import User
from doorstep.accounts.roles import Role
from doorstep.agencies import store as agency_store
from doorstep.agencies.models import Agency
from doorstep.errors import NotFound
from doorstep.geo.cells import cell_location
from doorstep.geo.jurisdiction import (
    MAX_JURISDICTION_CELLS,
    MAX_JURISDICTION_POSITIONS,
    MAX_JURISDICTION_RINGS,
)
from doorstep.invitations import store as invitations
from doorstep.invitations.api import (
    InvitationPending,
    InvitationSent,
    invitation_pending,
    invitation_sent,
)
from doorstep.platform.http import problems
from doorstep.platform.http.deps import CurrentUser, DbDep, StateDep, require_role
from doorstep.requests import store as agencies
from doorstep.requests.models import Rfa
from doorstep.requests.rules import RfaCounts, public_counts, public_totals, reach
from doorstep.settings import Settings
from doorstep.transparency.counts import CountRange

router = APIRouter(prefix="/api/v1/agencies", tags=["agencies"])

StaffUser = Annotated[User, Depends(require_role(Role.ADMIN, Role.REVIEWER))]


class AgencyApply(Strict):
    """An application for an agency; a Doorstep admin verifies it before it can do anything."""

    name: Annotated[str, Field(max_length=120)]
    kind: Annotated[str, Field(pattern="^(law_enforcement|fire)$")]
    jurisdiction: dict[str, Any] = Field(
        description=(
            "The jurisdiction as a GeoJSON Polygon or MultiPolygon ([lon, lat]). Refused with a "
            "422 problem (field `jurisdiction`) when malformed (open rings, crossing edges, holes "
            "outside their polygon, numbers that are not finite), when it has more than "
            f"{MAX_JURISDICTION_POSITIONS:,} points or "
            f"{MAX_JURISDICTION_RINGS:,} rings, or when it would cover more than "
            f"{MAX_JURISDICTION_CELLS:,} cells at the public resolution (estimated from "
            "its area first; the problem carries `estimated_cells`)."
        )
    )
    contact: Annotated[str, Field(max_length=254)]


class MemberInvite(Strict):
    """The email of the person to invite; they become a member only when they accept."""

    email: Annotated[str, Field(max_length=254)]


class CountRangePublic(BaseModel):
    """A count shown only as a range: "fewer than k" (0 to k - 1), or a bucket such as 10–19."""

    at_least: int = Field(description="The smallest the count may be.")
    at_most: int = Field(description="The largest the count may be.")
    label: str = Field(description='The range in words, e.g. "fewer than 5" or "10–19".')


def count_range(shown: CountRange) -> CountRangePublic:
    """A domain range as the API shows it."""
    return CountRangePublic(at_least=shown.at_least, at_most=shown.at_most, label=shown.label)


class CountsPublic(BaseModel):
    """How many owners a request reached and how many shared, as ranges; never who declined (I3).

    Every count is coarse: fewer than k (the camera map's k-anonymity threshold, 5 unless
    configured) is withheld as the range 0 to k - 1, zero included; from k up a count is
    shown as its bucket (for k = 5: 5–9, 10–19, 20–49, 50–99 …). Declines and silence are one
    number nobody can split, and are never shown.
    """

    asked: CountRangePublic = Field(description="Owners asked; fewer than k is not told how many.")
    shared: CountRangePublic = Field(description="Owners who shared at least one clip.")
    clips_shared: CountRangePublic = Field(description="Clips shared with the request.")
    k: int = Field(description="The threshold below which a count is withheld.")


class ReachPublic(BaseModel):
    """What a request reaches: whole public map cells, never some homes of a cell."""

    cells: int = Field(
        description="Public map cells the request reaches: those its area meets that lie wholly "
        "inside the agency's jurisdiction. Every opted-in camera in them is asked, no other."
    )
    sq_mi: float = Field(description="Those cells' total area in square miles.")


class RfaPublic(BaseModel):
    """A Request for Assistance as everyone sees it."""

    id: str
    agency_id: str
    agency_name: str
    case_number: str
    incident_type: str
    description: str
    area: dict[str, Any]
    area_sq_mi: float
    reach: ReachPublic
    window_start: datetime
    window_end: datetime
    created_at: datetime
    closed_at: datetime | None
    counts: CountsPublic
    url: str


class AgencyStats(BaseModel):
    """An agency's record, added up from its requests' public ranges only.

    Each total is the sum of the bounds its requests show, so no total can be subtracted to
    recover a withheld or bucketed count.
    """

    requests: int = Field(description="Requests the agency sent.")
    asked: CountRangePublic = Field(description="Owners asked, over all requests.")
    shared: CountRangePublic = Field(description="Owners who shared, over all requests.")
    clips_shared: CountRangePublic = Field(description="Clips shared, over all requests.")
    k: int = Field(description="The threshold below which a request's counts are withheld.")


class AgencyPublic(BaseModel):
    """A verified agency in the public directory, with every request it ever made."""

    id: str
    name: str
    kind: str
    contact: str
    jurisdiction: dict[str, Any]
    verified_at: datetime | None
    stats: AgencyStats
    requests: list[RfaPublic]


class AgencyPrivate(BaseModel):
    """An agency as its applicant, its members and the admins see it."""

    id: str
    name: str
    kind: str
    contact: str
    status: str
    jurisdiction: dict[str, Any]
    created_at: datetime
    verified_at: datetime | None


class MemberPublic(BaseModel):
    """A member of an agency, as the agency sees it."""

    user_id: str
    display_name: str
    email: str
    role: str
    added_at: datetime


class MapCell(BaseModel):
    """Opted-in cameras in one cell; only cells with at least k cameras are listed."""

    cell: str
    count: int
    lat: float
    lon: float


class CameraMap(BaseModel):
    """How many cameras may be asked where: counts per public cell, small cells suppressed."""

    agency_id: str
    k: int
    resolution: int
    cells: list[MapCell]


#: The k-anonymity threshold when a caller has no settings at hand: the setting's default.
DEFAULT_K: int = int(Settings.model_fields["camera_map_k"].default)


def counts_public(counts: RfaCounts, k: int = DEFAULT_K) -> CountsPublic:
    """The counts anyone may see: ranges, every count below ``k`` withheld."""
    shown = public_counts(counts, k)
    return CountsPublic(
        asked=count_range(shown.asked),
        shared=count_range(shown.shared),
        clips_shared=count_range(shown.clips),
        k=k,
    )


def _reach(rfa: Rfa) -> ReachPublic:
    reached = reach(rfa.cells)
    return ReachPublic(cells=reached.cells, sq_mi=round(reached.sq_mi, 4))


def rfa_public(rfa: Rfa, counts: RfaCounts, k: int = DEFAULT_K) -> RfaPublic:
    """A request as everyone sees it; pass the configured ``k`` (settings' ``camera_map_k``)."""
    return RfaPublic(
        id=rfa.id,
        agency_id=rfa.agency_id,
        agency_name=rfa.agency.name,
        case_number=rfa.case_number,
        incident_type=rfa.incident_type,
        description=rfa.description,
        area=rfa.area,
        area_sq_mi=rfa.area_sq_mi,
        reach=_reach(rfa),
        window_start=rfa.window_start,
        window_end=rfa.window_end,
        created_at=rfa.created_at,
        closed_at=rfa.closed_at,
        counts=counts_public(counts, k),
        url=f"/rfa/{rfa.id}",
    )


def agency_public(db: Session, agency: Agency, k: int = DEFAULT_K) -> AgencyPublic:
    """A verified agency with its requests and statistics."""
    rfas = agencies.agency_rfas(db, agency)
    counts = agencies.rfa_counts(db, [rfa.id for rfa in rfas])
    public = [rfa_public(rfa, counts[rfa.id], k) for rfa in rfas]
    totals = public_totals((public_counts(counts[r.id], k) for r in rfas), k)
    return AgencyPublic(
        id=agency.id,
        name=agency.name,
        kind=agency.kind,
        contact=agency.contact,
        jurisdiction=agency.jurisdiction,
        verified_at=agency.verified_at,
        stats=AgencyStats(
            requests=totals.requests,
            asked=count_range(totals.asked),
            shared=count_range(totals.shared),
            clips_shared=count_range(totals.clips),
            k=k,
        ),
        requests=public,
    )


def agency_private(agency: Agency) -> AgencyPrivate:
    """The agency as its own people and the admins see it."""
    return AgencyPrivate(
        id=agency.id,
        name=agency.name,
        kind=agency.kind,
        contact=agency.contact,
        status=agency.status,
        jurisdiction=agency.jurisdiction,
        created_at=agency.created_at,
        verified_at=agency.verified_at,
    )


def camera_map_of(db: Session, agency: Agency, k: int) -> CameraMap:
    """The camera map of an agency's jurisdiction."""
    counts = agency_store.camera_map(db, agency, k)
    cells = []
    for cell, count in sorted(counts.items()):
        centre = cell_location(cell)
        cells.append(MapCell(cell=cell, count=count, lat=centre.lat, lon=centre.lon))
    resolution = cell_location(agency.cells[0]).resolution if agency.cells else 0
    return CameraMap(agency_id=agency.id, k=k, resolution=resolution, cells=cells)


def _own_agency(db: Session, user: User, agency_id: str, *, admin: bool = False) -> Agency:
    agency = agency_store.agency_of(db, user, admin=admin)
    if agency.id != agency_id:
        # Another agency's internals are not even confirmed to exist.
        raise NotFound("no such agency among yours")
    return agency


@router.post("", status_code=status.HTTP_201_CREATED, responses=problems.responses(409))
def apply(body: AgencyApply, user: CurrentUser, db: DbDep, state: StateDep) -> AgencyPrivate:
    """Apply for an agency; you become its admin once a Doorstep admin verifies it."""
    agency = agency_store.apply(
        db,
        user,
        name=body.name,
        kind=body.kind,
        jurisdiction=body.jurisdiction,
        contact=body.contact,
        cell_resolution=state.settings.public_cell_resolution,
    )
    return agency_private(agency)


@router.get("")
def directory(db: DbDep, state: StateDep) -> list[AgencyPublic]:
    """Every verified agency with its jurisdiction, every request it made and its statistics.

    A request that reached fewer than k owners does not say how many (I3).
    """
    k = state.settings.camera_map_k
    return [agency_public(db, agency, k) for agency in agency_store.verified_agencies(db)]


@router.get("/applications")
def applications(_staff: StaffUser, db: DbDep) -> list[AgencyPrivate]:
    """Agencies waiting for verification (admins and reviewers)."""
    return [agency_private(agency) for agency in agency_store.applications(db)]


@router.get("/mine", responses=problems.responses(404))
def mine(user: CurrentUser, db: DbDep) -> AgencyPrivate:
    """The agency the caller applied for or works for."""
    member = agency_store.membership(db, user)
    if member is None:
        raise NotFound("you do not belong to an agency")
    return agency_private(member.agency)


@router.get("/{agency_id}")
def get_agency(agency_id: str, db: DbDep, state: StateDep) -> AgencyPublic:
    """One verified agency, as the public sees it; fewer than k asked is not told (I3)."""
    k = state.settings.camera_map_k
    return agency_public(db, agency_store.public_agency(db, agency_id), k)


@router.post("/{agency_id}/verify", responses=problems.responses(409))
def verify(agency_id: str, staff: StaffUser, db: DbDep) -> AgencyPrivate:
    """Verify an agency: it appears in the directory and its people may send requests."""
    return agency_private(agency_store.decide(db, agency_id, staff, verify=True))


@router.post("/{agency_id}/reject", responses=problems.responses(409))
def reject(agency_id: str, staff: StaffUser, db: DbDep) -> AgencyPrivate:
    """Refuse an application."""
    return agency_private(agency_store.decide(db, agency_id, staff, verify=False))


@router.get("/{agency_id}/members")
def list_members(agency_id: str, user: CurrentUser, db: DbDep) -> list[MemberPublic]:
    """The agency's members (members of that agency only)."""
    agency = _own_agency(db, user, agency_id)
    return [
        MemberPublic(
            user_id=m.user_id,
            display_name=m.user.display_name,
            email=m.user.email,
            role=m.role,
            added_at=m.added_at,
        )
        for m in agency_store.members(db, agency)
    ]


@router.post(
    "/{agency_id}/members",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problems.responses(409),
)
def invite(agency_id: str, body: MemberInvite, user: CurrentUser, db: DbDep) -> InvitationSent:
    """Invite someone to the agency (agency admins only); they join only if they accept.

    The answer is the same whether or not the email has a Doorstep account.
    """
    agency = _own_agency(db, user, agency_id, admin=True)
    return invitation_sent(invitations.invite_to_agency(db, agency, user, body.email))


@router.get("/{agency_id}/invitations")
def list_invitations(agency_id: str, user: CurrentUser, db: DbDep) -> list[InvitationPending]:
    """Invitations still waiting for an answer (agency admins only)."""
    agency = _own_agency(db, user, agency_id, admin=True)
    return [invitation_pending(row) for row in invitations.pending_for_agency(db, agency)]


@router.delete(
    "/{agency_id}/invitations/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems.responses(404, 409),
)
def withdraw_invitation(
    agency_id: str, invitation_id: str, user: CurrentUser, db: DbDep
) -> Response:
    """Take back an invitation nobody has answered (agency admins only)."""
    agency = _own_agency(db, user, agency_id, admin=True)
    invitations.withdraw(db, invitation_id, agency=agency)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{agency_id}/camera-map")
def camera_map(agency_id: str, user: CurrentUser, db: DbDep, state: StateDep) -> CameraMap:
    """Opted-in cameras per cell of the jurisdiction; cells under k are left out (I1)."""
    agency = _own_agency(db, user, agency_id)
    return camera_map_of(db, agency, state.settings.camera_map_k)
