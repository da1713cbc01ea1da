"""What the bystander API reads and answers: a request, its status, an owner's choices."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from doorstep.accounts.schemas import HomeLocation, Strict
from doorstep.bystanders.rules import DESCRIPTION_MAX_LENGTH
from doorstep.requests.rules import MAX_RADIUS_M
from doorstep.requests.schemas import CountRangePublic

#: Clips an owner may decide about in one answer.
MAX_CLIPS_PER_ANSWER = 200


class BystanderCreate(Strict):
    """A request: a circle (centre and radius) or a GeoJSON polygon, and a past time window.

    Nothing that names the requester is asked for: no account, no name, no email.
    """

    centre: HomeLocation | None = None
    radius_m: Annotated[float | None, Field(gt=0, le=MAX_RADIUS_M)] = None
    polygon: dict[str, Any] | None = Field(None, description="A GeoJSON Polygon ([lon, lat]).")
    window_start: datetime
    window_end: datetime
    description: Annotated[str, Field(max_length=DESCRIPTION_MAX_LENGTH)] = Field(
        "", description="Optional: how owners may recognise you (clothes, a dog, a bicycle)."
    )


class BystanderCountsPublic(BaseModel):
    """Counts as ranges; each below k is withheld, and nobody is ever named (I3)."""

    asked: CountRangePublic = Field(description="Owners asked.")
    blurred: CountRangePublic = Field(description="Clips whose faces owners blurred.")
    deleted: CountRangePublic = Field(description="Clips owners deleted.")
    k: int


class BystanderStatus(BaseModel):
    """What the requester's status link shows: the request as sent and its counts only."""

    area: dict[str, Any]
    area_sq_mi: float
    window_start: datetime
    window_end: datetime
    created_at: datetime
    counts: BystanderCountsPublic


class BystanderCreated(BystanderStatus):
    """A request just sent, with its status link: the only time the link is given."""

    status_url: str = Field(description="Keep this link: it is the only way back to the counts.")


class BystanderTotals(BaseModel):
    """Every bystander request, counted for the transparency page."""

    requests: CountRangePublic
    asked: CountRangePublic
    blurred: CountRangePublic
    deleted: CountRangePublic
    k: int


class BystanderClip(BaseModel):
    """One of the owner's clips inside a request's area and window."""

    id: str
    camera_name: str
    started_at: datetime
    ended_at: datetime
    #: End-to-end encrypted clips can be deleted, not blurred (the server cannot read them).
    can_blur: bool


class BystanderInboxItem(BaseModel):
    """A request in the owner's inbox."""

    id: str
    area: dict[str, Any]
    window_start: datetime
    window_end: datetime
    description: str
    asked_at: datetime
    answer: str
    answered_at: datetime | None
    url: str


class BystanderInboxRequest(BystanderInboxItem):
    """One request with the owner's clips in its window (only their own) and what they did."""

    clips: list[BystanderClip]
    blurred: int
    deleted: int


class ClipChoice(Strict):
    """What to do with one clip."""

    clip_id: Annotated[str, Field(max_length=32)]
    action: Literal["delete", "blur"]


class BystanderAnswer(Strict):
    """An owner's answer: delete or blur some clips, or decline (an empty list)."""

    choices: Annotated[list[ClipChoice], Field(max_length=MAX_CLIPS_PER_ANSWER)] = []
