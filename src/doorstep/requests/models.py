"""Requests for Assistance, the owners asked, their shares and every access: the tables."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from doorstep.agencies.models import Agency
from doorstep.cameras.models import Camera
from doorstep.geo.cells import Coordinates
from doorstep.platform.orm import Base
from doorstep.platform.types import new_id, utcnow
from doorstep.requests import consent
from doorstep.requests.rules import (
    ANSWER_WINDOW,
    CASE_NUMBER_MAX_LENGTH,
    INCIDENT_TYPE_MAX_LENGTH,
    Circle,
    Polygon,
    parse_geojson,
)
from doorstep.requests.rules_terms import TERMS_VERSION
from doorstep.text.normalize import CASE_KEY_MAX_LENGTH


class EvidenceAction(StrEnum):
    """What an agency member did with shared footage."""

    VIEW = "view"
    DOWNLOAD = "download"


class Rfa(Base):
    """A Request for Assistance: public, never edited or deleted, only closed early."""

    __tablename__ = "rfas"
    __table_args__ = (Index("ix_rfas_agency_id_case_key", "agency_id", "case_key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id", ondelete="RESTRICT"))
    author_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    case_number: Mapped[str] = mapped_column(String(CASE_NUMBER_MAX_LENGTH))
    #: One key for every way of writing the case number: the per-case limit counts by it.
    case_key: Mapped[str] = mapped_column(String(CASE_KEY_MAX_LENGTH))
    incident_type: Mapped[str] = mapped_column(String(INCIDENT_TYPE_MAX_LENGTH))
    #: A key of the public ``OFFENCE_CATEGORIES``; requests from before categories read "".
    offence_category: Mapped[str] = mapped_column(String(24), default="", index=True)
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


#: The redaction of previews made before the method was recorded: faces blurred.
LEGACY_PREVIEW_METHOD = "faces-blurred"


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
    #: How it was redacted (``media.redact.METHOD``); previews from before methods were kept
    #: are ``LEGACY_PREVIEW_METHOD`` (faces blurred).
    method: Mapped[str] = mapped_column(String(24), default=LEGACY_PREVIEW_METHOD)

    @property
    def blob_key(self) -> str:
        """Where the sealed preview lives: a place per method, so a remade one overwrites none."""
        if self.method == LEGACY_PREVIEW_METHOD:
            return f"previews/{self.owner_id}/{self.clip_id}.mp4.sealed"
        return f"previews/{self.owner_id}/{self.clip_id}.{self.method}.mp4.sealed"


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
    #: The onward-use terms (``rules_terms``) the copy left with; NULL for shares from before.
    terms_version: Mapped[str | None] = mapped_column(String(16), default=TERMS_VERSION)

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


class StandingGrant(Base):
    """An owner's standing access for a request's case to one camera: clips after it only."""

    __tablename__ = "standing_grants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    rfa_id: Mapped[str] = mapped_column(ForeignKey("rfas.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), index=True)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    ends_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None] = mapped_column()

    rfa: Mapped[Rfa] = relationship()

    def domain(self) -> consent.StandingGrant:
        """The grant as the consent rules read it; the case closes with its request."""
        closes = self.rfa.created_at + ANSWER_WINDOW
        if self.rfa.closed_at is not None:
            closes = min(closes, self.rfa.closed_at)
        return consent.StandingGrant(
            granted_at=self.granted_at,
            ends_at=self.ends_at,
            revoked_at=self.revoked_at,
            case_closes_at=closes,
        )
