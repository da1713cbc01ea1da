"""Agencies, Requests for Assistance, owners' answers, shares and the evidence locker.

What an agency may learn is decided here and nowhere else: coarse counts of who was asked and
who shared, every one below k withheld (never who declined, invariant I3; the ranges are
``domain.disclosure_counts``), opted-in cameras per cell with small cells suppressed (I1), and
only the redacted copies owners chose to share with one request (I2, I4).

A request reaches a camera when the camera's public cell is one of the request's cells, and by
nothing finer: no outline, hole or exact position can tell two homes in one cell apart (I1). The
request's cells are decided once, in ``domain.rfa`` (those its area meets that lie wholly inside
the jurisdiction), stored with it, and read here for the owners asked and the clips they may share.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import h3
from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from doorstep.accounts.models import User
from doorstep.accounts.roles import AGENCY_STAFF, REVIEWERS, Role
from doorstep.cameras.models import Camera
from doorstep.clips import served_store as served_bytes
from doorstep.clips.models import Clip
from doorstep.errors import Conflict, Forbidden, InvalidInput, NotFound, PolicyRefused
from doorstep.geo import cells as geo
from doorstep.geo import geometry
from doorstep.geo.cells import Coordinates
from doorstep.geo.reach import public_cells_inside
from doorstep.platform.orm import Base
from doorstep.platform.types import new_id, utcnow
from doorstep.requests import consent
from doorstep.requests.eligibility import check_agency_name
from doorstep.requests.rules import (
    Circle,
    Polygon,
    RfaDraft,
    ValidatedRfa,
    check_rfa,
    parse_geojson,
)
from doorstep.text.normalize import CASE_KEY_MAX_LENGTH, case_key, name_key
from doorstep.transparency import counts as disclosure_counts
from doorstep.transparency.counts import CountRange

#: How long owners may answer a request that was not closed early.
ANSWER_WINDOW = timedelta(days=30)
#: A jurisdiction is covered by cells at the public resolution; past this many it is refused.
MAX_JURISDICTION_CELLS = 50_000
#: Listing a polygon's cells walks its bounding box: a thin outline with a vast box is refused too.
MAX_BOUNDING_BOX_CELLS = 10 * MAX_JURISDICTION_CELLS
#: Points in a jurisdiction's outline over all its rings, and rings over all its polygons.
MAX_JURISDICTION_POSITIONS = geometry.MAX_REGION_POSITIONS
MAX_JURISDICTION_RINGS = geometry.MAX_REGION_RINGS
#: Cameras are looked up with ``cell IN (...)`` in slices no driver refuses.
CELL_SLICE = 900
AGENCY_ROLES = AGENCY_STAFF


class AgencyKind(StrEnum):
    """What an agency does."""

    LAW_ENFORCEMENT = "law_enforcement"
    FIRE = "fire"


class AgencyStatus(StrEnum):
    """Where an agency's application stands."""

    APPLIED = "applied"
    VERIFIED = "verified"
    REJECTED = "rejected"


class MemberRole(StrEnum):
    """What a member may do inside their agency."""

    MEMBER = "member"
    ADMIN = "admin"


class EvidenceAction(StrEnum):
    """What an agency member did with shared footage."""

    VIEW = "view"
    DOWNLOAD = "download"


class Agency(Base):
    """A police or fire agency with a jurisdiction; public once verified."""

    __tablename__ = "agencies"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    #: The jurisdiction as a GeoJSON Polygon or MultiPolygon.
    jurisdiction: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: Cells at the public resolution that overlap the jurisdiction.
    cells: Mapped[list[str]] = mapped_column(JSON, default=list)
    contact: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(10), default=AgencyStatus.APPLIED.value, index=True)
    applied_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    verified_at: Mapped[datetime | None] = mapped_column()
    verified_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )


class AgencyMember(Base):
    """An account that works for an agency; an account belongs to at most one."""

    __tablename__ = "agency_members"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    agency_id: Mapped[str] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(10), default=MemberRole.MEMBER.value)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    agency: Mapped[Agency] = relationship()
    user: Mapped[User] = relationship()


