"""Agencies: the use cases routes, pages, the demo and other features call.

Applying, verification by Doorstep's staff, members and their invitations, the public directory
with each agency's record, and the camera map of a jurisdiction (k-anonymous, I1).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.agencies import store
from doorstep.agencies.models import Agency, AgencyMember, MemberRole
from doorstep.agencies.schemas import AgencyPrivate, AgencyPublic, AgencyStats, CameraMap, MapCell
from doorstep.errors import NotFound
from doorstep.geo.cells import cell_location
from doorstep.geo.svg import camera_map_svg
from doorstep.invitations import store as invitations
from doorstep.invitations.models import Invitation
from doorstep.invitations.store import Invited
from doorstep.requests import service as requests
from doorstep.requests.rules import public_counts, public_totals


def agency_public(db: Session, agency: Agency, k: int = requests.DEFAULT_K) -> AgencyPublic:
    """A verified agency with its requests and statistics."""
    rfas, counts = requests.agency_rfa_counts(db, agency)
    public = [requests.rfa_public(rfa, counts[rfa.id], k) for rfa in rfas]
    totals = public_totals((public_counts(counts[r.id], k) for r in rfas), k)
    return AgencyPublic(
        id=agency.id,
        name=agency.name,
        kind=agency.kind,
        level=agency.level,
        contact=agency.contact,
        jurisdiction=agency.jurisdiction,
        verified_at=agency.verified_at,
        stats=AgencyStats(
            requests=totals.requests,
            asked=requests.count_range(totals.asked),
            shared=requests.count_range(totals.shared),
            clips_shared=requests.count_range(totals.clips),
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
        level=agency.level,
        contact=agency.contact,
        status=agency.status,
        jurisdiction=agency.jurisdiction,
        created_at=agency.created_at,
        verified_at=agency.verified_at,
    )


def camera_map_of(db: Session, agency: Agency, k: int) -> CameraMap:
    """The camera map of an agency's jurisdiction."""
    counts = store.camera_map(db, agency, k)
    cells = []
    for cell, count in sorted(counts.items()):
        centre = cell_location(cell)
        cells.append(MapCell(cell=cell, count=count, lat=centre.lat, lon=centre.lon))
    resolution = cell_location(agency.cells[0]).resolution if agency.cells else 0
    return CameraMap(agency_id=agency.id, k=k, resolution=resolution, cells=cells)


# --- applying and verifying ----------------------------------------------------------------------


def apply(
    db: Session,
    applicant: User,
    *,
    name: str,
    kind: str,
    jurisdiction: dict[str, Any],
    contact: str,
    cell_resolution: int,
    level: str = "local",
) -> Agency:
    """Apply for an agency; the applicant becomes its admin once a Doorstep admin verifies it."""
    return store.apply(
        db,
        applicant,
        name=name,
        kind=kind,
        jurisdiction=jurisdiction,
        contact=contact,
        cell_resolution=cell_resolution,
        level=level,
    )


def decide(
    db: Session, agency_id: str, reviewer: User, *, verify: bool, level: str | None = None
) -> Agency:
    """Verify or reject an application, the reviewer confirming or correcting its level."""
    return store.decide(db, agency_id, reviewer, verify=verify, level=level)


def applications(db: Session) -> list[Agency]:
    """Agencies waiting for verification, oldest first."""
    return store.applications(db)


def verified_agencies(db: Session) -> list[Agency]:
    """Every verified agency, by name."""
    return store.verified_agencies(db)


def directory(db: Session, k: int) -> list[AgencyPublic]:
    """Every verified agency with its jurisdiction, requests and statistics."""
    return [agency_public(db, agency, k) for agency in store.verified_agencies(db)]


def public_agency(db: Session, agency_id: str) -> Agency:
    """A verified agency, as the public may see it."""
    return store.public_agency(db, agency_id)


def get_agency(db: Session, agency_id: str) -> Agency:
    """Any agency, by id."""
    return store.get_agency(db, agency_id)


def membership(db: Session, user: User) -> AgencyMember | None:
    """The agency ``user`` applied for or works for, if any."""
    return store.membership(db, user)


def mine(db: Session, user: User) -> Agency:
    """The agency the caller applied for or works for; NotFound when none."""
    member = store.membership(db, user)
    if member is None:
        raise NotFound("you do not belong to an agency")
    return member.agency


def agency_of(db: Session, user: User, *, admin: bool = False) -> Agency:
    """The verified agency ``user`` works for; Forbidden for anyone else."""
    return store.agency_of(db, user, admin=admin)


# --- members -------------------------------------------------------------------------------------


def own_agency(db: Session, user: User, agency_id: str, *, admin: bool = False) -> Agency:
    """The caller's own agency by id; another agency's is NotFound."""
    agency = store.agency_of(db, user, admin=admin)
    if agency.id != agency_id:
        # Another agency's internals are not even confirmed to exist.
        raise NotFound("no such agency among yours")
    return agency


def members(db: Session, agency: Agency) -> list[AgencyMember]:
    """The agency's members."""
    return store.members(db, agency)


def invite(db: Session, agency: Agency, inviter: User, email: str) -> Invited:
    """Invite someone to the agency; they join only if they accept (the same answer either way)."""
    return invitations.invite_to_agency(db, agency, inviter, email)


def pending_invitations(db: Session, agency: Agency) -> list[Invitation]:
    """Invitations to the agency still waiting for an answer."""
    return invitations.pending_for_agency(db, agency)


def withdraw_invitation(db: Session, agency: Agency, invitation_id: str) -> Invitation:
    """Take back an invitation to the agency nobody has answered."""
    return invitations.withdraw(db, invitation_id, agency=agency)


# --- the dashboard -------------------------------------------------------------------------------


def dashboard(db: Session, user: User, k: int) -> dict[str, Any]:
    """The agency's dashboard: its members and invitations, its requests, its camera map."""
    agency = store.agency_of(db, user)
    rfas, counts = requests.agency_rfa_counts(db, agency)
    member = store.membership(db, user)
    camera_map = camera_map_of(db, agency, k)
    cells = {c.cell: c.count for c in camera_map.cells}
    return {
        "agency": agency,
        "is_admin": member is not None and member.role == MemberRole.ADMIN.value,
        "members": store.members(db, agency),
        "invitations": invitations.pending_for_agency(db, agency),
        "requests": [requests.rfa_public(rfa, counts[rfa.id], k) for rfa in rfas],
        "map": camera_map_svg(agency.jurisdiction, cells, [(r.id, r.area) for r in rfas]),
        "k": k,
    }


def agency_named(db: Session, name: str) -> Agency | None:
    """The agency with exactly this name, in any state, or None."""
    return store.agency_named(db, name)
