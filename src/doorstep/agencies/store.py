"""Agencies: applications, verification, members and the camera map of a jurisdiction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.accounts.roles import AGENCY_STAFF, REVIEWERS, Role
from doorstep.agencies.models import Agency, AgencyKind, AgencyMember, AgencyStatus, MemberRole
from doorstep.agencies.rules import (
    CONTACT_MAX_LENGTH,
    NAME_MAX_LENGTH,
    check_agency_level,
    check_agency_name,
)
from doorstep.cameras.models import Camera
from doorstep.errors import Conflict, Forbidden, InvalidInput, NotFound
from doorstep.geo.geometry import parse_geojson
from doorstep.geo.jurisdiction import cells_of
from doorstep.geo.reach import public_cells_inside
from doorstep.platform.types import utcnow
from doorstep.text.normalize import name_key

#: Cameras are looked up with ``cell IN (...)`` in slices no driver refuses.
CELL_SLICE = 900
AGENCY_ROLES = AGENCY_STAFF


def _clean(text: str, *, field: str, limit: int, what: str) -> str:
    value = " ".join(text.split())
    if not value or len(value) > limit:
        raise InvalidInput(f"{what} is 1 to {limit} characters", field=field)
    return value


def membership(db: Session, user: User) -> AgencyMember | None:
    """The agency ``user`` works for, if any."""
    return db.get(AgencyMember, user.id)


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
    if membership(db, applicant) is not None:
        raise Conflict("this account already belongs to an agency")
    if applicant.role in REVIEWERS:
        raise Forbidden("platform staff cannot apply for an agency")
    clean_name = _clean(name, field="name", limit=NAME_MAX_LENGTH, what="the agency's name")
    try:
        agency_kind = AgencyKind(kind)
    except ValueError as err:
        raise InvalidInput("the kind is law_enforcement or fire", field="kind") from err
    check_agency_name(clean_name)
    check_agency_level(level)
    # "Portland Pоlice Bureau" (a Cyrillic o) is the name of the agency that already has it.
    key = name_key(clean_name)
    if any(name_key(other) == key for other in db.scalars(select(Agency.name))):
        raise Conflict("an agency with that name already exists", extra={"field": "name"})
    cells = cells_of(jurisdiction, cell_resolution)
    agency = Agency(
        name=clean_name,
        kind=agency_kind.value,
        level=level,
        jurisdiction=jurisdiction,
        cells=cells,
        contact=_clean(contact, field="contact", limit=CONTACT_MAX_LENGTH, what="the contact"),
        applied_by=applicant.id,
    )
    db.add(agency)
    db.flush()
    db.add(AgencyMember(user_id=applicant.id, agency_id=agency.id, role=MemberRole.ADMIN.value))
    db.flush()
    return agency


def get_agency(db: Session, agency_id: str) -> Agency:
    """Any agency, by id."""
    agency = db.get(Agency, agency_id)
    if agency is None:
        raise NotFound("no such agency")
    return agency


def public_agency(db: Session, agency_id: str) -> Agency:
    """A verified agency, as the public may see it."""
    agency = db.get(Agency, agency_id)
    if agency is None or agency.status != AgencyStatus.VERIFIED.value:
        raise NotFound("no such agency")
    return agency


def verified_agencies(db: Session) -> list[Agency]:
    """Every verified agency, by name."""
    query = select(Agency).where(Agency.status == AgencyStatus.VERIFIED.value)
    return list(db.scalars(query.order_by(Agency.name)))


def applications(db: Session) -> list[Agency]:
    """Agencies waiting for verification, oldest first."""
    query = select(Agency).where(Agency.status == AgencyStatus.APPLIED.value)
    return list(db.scalars(query.order_by(Agency.created_at)))


def decide(
    db: Session, agency_id: str, reviewer: User, *, verify: bool, level: str | None = None
) -> Agency:
    """Verify or reject an application; a verified agency's applicant becomes its admin.

    The reviewer confirms the level the applicant stated, or corrects it (``level``).
    """
    agency = get_agency(db, agency_id)
    if agency.status != AgencyStatus.APPLIED.value:
        raise Conflict(f"this agency is already {agency.status}")
    if verify and level is not None:
        agency.level = check_agency_level(level)
    agency.verified_by = reviewer.id
    agency.verified_at = utcnow()
    if not verify:
        agency.status = AgencyStatus.REJECTED.value
        db.flush()
        return agency
    agency.status = AgencyStatus.VERIFIED.value
    for member in db.scalars(select(AgencyMember).where(AgencyMember.agency_id == agency.id)):
        member.user.role = (
            Role.AGENCY_ADMIN.value
            if member.role == MemberRole.ADMIN.value
            else Role.AGENCY_MEMBER.value
        )
    db.flush()
    return agency


def agency_of(db: Session, user: User, *, admin: bool = False) -> Agency:
    """The verified agency ``user`` works for; Forbidden for anyone else."""
    member = membership(db, user)
    if (
        member is None
        or user.role not in AGENCY_ROLES
        or member.agency.status != AgencyStatus.VERIFIED.value
    ):
        raise Forbidden("only members of a verified agency may do this")
    if admin and member.role != MemberRole.ADMIN.value:
        raise Forbidden("only the agency's admins may do this")
    return member.agency


def join(db: Session, agency: Agency, user: User) -> AgencyMember:
    """Make ``user`` a member of the agency; only accepting an invitation calls this.

    Nobody is made a member by someone else: ``storage.invitations.accept`` is the one caller,
    acting for the invited person (invariant: memberships by consent).
    """
    if agency.status != AgencyStatus.VERIFIED.value:
        raise Conflict("this agency is not verified")
    if membership(db, user) is not None:
        raise Conflict("your account already belongs to an agency")
    if user.role in REVIEWERS:
        raise Forbidden("platform staff cannot join an agency")
    user.role = Role.AGENCY_MEMBER.value
    member = AgencyMember(user_id=user.id, agency_id=agency.id, role=MemberRole.MEMBER.value)
    db.add(member)
    db.flush()
    return member


def members(db: Session, agency: Agency) -> list[AgencyMember]:
    """The agency's members."""
    query = select(AgencyMember).where(AgencyMember.agency_id == agency.id)
    return list(db.scalars(query.order_by(AgencyMember.added_at)))


def camera_map(db: Session, agency: Agency, k: int) -> dict[str, int]:
    """Opted-in cameras per cell of the jurisdiction; cells with fewer than ``k`` are left out.

    Only cells wholly inside the jurisdiction are counted, by the rule requests are targeted by
    (``alerts.public_cells_inside``): a cell on the border holds homes outside it, which are no
    business of the agency and which no request of its can reach.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    counts: dict[str, int] = {}
    region = parse_geojson(agency.jurisdiction).geometry
    cells = sorted(public_cells_inside(agency.cells, region))
    for start in range(0, len(cells), CELL_SLICE):
        query = (
            select(Camera.cell, func.count())
            .where(Camera.cell.in_(cells[start : start + CELL_SLICE]), Camera.requests_opt_in)
            .group_by(Camera.cell)
            .having(func.count() >= k)
        )
        counts.update({str(cell): int(n) for cell, n in db.execute(query)})
    return counts


def agency_named(db: Session, name: str) -> Agency | None:
    """The agency with exactly this name, or None."""
    return db.scalar(select(Agency).where(Agency.name == name))