class Rfa(Base):
    """A Request for Assistance: public, never edited or deleted, only closed early."""

    __tablename__ = "rfas"
    __table_args__ = (Index("ix_rfas_agency_id_case_key", "agency_id", "case_key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id", ondelete="RESTRICT"))
    author_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    case_number: Mapped[str] = mapped_column(String(60))
    #: One key for every way of writing the case number: the per-case limit counts by it.
    case_key: Mapped[str] = mapped_column(String(CASE_KEY_MAX_LENGTH))
    incident_type: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text)
    #: The area as a GeoJSON Polygon (a circle is stored as the polygon that encloses it).
    area: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: For a circle: centre and radius, to draw it as drawn (cameras are matched by cell only).
    circle_lat: Mapped[float | None] = mapped_column(Float)
    circle_lon: Mapped[float | None] = mapped_column(Float)
    circle_radius_m: Mapped[float | None] = mapped_column(Float)
    area_sq_mi: Mapped[float] = mapped_column(Float)
    #: The public cells the request reaches, as listed in ``rfa_cells`` too.
    cells: Mapped[list[str]] = mapped_column(JSON, default=list)
    window_start: Mapped[datetime] = mapped_column()
    window_end: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    closed_at: Mapped[datetime | None] = mapped_column()
    alert_id: Mapped[str | None] = mapped_column(
        ForeignKey("agency_alerts.id", ondelete="SET NULL"), index=True
    )

    agency: Mapped[Agency] = relationship()

    def shape(self) -> Circle | Polygon:
        """The area as drawn: a circle or a polygon."""
        if self.circle_radius_m is not None:
            assert self.circle_lat is not None
            assert self.circle_lon is not None
            return Circle(Coordinates(self.circle_lat, self.circle_lon), self.circle_radius_m)
        return parse_geojson(self.area).polygons[0]

    def is_open(self, now: datetime) -> bool:
        """Whether owners may still answer."""
        return self.closed_at is None and now < self.created_at + ANSWER_WINDOW


class RfaCell(Base):
    """One public cell a request reaches: overlap with earlier requests is one indexed query."""

    __tablename__ = "rfa_cells"

    rfa_id: Mapped[str] = mapped_column(ForeignKey("rfas.id", ondelete="CASCADE"), primary_key=True)
    cell: Mapped[str] = mapped_column(String(16), primary_key=True, index=True)


class RfaRecipient(Base):
    """One owner asked by one request, and their answer; never shown to the agency."""

    __tablename__ = "rfa_recipients"

    rfa_id: Mapped[str] = mapped_column(ForeignKey("rfas.id", ondelete="CASCADE"), primary_key=True)
    owner_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    state: Mapped[str] = mapped_column(String(10), default=consent.AnswerState.PENDING.value)
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column()

    rfa: Mapped[Rfa] = relationship()


class ClipPreview(Base):
    """The redacted copy of a clip the owner previews, sealed with its own key."""

    __tablename__ = "clip_previews"

    clip_id: Mapped[str] = mapped_column(
        ForeignKey("clips.id", ondelete="CASCADE"), primary_key=True
    )
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: Wrapped by the master key; the row goes with the clip, so the preview is shredded too.
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    ciphertext_size: Mapped[int] = mapped_column(Integer)
    faces_found: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def blob_key(self) -> str:
        """Where the sealed preview lives."""
        return f"previews/{self.owner_id}/{self.clip_id}.mp4.sealed"


