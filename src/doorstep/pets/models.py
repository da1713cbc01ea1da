"""Lost-pet notices and the copies owners chose to share with them: the tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from doorstep.geo.cells import Coordinates
from doorstep.geo.geometry import Circle, Polygon, parse_geojson
from doorstep.pets import rules
from doorstep.pets.rules import NAME_MAX_LENGTH
from doorstep.platform.orm import Base
from doorstep.platform.types import new_id, utcnow


class PetNotice(Base):
    """A lost-pet notice: seen by its poster and by owners of cameras in its cells only."""

    __tablename__ = "pet_notices"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    poster_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    species: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH), default="")
    description: Mapped[str] = mapped_column(Text)
    #: The last-seen area as a GeoJSON Polygon (a circle as the polygon that encloses it).
    area: Mapped[dict[str, Any]] = mapped_column(JSON)
    circle_lat: Mapped[float | None] = mapped_column(Float)
    circle_lon: Mapped[float | None] = mapped_column(Float)
    circle_radius_m: Mapped[float | None] = mapped_column(Float)
    area_sq_mi: Mapped[float] = mapped_column(Float)
    #: The public cells whose cameras' owners see the notice.
    cells: Mapped[list[str]] = mapped_column(JSON, default=list)
    window_start: Mapped[datetime] = mapped_column()
    window_end: Mapped[datetime] = mapped_column(index=True)
    #: The photo, cleaned of metadata on upload (as a post's).
    photo_key: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column()

    def shape(self) -> Circle | Polygon:
        """The area as drawn: a circle or a polygon."""
        if self.circle_radius_m is not None:
            assert self.circle_lat is not None
            assert self.circle_lon is not None
            return Circle(Coordinates(self.circle_lat, self.circle_lon), self.circle_radius_m)
        return parse_geojson(self.area).polygons[0]

    def is_open(self, now: datetime) -> bool:
        """Whether owners may still share, and the poster still see what was shared."""
        return rules.is_open(self.window_end, self.closed_at, now)


class PetShare(Base):
    """A face-redacted copy of one clip an owner chose to give one notice; withdrawable."""

    __tablename__ = "pet_shares"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    notice_id: Mapped[str] = mapped_column(
        ForeignKey("pet_notices.id", ondelete="CASCADE"), index=True
    )
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    clip_id: Mapped[str | None] = mapped_column(
        ForeignKey("clips.id", ondelete="SET NULL"), index=True
    )
    clip_started_at: Mapped[datetime] = mapped_column()
    clip_ended_at: Mapped[datetime] = mapped_column()
    #: The copy's key wrapped by the master key; NULL once withdrawn or closed (shredded).
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    ciphertext_size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column()

    notice: Mapped[PetNotice] = relationship()

    @property
    def blob_key(self) -> str:
        """Where the sealed copy lives."""
        return f"pets/{self.id}.mp4.sealed"
