"""Bystander requests and the owners they asked: the tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from doorstep.bystanders.rules import DESCRIPTION_MAX_LENGTH, Decision
from doorstep.platform.orm import Base
from doorstep.platform.types import new_id, utcnow

#: An owner who has not answered yet.
PENDING = "pending"


class BystanderRequest(Base):
    """A stranger's request to blur or delete footage of them; nobody's identity is kept."""

    __tablename__ = "bystander_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    #: SHA-256 of the requester's status link token: the link itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The area as a GeoJSON Polygon (a circle is stored as the polygon that encloses it).
    area: Mapped[dict[str, Any]] = mapped_column(JSON)
    area_sq_mi: Mapped[float] = mapped_column(Float)
    cells: Mapped[list[str]] = mapped_column(JSON, default=list)
    window_start: Mapped[datetime] = mapped_column()
    window_end: Mapped[datetime] = mapped_column()
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class BystanderRecipient(Base):
    """One owner asked by one request, and what they did; only counts ever leave the owner."""

    __tablename__ = "bystander_recipients"

    request_id: Mapped[str] = mapped_column(
        ForeignKey("bystander_requests.id", ondelete="CASCADE"), primary_key=True
    )
    owner_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    state: Mapped[str] = mapped_column(String(10), default=PENDING)
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column()
    blurred: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[int] = mapped_column(Integer, default=0)

    request: Mapped[BystanderRequest] = relationship()


__all__ = [
    "DESCRIPTION_MAX_LENGTH",
    "PENDING",
    "BystanderRecipient",
    "BystanderRequest",
    "Decision",
]
