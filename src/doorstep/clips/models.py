"""Clips' tables: the recorded clips, and the pieces of copies made from them that left the server.

A clip's footage itself is sealed in the blob store.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from doorstep.platform.orm import Base
from doorstep.platform.types import new_id, utcnow

if TYPE_CHECKING:
    from doorstep.cameras.models import Camera


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
    #: What was seen on the snapshot: [{"label", "score", "box": [x1, y1, x2, y2] as fractions
    #: of the frame, "stationary", "seconds" in view, "zones": {name: seconds inside}}, ...]
    #: (``clips.rules_objects``).
    objects: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: "alert" (it notified), "detection" (an object, kept quietly) or "motion"; each kind keeps
    #: its own retention.
    kind: Mapped[str] = mapped_column(String(10), default="motion")
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
    #: The agent's id of the event this clip records, when it names one; a long event is cut
    #: into segments 0, 1, 2 ... that share it, and the timeline shows them as one event.
    event_id: Mapped[str | None] = mapped_column(String(36))
    segment: Mapped[int] = mapped_column(Integer, default=0)

    camera: Mapped[Camera] = relationship(back_populates="clips")

    @property
    def video_key(self) -> str:
        """Blob key of the sealed video."""
        return f"clips/{self.owner_id}/{self.id}.mp4.sealed"

    @property
    def snapshot_key(self) -> str:
        """Blob key of the sealed snapshot."""
        return f"clips/{self.owner_id}/{self.id}.jpg.sealed"


class ClipEvent(Base):
    """An event the agent announced as it began (or that a clip named): whether it alerted yet.

    Kept so that each event alerts the owner at most once, however many labels, segments and
    uploads follow; its start snapshot is never stored (held in memory for a short while).
    """

    __tablename__ = "clip_events"
    __table_args__ = (UniqueConstraint("camera_id", "event_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[str] = mapped_column(String(36))
    started_at: Mapped[datetime] = mapped_column(index=True)
    labels: Mapped[list[str]] = mapped_column(default=list)
    alerted: Mapped[bool] = mapped_column(Boolean, default=False)
    announced_at: Mapped[datetime] = mapped_column(default=utcnow)


class AccountEvent(Base):
    """An event as an account's pages were told it, kept a few minutes for a page that reconnects.

    Its id is the server-sent event's id: allocated by the database, so it is the same whichever
    API process a page is connected to, and never reused (AUTOINCREMENT on SQLite).
    """

    __tablename__ = "account_events"
    __table_args__ = (
        Index("ix_account_events_account_id_id", "account_id", "id"),
        {"sqlite_autoincrement": True},
    )

    # 64-bit on PostgreSQL; SQLite can only AUTOINCREMENT an INTEGER PRIMARY KEY (64-bit there).
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    account_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(index=True)
    event: Mapped[dict[str, Any]] = mapped_column(JSON)


# The tables named in relationships above are mapped whenever these are (SQLAlchemy resolves
# the names when first queried); imported last because they refer back to this module.
from doorstep.cameras import models as _cameras_models  # noqa: E402, F401


class ServedRange(Base):
    """One piece of an agency copy that left the server: the first and last byte, included."""

    __tablename__ = "served_ranges"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    share_id: Mapped[str | None] = mapped_column(
        ForeignKey("shares.id", ondelete="CASCADE"), index=True
    )
    disclosure_id: Mapped[str | None] = mapped_column(
        ForeignKey("disclosures.id", ondelete="CASCADE"), index=True
    )
    reader_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    first_byte: Mapped[int] = mapped_column(Integer)
    last_byte: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(default=utcnow)