class Share(Base):
    """A redacted, watermarked copy of one clip an owner gave one request."""

    __tablename__ = "shares"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    rfa_id: Mapped[str] = mapped_column(ForeignKey("rfas.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    clip_id: Mapped[str | None] = mapped_column(
        ForeignKey("clips.id", ondelete="SET NULL"), index=True
    )
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Set only for named shares: what the agency sees of who shared.
    owner_name: Mapped[str | None] = mapped_column(String(80))
    clip_started_at: Mapped[datetime] = mapped_column()
    clip_ended_at: Mapped[datetime] = mapped_column()
    #: The agency copy's key wrapped by the master key; NULL once revoked or expired (shredded).
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    ciphertext_size: Mapped[int] = mapped_column(Integer)
    faces_found: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(10), default=consent.ShareState.ACTIVE.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    changed_at: Mapped[datetime | None] = mapped_column()
    downloaded_at: Mapped[datetime | None] = mapped_column()

    rfa: Mapped[Rfa] = relationship()

    @property
    def blob_key(self) -> str:
        """Where the sealed agency copy lives."""
        return f"shares/{self.id}.mp4.sealed"


class EvidenceAccess(Base):
    """An agency member viewed or downloaded a share; shown to the owner."""

    __tablename__ = "evidence_accesses"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    share_id: Mapped[str] = mapped_column(ForeignKey("shares.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    agency_id: Mapped[str] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(default=utcnow)


#: Targeting (``select_recipients``) reads cameras by public cell and opt-in, and only their ids
#: and owners: this index answers it alone. Its ``lat`` and ``lon`` columns are unused (positions
#: no longer decide who is asked); they stay only because migration 0005 made the index so.
TARGETING_INDEX = Index(
    "ix_cameras_targeting",
    Camera.cell,
    Camera.requests_opt_in,
    Camera.lat,
    Camera.lon,
    Camera.owner_id,
    Camera.id,
)


# --- geometry ------------------------------------------------------------------------------------


def polygon_geojson(shape: Polygon) -> dict[str, Any]:
    """A polygon as a GeoJSON geometry ([lon, lat] positions, closed rings)."""
    rings = []
    for ring in shape.rings():
        digits = geometry.STORED_DIGITS
        positions = [[round(lon, digits), round(lat, digits)] for lat, lon in ring]
        rings.append([*positions, positions[0]])
    return {"type": "Polygon", "coordinates": rings}


def cells_of(region_geojson: dict[str, Any], resolution: int) -> list[str]:
    """Cells at ``resolution`` that overlap a GeoJSON region.

    Every refusal is an ``InvalidInput`` on the field ``jurisdiction``: an outline too detailed to
    check, a malformed one, or one whose estimated cell count (from its area, outline length and
    bounding box) is over the limit, which is told before a single cell is listed.
    """
    try:
        # The outline's size is checked first, before any of it is parsed (the domain's one check).
        region = parse_geojson(region_geojson)
    except InvalidInput as err:
        raise InvalidInput(
            f"the jurisdiction is not valid: {err.detail}", field="jurisdiction"
        ) from err
    except (OverflowError, ValueError) as err:
        raise InvalidInput(
            "the jurisdiction is not a valid GeoJSON Polygon or MultiPolygon", field="jurisdiction"
        ) from err
    try:
        estimate, box = estimated_cells(region, resolution)
        if estimate > MAX_JURISDICTION_CELLS or box > MAX_BOUNDING_BOX_CELLS:
            raise _too_large(estimate, box)
        cells: set[str] = set()
        for shape in region.polygons:
            cells.update(geometry.cells_covering(shape, resolution))
            if len(cells) > MAX_JURISDICTION_CELLS:
                raise _too_large(len(cells), box)
    except (OverflowError, ValueError, h3.H3BaseException) as err:
        raise InvalidInput(
            "the jurisdiction could not be mapped to cells; check its outline", field="jurisdiction"
        ) from err
    return sorted(cells)


def _too_large(cells: int, box: int) -> InvalidInput:
    if cells > MAX_JURISDICTION_CELLS:
        detail = (
            f"the jurisdiction is too large to map: it covers about {cells:,} cells, and at most "
            f"{MAX_JURISDICTION_CELLS:,} are allowed; give the area your agency serves"
        )
    else:
        detail = (
            "the jurisdiction is too spread out to map: its outline spans a box of about "
            f"{box:,} cells, and at most {MAX_BOUNDING_BOX_CELLS:,} are allowed"
        )
    return InvalidInput(
        detail,
        field="jurisdiction",
        extra={
            "estimated_cells": cells,
            "max_cells": MAX_JURISDICTION_CELLS,
            "bounding_box_cells": box,
            "max_bounding_box_cells": MAX_BOUNDING_BOX_CELLS,
        },
    )


def _ring_box(ring: geometry.Ring) -> tuple[float, float, float, float]:
    """South, west, north, east bounds of a ring."""
    lats = [lat for lat, _ in ring]
    lons = [lon for _, lon in ring]
    return min(lats), min(lons), max(lats), max(lons)


def _ring_length_m(ring: geometry.Ring) -> float:
    return sum(
        float(h3.great_circle_distance(a, b, unit="m"))
        for a, b in zip(ring, (*ring[1:], ring[0]), strict=True)
    )


def _box_area_m2(ring: geometry.Ring) -> float:
    """The area of the latitude-longitude box around a ring, across the antimeridian if narrower."""
    south, west, north, east = _ring_box(ring)
    span = east - west
    if span > 180:
        # Read the other way round, as h3 does: the ring crosses the antimeridian.
        shifted = [lon % 360 for _, lon in ring]
        span = max(shifted) - min(shifted)
    band = abs(math.sin(math.radians(north)) - math.sin(math.radians(south)))
    return geometry.EARTH_RADIUS_M**2 * math.radians(span) * band


def estimated_cells(region: geometry.Region, resolution: int) -> tuple[int, int]:
    """Estimate, without listing any, the cells covering a region and the cells in its boxes.

    The first counts cells inside the outer rings (holes are ignored: h3 still walks them) and
    half the cells along every ring (about half of those have their centre outside, and only
    those add to the cells inside); the second the cells of the polygons' bounding boxes, which
    bound the work of listing them. Both err low, so a region is never refused on a guess alone.
    """
    cells = box = 0.0
    for shape in region.polygons:
        south, west, north, east = _ring_box(shape.exterior)
        near = [shape.exterior[0], ((south + north) / 2, (west + east) / 2)]
        cells += geo.cells_in_area(geometry.ring_area_m2(shape.exterior), resolution, near)
        outline_m = sum(_ring_length_m(ring) for ring in shape.rings())
        cells += geo.cells_along(outline_m, resolution) / 2
        box += geo.cells_in_area(_box_area_m2(shape.exterior), resolution, near)
    return math.floor(cells), math.floor(box)


def bounding_box(shape: Circle | Polygon) -> tuple[float, float, float, float]:
    """South, west, north, east bounds of an area (a circle's enclosing polygon)."""
    outline = geometry.circle_polygon(shape) if isinstance(shape, Circle) else shape
    lats = [lat for lat, _ in outline.exterior]
    lons = [lon for _, lon in outline.exterior]
    return min(lats), min(lons), max(lats), max(lons)


# --- agencies ------------------------------------------------------------------------------------


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
) -> Agency:
    """Apply for an agency; the applicant becomes its admin once a Doorstep admin verifies it."""
    if membership(db, applicant) is not None:
        raise Conflict("this account already belongs to an agency")
    if applicant.role in REVIEWERS:
        raise Forbidden("platform staff cannot apply for an agency")
    clean_name = _clean(name, field="name", limit=120, what="the agency's name")
    try:
        agency_kind = AgencyKind(kind)
    except ValueError as err:
        raise InvalidInput("the kind is law_enforcement or fire", field="kind") from err
    check_agency_name(clean_name)
    # "Portland Pоlice Bureau" (a Cyrillic o) is the name of the agency that already has it.
    key = name_key(clean_name)
    if any(name_key(other) == key for other in db.scalars(select(Agency.name))):
        raise Conflict("an agency with that name already exists", extra={"field": "name"})
    cells = cells_of(jurisdiction, cell_resolution)
    agency = Agency(
        name=clean_name,
        kind=agency_kind.value,
        jurisdiction=jurisdiction,
        cells=cells,
        contact=_clean(contact, field="contact", limit=254, what="the contact"),
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


def decide(db: Session, agency_id: str, reviewer: User, *, verify: bool) -> Agency:
    """Verify or reject an application; a verified agency's applicant becomes its admin."""
    agency = get_agency(db, agency_id)
    if agency.status != AgencyStatus.APPLIED.value:
        raise Conflict(f"this agency is already {agency.status}")
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


# --- requests ------------------------------------------------------------------------------------


def requests_for_case(db: Session, agency: Agency, case_number: str) -> int:
    """How many requests the agency already made for a case, however the number was written.

    Requests are counted by ``case_key``, so "rt case 7", "RT-CASE-７" and "RT-CАSE-7" are one
    case. The agency's row is locked first (on PostgreSQL) so that requests sent at the same
    moment are counted one after another.
    """
    db.execute(select(Agency.id).where(Agency.id == agency.id).with_for_update())
    query = (
        select(func.count())
        .select_from(Rfa)
        .where(Rfa.agency_id == agency.id, Rfa.case_key == case_key(case_number))
    )
    return int(db.scalar(query) or 0)


def create_rfa(
    db: Session,
    agency: Agency,
    author: User,
    draft: RfaDraft,
    *,
    cell_resolution: int,
    now: datetime | None = None,
) -> tuple[Rfa, ValidatedRfa]:
    """Check a draft against the policy and store it; ``PolicyRefused`` says why not."""
    moment = now or utcnow()
    checked = check_rfa(
        draft,
        jurisdiction=parse_geojson(agency.jurisdiction),
        existing_for_case=requests_for_case(db, agency, draft.case_number),
        now=moment,
        resolution=cell_resolution,
    )
    if len(checked.case_number) > 60:
        raise InvalidInput("a case number is at most 60 characters", field="case_number")
    if not checked.incident_type or len(checked.incident_type) > 80:
        raise InvalidInput("name the kind of incident (1 to 80 characters)", field="incident_type")
    if not checked.description or len(checked.description) > 4000:
        raise InvalidInput("describe the incident (1 to 4000 characters)", field="description")
    refuse_near_duplicate(db, agency, checked.cells, moment)
    circle = checked.area if isinstance(checked.area, Circle) else None
    shape = checked.polygon
    rfa = Rfa(
        agency_id=agency.id,
        author_id=author.id,
        case_number=checked.case_number,
        case_key=checked.case_key,
        incident_type=checked.incident_type,
        description=checked.description,
        area=polygon_geojson(shape),
        circle_lat=circle.centre.lat if circle else None,
        circle_lon=circle.centre.lon if circle else None,
        circle_radius_m=circle.radius_m if circle else None,
        area_sq_mi=round(checked.area_sq_mi, 4),
        cells=sorted(checked.cells),
        window_start=checked.start,
        window_end=checked.end,
        created_at=moment,
    )
    db.add(rfa)
    db.flush()
    db.add_all(RfaCell(rfa_id=rfa.id, cell=cell) for cell in rfa.cells)
    db.flush()
    return rfa, checked


def refuse_near_duplicate(db: Session, agency: Agency, cells: Iterable[str], now: datetime) -> None:
    """``PolicyRefused`` when the cells nearly repeat an earlier request of the same agency.

    Earlier means made within ``NEAR_DUPLICATE_HORIZON``. Two such requests' counts differ by
    the owners of the few cells only one of them covers: asked in turn, they would point at a
    cell's households (I1, I3). The same cells again are allowed: they ask the same owners.
    """
    mine = sorted(set(cells))
    if not mine:
        return
    since = now - disclosure_counts.NEAR_DUPLICATE_HORIZON
    shared: dict[str, int] = {}
    for start in range(0, len(mine), CELL_SLICE):
        query = (
            select(RfaCell.rfa_id, func.count())
            .join(Rfa, Rfa.id == RfaCell.rfa_id)
            .where(
                Rfa.agency_id == agency.id,
                Rfa.created_at >= since,
                RfaCell.cell.in_(mine[start : start + CELL_SLICE]),
            )
            .group_by(RfaCell.rfa_id)
        )
        for rfa_id, n in db.execute(query):
            shared[rfa_id] = shared.get(rfa_id, 0) + int(n)
    if not shared:
        return
    sizes = dict(
        db.execute(
            select(RfaCell.rfa_id, func.count())
            .where(RfaCell.rfa_id.in_(list(shared)))
            .group_by(RfaCell.rfa_id)
        ).all()
    )
    for rfa_id, overlap in sorted(shared.items()):
        if disclosure_counts.near_duplicate(len(mine), int(sizes[rfa_id]), overlap):
            days = disclosure_counts.NEAR_DUPLICATE_HORIZON.days
            raise PolicyRefused(
                "this area nearly repeats one of your agency's requests from the last "
                f"{days} days: it shares most of its cells but not all. Ask about exactly the "
                "same area again, or about an area that shares at most half its cells with it",
                field="area",
                extra={"reason": "overlaps_earlier_request", "request": rfa_id},
            )


def select_recipients(db: Session, cells: Iterable[str]) -> dict[str, list[str]]:
    """Owners of opted-in cameras whose public cell is one of ``cells``: owner id to camera ids.

    ``cells`` are a request's (``ValidatedRfa.cells``: none reaches past the jurisdiction). The
    public cell alone decides (I1): every camera in a cell is asked, or none. An exact
    position test here would let an outline with a hole the size of one house, drawn and moved
    from request to request, tell that house's camera from its neighbours'.
    """
    chosen = sorted(set(cells))
    found: dict[str, list[str]] = {}
    for start in range(0, len(chosen), CELL_SLICE):
        query = select(Camera.id, Camera.owner_id).where(
            Camera.cell.in_(chosen[start : start + CELL_SLICE]), Camera.requests_opt_in
        )
        for camera_id, owner_id in db.execute(query):
            found.setdefault(owner_id, []).append(camera_id)
    return found


def ask_owners(db: Session, rfa: Rfa) -> list[str]:
    """Record every owner the request reaches; returns their ids (for notifications only)."""
    owners = sorted(select_recipients(db, rfa.cells))
    db.add_all(
        RfaRecipient(rfa_id=rfa.id, owner_id=owner, asked_at=rfa.created_at) for owner in owners
    )
    db.flush()
    return owners


def close_rfa(db: Session, rfa: Rfa) -> Rfa:
    """Close a request early: no more answers; what was shared stays shared."""
    if rfa.closed_at is not None:
        raise Conflict("this request is already closed")
    rfa.closed_at = utcnow()
    db.flush()
    return rfa


def get_rfa(db: Session, rfa_id: str) -> Rfa:
    """A request of a verified agency (requests are public)."""
    rfa = db.get(Rfa, rfa_id)
    if rfa is None or rfa.agency.status != AgencyStatus.VERIFIED.value:
        raise NotFound("no such request")
    return rfa


def agency_rfas(db: Session, agency: Agency) -> list[Rfa]:
    """Every request the agency made, newest first."""
    query = select(Rfa).where(Rfa.agency_id == agency.id).order_by(Rfa.created_at.desc())
    return list(db.scalars(query))


@dataclass(frozen=True, slots=True)
class RfaCounts:
    """How many owners were asked and how many shared, exactly; only ``public_counts`` leaves."""

    asked: int
    shared: int
    clips: int


@dataclass(frozen=True, slots=True)
class PublicCounts:
    """What anyone may know of a request's answers (I3); the same for the agency and the public.

    Every count is a coarse range (``disclosure_counts.coarse``), every one below ``k`` withheld
    as "fewer than k", zero included: over one or two cameras "asked 1, shared 0" would tell
    who declined. ``k`` is the camera map's threshold. Declines and silence are never counted.
    """

    asked: CountRange
    shared: CountRange
    clips: CountRange
    k: int


def public_counts(counts: RfaCounts, k: int) -> PublicCounts:
    """The counts of one request as anyone but the server may see them."""
    return PublicCounts(
        asked=disclosure_counts.coarse(counts.asked, k),
        shared=disclosure_counts.coarse(counts.shared, k),
        clips=disclosure_counts.coarse(counts.clips, k),
        k=k,
    )


@dataclass(frozen=True, slots=True)
class PublicTotals:
    """An agency's record, added up from its requests' public ranges only.

    Each total is the sum of the shown ranges' bounds: worked out from what each request
    already shows, it cannot give a withheld or bucketed count away by subtraction.
    """

    requests: int
    asked: CountRange
    shared: CountRange
    clips: CountRange
    k: int


def public_totals(counts: Iterable[PublicCounts], k: int) -> PublicTotals:
    """Totals over some requests' public counts."""
    rows = list(counts)
    if any(row.k != k for row in rows):
        raise ValueError("counts withheld under another k cannot be added up under this one")
    return PublicTotals(
        requests=len(rows),
        asked=disclosure_counts.total((row.asked for row in rows), k),
        shared=disclosure_counts.total((row.shared for row in rows), k),
        clips=disclosure_counts.total((row.clips for row in rows), k),
        k=k,
    )


def rfa_counts(db: Session, rfa_ids: Sequence[str]) -> dict[str, RfaCounts]:
    """Counts per request; declines and silence are one number nobody can split (I3)."""
    if not rfa_ids:
        return {}
    ids = list(rfa_ids)
    asked: dict[str, int] = dict(
        db.execute(
            select(RfaRecipient.rfa_id, func.count())
            .where(RfaRecipient.rfa_id.in_(ids))
            .group_by(RfaRecipient.rfa_id)
        ).all()
    )
    shared: dict[str, int] = dict(
        db.execute(
            select(Share.rfa_id, func.count(func.distinct(Share.owner_id)))
            .where(Share.rfa_id.in_(ids))
            .group_by(Share.rfa_id)
        ).all()
    )
    clips: dict[str, int] = dict(
        db.execute(
            select(Share.rfa_id, func.count()).where(Share.rfa_id.in_(ids)).group_by(Share.rfa_id)
        ).all()
    )
    return {
        rid: RfaCounts(int(asked.get(rid, 0)), int(shared.get(rid, 0)), int(clips.get(rid, 0)))
        for rid in ids
    }


# --- owners' answers -----------------------------------------------------------------------------


def owner_requests(db: Session, owner: User) -> list[RfaRecipient]:
    """Requests that reached ``owner``, newest first."""
    query = (
        select(RfaRecipient)
        .join(Rfa, Rfa.id == RfaRecipient.rfa_id)
        .where(RfaRecipient.owner_id == owner.id)
        .order_by(Rfa.created_at.desc())
    )
    return list(db.scalars(query))


def recipient(db: Session, owner: User, rfa_id: str) -> RfaRecipient:
    """The owner's place on a request's list, or NotFound."""
    row = db.get(RfaRecipient, (rfa_id, owner.id))
    if row is None:
        raise NotFound("no such request among yours")
    return row


def answer_of(row: RfaRecipient) -> consent.OwnerAnswer:
    """The row as the domain's answer."""
    rfa = row.rfa
    respond_by = rfa.created_at + ANSWER_WINDOW
    if rfa.closed_at is not None:
        respond_by = min(respond_by, rfa.closed_at)
    return consent.OwnerAnswer(
        request_id=row.rfa_id,
        owner_id=row.owner_id,
        respond_by=respond_by,
        state=consent.AnswerState(row.state),
        answered_at=row.answered_at,
    )


def answer_state(row: RfaRecipient, now: datetime | None = None) -> consent.AnswerState:
    """Where the owner stands on the request now."""
    return consent.answer_state(answer_of(row), now or utcnow())


def clips_in_request(db: Session, owner: User, rfa: Rfa) -> list[Clip]:
    """The owner's clips from cameras in the request's cells that overlap the window, oldest first.

    The same rule as who is asked: a camera is in the request when its public cell is.
    """
    reached = set(rfa.cells)
    cameras = [camera.id for camera in owner.cameras if camera.cell in reached]
    if not cameras:
        return []
    query = select(Clip).where(
        Clip.camera_id.in_(cameras),
        Clip.owner_id == owner.id,
        Clip.started_at < rfa.window_end,
        Clip.ended_at > rfa.window_start,
        Clip.wrapped_key.is_not(None),
        Clip.e2e.is_(False),
    )
    return list(db.scalars(query.order_by(Clip.started_at)))


def decline(db: Session, row: RfaRecipient) -> RfaRecipient:
    """Decline a request; nothing the agency can read changes except that nobody shared."""
    answered = consent.decline(answer_of(row), utcnow())
    row.state = answered.state.value
    row.answered_at = answered.answered_at
    db.flush()
    return row


def mark_shared(db: Session, row: RfaRecipient) -> consent.OwnerAnswer:
    """Record that the owner agreed to share for this request."""
    answered = consent.share(answer_of(row), utcnow())
    row.state = answered.state.value
    row.answered_at = answered.answered_at
    db.flush()
    return answered


def share_domain(share: Share) -> consent.Share:
    """The row as the domain's share."""
    return consent.Share(
        share_id=share.id,
        request_id=share.rfa_id,
        owner_id=share.owner_id,
        created_at=share.created_at,
        expires_at=share.expires_at,
        state=consent.ShareState(share.state),
        changed_at=share.changed_at,
    )


def share_state(share: Share, now: datetime | None = None) -> consent.ShareState:
    """Where a share stands now, an active one past its end counted as expired."""
    return consent.share_state(share_domain(share), now or utcnow())


def is_preparing(share: Share) -> bool:
    """Whether the share's agency copy is still being made (open, but no key yet)."""
    return share.state == consent.ShareState.ACTIVE.value and share.wrapped_key is None


def preparing_shares(db: Session, created_before: datetime) -> list[str]:
    """Ids of shares still preparing that were opened before ``created_before``."""
    query = select(Share.id).where(
        Share.state == consent.ShareState.ACTIVE.value,
        Share.wrapped_key.is_(None),
        Share.created_at < created_before,
    )
    return list(db.scalars(query.order_by(Share.created_at)))


def owner_share(db: Session, owner: User, share_id: str) -> Share:
    """One of the owner's shares, or NotFound."""
    share = db.get(Share, share_id)
    if share is None or share.owner_id != owner.id:
        raise NotFound("no such share among yours")
    return share


def owner_shares(db: Session, owner: User) -> list[Share]:
    """Everything the owner ever shared, newest first."""
    query = select(Share).where(Share.owner_id == owner.id).order_by(Share.created_at.desc())
    return list(db.scalars(query))


def accesses_for(db: Session, share_ids: Sequence[str]) -> dict[str, list[EvidenceAccess]]:
    """Every view and download of some shares, oldest first."""
    result: dict[str, list[EvidenceAccess]] = {share_id: [] for share_id in share_ids}
    if not share_ids:
        return result
    query = (
        select(EvidenceAccess)
        .where(EvidenceAccess.share_id.in_(list(share_ids)))
        .order_by(EvidenceAccess.at)
    )
    for access in db.scalars(query):
        result[access.share_id].append(access)
    return result


def _move(db: Session, share: Share, changed: consent.Share, **columns: Any) -> Share:
    """Apply the rule's new state only if the row still holds the state it was decided from.

    One conditional UPDATE: a download finishing while the owner revokes cannot both succeed,
    whichever database and whichever order (the loser gets 409 and the current state).
    """
    moved = db.execute(
        update(Share)
        .where(Share.id == share.id, Share.state == share.state)
        .values(state=changed.state.value, changed_at=changed.changed_at, **columns)
        .execution_options(synchronize_session=False)
    )
    db.refresh(share)
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"this share is {share.state} now; it cannot become {changed.state.value}")
    return share


def revoke(db: Session, share: Share) -> Share:
    """Withdraw a share the agency has not downloaded; its copy's key is destroyed."""
    changed = consent.revoke(share_domain(share), utcnow())
    return _move(db, share, changed, wrapped_key=None)


def expire_shares(db: Session, now: datetime | None = None) -> list[Share]:
    """Close active shares past their end and destroy their copies' keys; returns them."""
    moment = now or utcnow()
    query = select(Share).where(
        Share.state == consent.ShareState.ACTIVE.value, Share.expires_at <= moment
    )
    expired = list(db.scalars(query))
    for share in expired:
        changed = consent.expire_share(share_domain(share), moment)
        share.state = changed.state.value
        share.changed_at = changed.changed_at
        share.wrapped_key = None
    # A downloaded share stays "downloaded" in the owner's history, but Doorstep's own copy
    # goes at the end of its lifetime too: no copy is kept past it (invariant I6).
    spent = select(Share).where(
        Share.state == consent.ShareState.DOWNLOADED.value,
        Share.expires_at <= moment,
        Share.wrapped_key.is_not(None),
    )
    for share in db.scalars(spent):
        share.wrapped_key = None
        expired.append(share)
    db.flush()
    return expired


# --- the evidence locker -------------------------------------------------------------------------


def locker(db: Session, agency: Agency) -> list[Share]:
    """Shares the agency may open now: active or downloaded, newest first."""
    now = utcnow()
    query = (
        select(Share)
        .join(Rfa, Rfa.id == Share.rfa_id)
        .where(
            Rfa.agency_id == agency.id,
            Share.state.in_([consent.ShareState.ACTIVE.value, consent.ShareState.DOWNLOADED.value]),
            Share.expires_at > now,
            # A share still preparing has nothing to open yet.
            Share.wrapped_key.is_not(None),
        )
        .order_by(Share.created_at.desc())
    )
    return list(db.scalars(query))


def evidence(db: Session, agency: Agency, share_id: str) -> Share:
    """A share in the agency's locker; another agency's or a closed one is NotFound (I2)."""
    share = db.get(Share, share_id)
    if share is None or share.rfa.agency_id != agency.id or share.wrapped_key is None:
        raise NotFound("no such evidence")
    if share_state(share) not in (consent.ShareState.ACTIVE, consent.ShareState.DOWNLOADED):
        raise NotFound("no such evidence")
    return share


def record_access(
    db: Session, share: Share, agency: Agency, member: User, action: EvidenceAction
) -> EvidenceAccess:
    """Note a view or download; a first download ends the owner's chance to revoke."""
    now = utcnow()
    if action is EvidenceAction.DOWNLOAD and share.state == consent.ShareState.ACTIVE.value:
        _move(db, share, consent.mark_downloaded(share_domain(share), now), downloaded_at=now)
    access = EvidenceAccess(
        share_id=share.id, user_id=member.id, agency_id=agency.id, action=action.value, at=now
    )
    db.add(access)
    db.flush()
    return access


#: Range requests by the same member within this time count as one viewing.
VIEWING_WINDOW = timedelta(minutes=30)


def recently_viewed(db: Session, share: Share, member: User) -> bool:
    """Whether ``member`` opened ``share`` within the viewing window (one record per viewing)."""
    since = utcnow() - VIEWING_WINDOW
    query = select(EvidenceAccess.id).where(
        EvidenceAccess.share_id == share.id,
        EvidenceAccess.user_id == member.id,
        EvidenceAccess.at >= since,
    )
    return db.scalar(query.limit(1)) is not None


def serve_share(
    db: Session, share: Share, reader: User, first: int, last: int
) -> served_bytes.Coverage:
    """Record bytes ``first..last`` of the share's copy as served to ``reader`` (I2, I5).

    The piece is written first and the share row locked next, so two pieces served at once are
    counted together. Once the pieces cover the whole file the share is downloaded: the owner
    can no longer revoke it (the caller records the download and tells the owner).
    """
    piece = served_bytes.insert_piece(
        db, first=first, last=last, reader_id=reader.id, share_id=share.id
    )
    locked = db.scalar(
        select(Share)
        .where(Share.id == share.id)
        # FOR NO KEY UPDATE on PostgreSQL: the piece's foreign key already holds a key-share
        # lock on this row, which a plain FOR UPDATE would wait on (two pieces: a deadlock).
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    open_states = (consent.ShareState.ACTIVE, consent.ShareState.DOWNLOADED)
    if locked is None or locked.wrapped_key is None or share_state(locked) not in open_states:
        # Revoked, withdrawn or expired while this request waited: nothing leaves.
        raise NotFound("no such evidence")
    coverage = served_bytes.coverage(db, piece, locked.size)
    if coverage.whole and locked.state == consent.ShareState.ACTIVE.value:
        now = utcnow()
        _move(db, locked, consent.mark_downloaded(share_domain(locked), now), downloaded_at=now)
    return coverage


def share_by_hash(db: Session, sha256: str) -> Share | None:
    """The share whose delivered file has this SHA-256, if any."""
    return db.scalar(select(Share).where(Share.sha256 == sha256.lower()))


def jurisdiction_outline(agency: Agency) -> list[list[tuple[float, float]]]:
    """The jurisdiction's outer rings as (lat, lon) lists, for drawing."""
    region = parse_geojson(agency.jurisdiction)
    return [list(shape.exterior) for shape in region.polygons]


def cell_boundary(cell: str) -> list[tuple[float, float]]:
    """A cell's corners as (lat, lon)."""
    return [(float(lat), float(lon)) for lat, lon in h3.cell_to_boundary(cell)]
