"""SQLAlchemy models: the tables Doorstep keeps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from doorstep.accounts.roles import Role
from doorstep.platform.types import UTCDateTime, new_id, utcnow

# Named constraints so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every table."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[str]: JSON}


class User(Base):
    """An account. The home position is exact and private to the account (invariant I1)."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(20), default=Role.RESIDENT.value)
    home_lat: Mapped[float | None] = mapped_column(Float)
    home_lon: Mapped[float | None] = mapped_column(Float)
    home_cell: Mapped[str | None] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    sessions: Mapped[list[BrowserSession]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    cameras: Mapped[list[Camera]] = relationship(
        back_populates="owner", cascade="all, delete-orphan", passive_deletes=True
    )


class BrowserSession(Base):
    """A logged-in browser; the cookie holds a secret whose SHA-256 is the key here."""

    __tablename__ = "browser_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()

    user: Mapped[User] = relationship(back_populates="sessions")


class ApiToken(Base):
    """A bearer token for a device or a script; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column()
    camera_id: Mapped[str | None] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), index=True
    )

    user: Mapped[User] = relationship(back_populates="tokens")
    #: The camera a device token speaks for; loaded with the token (see accounts.token_for).
    camera: Mapped[Camera | None] = relationship(viewonly=True)


class ThrottleCounter(Base):
    """Recent attempts of one throttled source (kept across processes; accounts/throttle_rules.py).

    ``key`` is a keyed hash of the kind and the source (a client address, an email, a device),
    so the table names no address and no email.
    """

    __tablename__ = "throttle_counters"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime] = mapped_column()
    last_hit_at: Mapped[datetime] = mapped_column(index=True)


class KnownAddress(Base):
    """A client address that signed in to an account before: others' failures do not hold it up.

    ``key`` is a keyed hash of the account id and the address (an IPv6 client's /64), so the
    table names no address; rows go after ``domain.throttle.KNOWN_ADDRESS_DAYS`` unused, and an
    account keeps at most ``KNOWN_ADDRESSES_PER_ACCOUNT``.
    """

    __tablename__ = "known_addresses"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    last_seen_at: Mapped[datetime] = mapped_column(index=True)


class OwnerKey(Base):
    """An owner's data key, wrapped by the server master key; destroying it shreds every clip."""

    __tablename__ = "owner_keys"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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
    retention_days: Mapped[int] = mapped_column(Integer, default=30)
    requests_opt_in: Mapped[bool] = mapped_column(Boolean, default=False)
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


class Clip(Base):
    """A recorded event; its video and snapshot are sealed with the clip's own key."""

    __tablename__ = "clips"
    __table_args__ = (UniqueConstraint("camera_id", "content_sha256"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime] = mapped_column()
    peak_motion: Mapped[float] = mapped_column(Float, default=0.0)
    labels: Mapped[list[str]] = mapped_column(default=list)
    content_sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    ciphertext_size: Mapped[int] = mapped_column(Integer)
    snapshot_size: Mapped[int] = mapped_column(Integer, default=0)
    #: The clip key wrapped by the owner's data key; NULL once shredded.
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    has_audio: Mapped[bool] = mapped_column(Boolean, default=False)
    e2e: Mapped[bool] = mapped_column(Boolean, default=False)
    width: Mapped[int] = mapped_column(Integer, default=0)
    height: Mapped[int] = mapped_column(Integer, default=0)
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)

    camera: Mapped[Camera] = relationship(back_populates="clips")

    @property
    def video_key(self) -> str:
        """Blob key of the sealed video."""
        return f"clips/{self.owner_id}/{self.id}.mp4.sealed"

    @property
    def snapshot_key(self) -> str:
        """Blob key of the sealed snapshot."""
        return f"clips/{self.owner_id}/{self.id}.jpg.sealed"


class HouseholdMember(Base):
    """Someone the owner lets view (never share or delete) one camera's clips."""

    __tablename__ = "household_members"

    camera_id: Mapped[str] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()
