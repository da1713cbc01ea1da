"""Agencies: apply, verification by an admin, members, the public directory, the camera map."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from doorstep.api.deps import CurrentPrincipal, CurrentUser, DbDep, StateDep, require_role
from doorstep.api.routers.accounts import Strict
from doorstep.domain.geo import cell_location
from doorstep.errors import NotFound
from doorstep.storage import agencies
from doorstep.storage.agencies import Agency, Rfa, RfaCounts
from doorstep.storage.models import Role, User

router = APIRouter(prefix="/api/v1/agencies", tags=["agencies"])

StaffUser = Annotated[User, Depends(require_role(Role.ADMIN, Role.REVIEWER))]


class AgencyApply(Strict):
    """An application for an agency; a Doorstep admin verifies it before it can do anything."""

    name: Annotated[str, Field(max_length=120)]
    kind: Annotated[str, Field(pattern="^(law_enforcement|fire)$")]
    jurisdiction: dict[str, Any] = Field(
        description="The jurisdiction as a GeoJSON Polygon or MultiPolygon ([lon, lat])."
    )
    contact: Annotated[str, Field(max_length=254)]


class MemberInvite(Strict):
    """The email of an existing Doorstep account to add to the agency."""

    email: Annotated[str, Field(max_length=254)]


class CountsPublic(BaseModel):
    """Who was asked and who shared; declines and silence are never told apart (I3)."""

    asked: int
    shared: int
    clips_shared: int


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
    window_start: datetime
    window_end: datetime
    created_at: datetime
    closed_at: datetime | None
    counts: CountsPublic
    url: str


class AgencyStats(BaseModel):
    """An agency's record: requests made, owners asked, owners who shared, clips shared."""

    requests: int
    asked: int
    shared: int
    clips_shared: int


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


def counts_public(counts: RfaCounts) -> CountsPublic:
    """The counts anyone may see."""
    return CountsPublic(asked=counts.asked, shared=counts.shared, clips_shared=counts.clips)


def rfa_public(rfa: Rfa, counts: RfaCounts) -> RfaPublic:
    """A request as everyone sees it."""
    return RfaPublic(
        id=rfa.id,
        agency_id=rfa.agency_id,
        agency_name=rfa.agency.name,
        case_number=rfa.case_number,
        incident_type=rfa.incident_type,
        description=rfa.description,
        area=rfa.area,
        area_sq_mi=rfa.area_sq_mi,
        window_start=rfa.window_start,
        window_end=rfa.window_end,
        created_at=rfa.created_at,
        closed_at=rfa.closed_at,
        counts=counts_public(counts),
        url=f"/rfa/{rfa.id}",
    )


def agency_public(db: Session, agency: Agency) -> AgencyPublic:
    """A verified agency with its requests and statistics."""
    rfas = agencies.agency_rfas(db, agency)
    counts = agencies.rfa_counts(db, [rfa.id for rfa in rfas])
    public = [rfa_public(rfa, counts[rfa.id]) for rfa in rfas]
    return AgencyPublic(
        id=agency.id,
        name=agency.name,
        kind=agency.kind,
        contact=agency.contact,
        jurisdiction=agency.jurisdiction,
        verified_at=agency.verified_at,
        stats=AgencyStats(
            requests=len(public),
            asked=sum(r.counts.asked for r in public),
            shared=sum(r.counts.shared for r in public),
            clips_shared=sum(r.counts.clips_shared for r in public),
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
    counts = agencies.camera_map(db, agency, k)
    cells = []
    for cell, count in sorted(counts.items()):
        centre = cell_location(cell)
        cells.append(MapCell(cell=cell, count=count, lat=centre.lat, lon=centre.lon))
    resolution = cell_location(agency.cells[0]).resolution if agency.cells else 0
    return CameraMap(agency_id=agency.id, k=k, resolution=resolution, cells=cells)


def _own_agency(db: Session, user: User, agency_id: str, *, admin: bool = False) -> Agency:
    agency = agencies.agency_of(db, user, admin=admin)
    if agency.id != agency_id:
        # Another agency's internals are not even confirmed to exist.
        raise NotFound("no such agency among yours")
    return agency


@router.post("", status_code=status.HTTP_201_CREATED)
def apply(
    body: AgencyApply, principal: CurrentPrincipal, db: DbDep, state: StateDep
) -> AgencyPrivate:
    """Apply for an agency; you become its admin once a Doorstep admin verifies it."""
    agency = agencies.apply(
        db,
        principal.user,
        name=body.name,
        kind=body.kind,
        jurisdiction=body.jurisdiction,
        contact=body.contact,
        cell_resolution=state.settings.public_cell_resolution,
    )
    return agency_private(agency)


@router.get("")
def directory(db: DbDep) -> list[AgencyPublic]:
    """Every verified agency with its jurisdiction, every request it made and its statistics."""
    return [agency_public(db, agency) for agency in agencies.verified_agencies(db)]


@router.get("/applications")
def applications(_staff: StaffUser, db: DbDep) -> list[AgencyPrivate]:
    """Agencies waiting for verification (admins and reviewers)."""
    return [agency_private(agency) for agency in agencies.applications(db)]


@router.get("/mine")
def mine(user: CurrentUser, db: DbDep) -> AgencyPrivate:
    """The agency the caller applied for or works for."""
    member = agencies.membership(db, user)
    if member is None:
        raise NotFound("you do not belong to an agency")
    return agency_private(member.agency)


@router.get("/{agency_id}")
def get_agency(agency_id: str, db: DbDep) -> AgencyPublic:
    """One verified agency, as the public sees it."""
    return agency_public(db, agencies.public_agency(db, agency_id))


@router.post("/{agency_id}/verify")
def verify(agency_id: str, staff: StaffUser, db: DbDep) -> AgencyPrivate:
    """Verify an agency: it appears in the directory and its people may send requests."""
    return agency_private(agencies.decide(db, agency_id, staff, verify=True))


@router.post("/{agency_id}/reject")
def reject(agency_id: str, staff: StaffUser, db: DbDep) -> AgencyPrivate:
    """Refuse an application."""
    return agency_private(agencies.decide(db, agency_id, staff, verify=False))


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
        for m in agencies.members(db, agency)
    ]


@router.post("/{agency_id}/members", status_code=status.HTTP_201_CREATED)
def invite(agency_id: str, body: MemberInvite, user: CurrentUser, db: DbDep) -> MemberPublic:
    """Add an existing account to the agency (agency admins only)."""
    agency = _own_agency(db, user, agency_id, admin=True)
    member = agencies.invite(db, agency, body.email)
    return MemberPublic(
        user_id=member.user_id,
        display_name=member.user.display_name,
        email=member.user.email,
        role=member.role,
        added_at=member.added_at,
    )


@router.get("/{agency_id}/camera-map")
def camera_map(agency_id: str, user: CurrentUser, db: DbDep, state: StateDep) -> CameraMap:
    """Opted-in cameras per cell of the jurisdiction; cells under k are left out (I1)."""
    agency = _own_agency(db, user, agency_id)
    return camera_map_of(db, agency, state.settings.camera_map_k)
