"""Cameras' tables: paired cameras, pairing codes and the household members who may view them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from doorstep.platform.orm import Base
from doorstep.platform.types import new_id, utcnow

if TYPE_CHECKING:
    from doorstep.accounts.models import User
    from doorstep.clips.models import Clip


class Camera(Base):
    """A camera an owner paired; its exact position is the owner's alone (invariant I1)."""

    __tablename__ = "cameras"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    cell: Mapped[str | None] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    paired_at: Mapped[datetime | None] = mapped_column()
    last_seen_at: Mapped[datetime | None] = mapped_column()
    agent_version: Mapped[str | None] = mapped_column(String(40))
    #: Polygons in normalised frame coordinates: [[[x, y], ...], ...].
    motion_zones: Mapped[list[Any]] = mapped_column(JSON, default=list)
    privacy_zones: Mapped[list[Any]] = mapped_column(JSON, default=list)
    audio_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    alert_mode: Mapped[str] = mapped_column(String(10), default="all")
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    #: The IANA zone quiet hours are read in (the owner's browser's when they saved them).
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    #: Days alerts are kept; detections and motion-only clips keep theirs, or this when NULL.
    retention_days: Mapped[int] = mapped_column(Integer, default=30)
    detection_retention_days: Mapped[int | None] = mapped_column(Integer)
    motion_retention_days: Mapped[int | None] = mapped_column(Integer)
    #: Named zones objects must enter: [{"name": "porch", "polygon": [[x, y], ...]}, ...].
    detection_zones: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: Per label: {"person": {"mode": "alert", "zones": ["porch"], "dwell_seconds": 5}}; {} is
    #: the defaults (cameras.rules).
    object_rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ignore_stationary: Mapped[bool] = mapped_column(Boolean, default=True)
    requests_opt_in: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Inside the home: a legal demand reaches it only by naming it explicitly (legal.rules).
    indoor: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    e2e_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Salt of the passphrase key and a check value; the key itself never reaches the server.
    e2e_salt: Mapped[str | None] = mapped_column(String(64))
    e2e_check: Mapped[str | None] = mapped_column(String(64))
    #: Bumped on every settings change so agents know to fetch the new configuration.
    config_version: Mapped[int] = mapped_column(Integer, default=1)

    owner: Mapped[User] = relationship(back_populates="cameras")
    clips: Mapped[list[Clip]] = relationship(
        back_populates="camera", cascade="all, delete-orphan", passive_deletes=True
    )


class PairingCode(Base):
    """A one-time code that lets an agent claim a camera; only its digest is kept."""

    __tablename__ = "pairing_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()


class HouseholdMember(Base):
    """Someone the owner lets view (never share or delete) one camera's clips, and maybe live."""

    __tablename__ = "household_members"

    camera_id: Mapped[str] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Whether the owner lets this member see the camera live and answer its rings (audited).
    live_view: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    user: Mapped[User] = relationship()


# The tables named in relationships above are mapped whenever these are (SQLAlchemy resolves
# the names when first queried); imported last because they refer back to this module.
from doorstep.accounts import models as _accounts_models  # noqa: E402, F401
from doorstep.clips import models as _clips_models  # noqa: E402, F401
