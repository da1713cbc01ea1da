"""Accounts' tables: people, their sessions and tokens, owner keys, sign-in throttles, email."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from doorstep.accounts.roles import Role
from doorstep.platform.orm import Base
from doorstep.platform.types import new_id, utcnow

if TYPE_CHECKING:
    from doorstep.cameras.models import Camera


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
    #: When a link mailed to ``email`` was followed; None while the address is unproven.
    email_verified_at: Mapped[datetime | None] = mapped_column()

    sessions: Mapped[list[BrowserSession]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    cameras: Mapped[list[Camera]] = relationship(
        back_populates="owner", cascade="all, delete-orphan", passive_deletes=True
    )
    notice_targets: Mapped[list[NoticeTarget]] = relationship(
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="NoticeTarget.created_at, NoticeTarget.id",
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


class EmailLink(Base):
    """A single-use link mailed to an address: to verify it, or to reset the password.

    Only the SHA-256 of the link's secret is kept; the secret itself is made again from the
    row id with the master key when the mail is written (``platform.sealed.derived_secret``).
    """

    __tablename__ = "email_links"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    #: The address the link went to: following it proves this address, not a later one.
    email: Mapped[str] = mapped_column(String(254))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None] = mapped_column()


class SeenBrowser(Base):
    """A browser that signed in to an account before: its next sign-in sends no "new sign-in" mail.

    ``key`` is a keyed hash of the account and the browser's device id (its known-device
    cookie), so the table names neither a browser nor an address.
    """

    __tablename__ = "seen_browsers"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    last_seen_at: Mapped[datetime] = mapped_column()


class NoticeTarget(Base):
    """An Apprise URL the account added as an extra notification target, sealed at rest."""

    __tablename__ = "notice_targets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: The URL (which may hold a password or token) under a master-key-derived key.
    sealed_url: Mapped[bytes] = mapped_column(LargeBinary)
    #: What the account page shows: the scheme and host, never the secret parts.
    masked: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_failure: Mapped[str | None] = mapped_column(String(200))


# The tables named in relationships above are mapped whenever these are (SQLAlchemy resolves
# the names when first queried); imported last because they refer back to this module.
from doorstep.cameras import models as _cameras_models  # noqa: E402, F401
