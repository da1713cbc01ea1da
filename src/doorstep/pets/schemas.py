"""What the lost-pet API reads and answers: notices, an owner's own animal clips, shares."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from doorstep.accounts.schemas import HomeLocation, Strict
from doorstep.pets.rules import DESCRIPTION_MAX_LENGTH, NAME_MAX_LENGTH, Species
from doorstep.requests.rules import MAX_RADIUS_M


class NoticeCreate(Strict):
    """A lost-pet notice: a circle (centre and radius) or a GeoJSON polygon, and a past window."""

    species: Species
    name: Annotated[str, Field(max_length=NAME_MAX_LENGTH)] = ""
    description: Annotated[str, Field(max_length=DESCRIPTION_MAX_LENGTH)]
    centre: HomeLocation | None = None
    radius_m: Annotated[float | None, Field(gt=0, le=MAX_RADIUS_M)] = None
    polygon: dict[str, Any] | None = Field(None, description="A GeoJSON Polygon ([lon, lat]).")
    window_start: datetime
    window_end: datetime


class ShareCreate(Strict):
    """The one clip an owner chooses to share with a notice."""

    clip_id: Annotated[str, Field(max_length=32)]


class AnimalClip(BaseModel):
    """One of the viewer's own clips in the notice's cells and window with an animal in it."""

    id: str
    camera_name: str
    started_at: datetime
    ended_at: datetime
    shared: bool


class SharePublic(BaseModel):
    """A copy shared with a notice: the poster sees its video, the owner who shared its state."""

    id: str
    clip_started_at: datetime
    clip_ended_at: datetime
    created_at: datetime
    state: Literal["preparing", "shared", "withdrawn"]
    video_url: str | None
    mine: bool


class NoticePublic(BaseModel):
    """A notice as its viewer may see it: the poster, or an owner of a camera it reaches."""

    id: str
    species: Species
    name: str
    description: str
    area: dict[str, Any]
    circle: dict[str, float] | None
    area_sq_mi: float
    window_start: datetime
    window_end: datetime
    created_at: datetime
    closes_at: datetime
    open: bool
    photo_url: str | None
    yours: bool = Field(description="Whether the viewer posted it.")
    my_animal_clips: list[AnimalClip] = Field(
        description="The viewer's own clips with an animal in the window (owners only)."
    )
    shares: list[SharePublic] = Field(
        description="For the poster: what owners shared. For an owner: what they shared."
    )
