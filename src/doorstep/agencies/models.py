"""Agencies and their members: the tables."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from doorstep.accounts.models import User
from doorstep.agencies.rules import CONTACT_MAX_LENGTH, NAME_MAX_LENGTH
from doorstep.platform.orm import Base
from doorstep.platform.types import new_id, utcnow


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


class Agency(Base):
    """A police or fire agency with a jurisdiction; public once verified."""

    __tablename__ = "agencies"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    #: ``rules_policy.AGENCY_LEVELS``: stated on the application, confirmed at verification.
    level: Mapped[str] = mapped_column(String(10), default="local")
    #: The jurisdiction as a GeoJSON Polygon or MultiPolygon.
    jurisdiction: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: Cells at the public resolution that overlap the jurisdiction.
    cells: Mapped[list[str]] = mapped_column(JSON, default=list)
    contact: Mapped[str] = mapped_column(String(CONTACT_MAX_LENGTH))
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
