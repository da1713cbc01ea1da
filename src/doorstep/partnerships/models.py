"""Partnership programmes agencies published, or tried to: their table."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from doorstep.platform.orm import Base
from doorstep.platform.types import new_id, utcnow


class PartnershipStatus(StrEnum):
    """Whether a programme passed the rules."""

    PUBLISHED = "published"
    REFUSED = "refused"


class Partnership(Base):
    """A programme an agency published, or tried to, with the reason when it was refused."""

    __tablename__ = "partnerships"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    agency_id: Mapped[str] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    terms_text: Mapped[str] = mapped_column(Text)
    conditions: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10))
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    submitted_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
