"""What the clips API takes and answers: the timeline, one clip, deletions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from doorstep.accounts.schemas import Strict

#: The most clips one page of the timeline holds.
MAX_PAGE = 200
#: The most clips one deletion names.
MAX_DELETE = 1000


class SegmentPublic(BaseModel):
    """One clip of a long event that was cut into segments, played one after another."""

    id: str
    segment: int
    started_at: datetime
    ended_at: datetime
    duration_seconds: float
    video_url: str
    snapshot_url: str
    labels: list[str] = Field([], description="What this clip itself saw")
    kind: str = Field("motion", description="alert, detection or motion")


class ObjectPublic(BaseModel):
    """An object seen on a clip's snapshot: where (fractions of the frame) and for how long."""

    label: str
    score: float
    box: list[float] = Field(description="x1, y1, x2, y2 as fractions of the frame, 0 to 1")
    stationary: bool = False
    seconds: float = 0.0
    zones: dict[str, float] = Field({}, description="Seconds inside each named zone")


class ClipPublic(BaseModel):
    """A clip as its owner sees it in the timeline: a whole event, segments joined."""

    id: str
    camera_id: str
    camera_name: str
    started_at: datetime
    ended_at: datetime
    duration_seconds: float
    labels: list[str]
    peak_motion: float
    size: int
    width: int
    height: int
    has_audio: bool
    expires_at: datetime
    video_url: str
    snapshot_url: str
    event_id: str | None = Field(None, description="The agent's id of the event, if it named one")
    segment: int = Field(0, description="Which segment of its event this clip is, 0 first")
    segments: list[SegmentPublic] = Field(
        [],
        description="In the timeline, every segment of a long event in order (this one first), "
        "its labels and times those of the whole event; empty for an event in one clip",
    )
    kind: str = Field(
        "motion",
        description="alert (it notified, or the doorbell rang), detection (an object was seen "
        "and kept quietly) or motion; each kind is kept for its own number of days",
    )
    objects: list[ObjectPublic] = Field(
        [], description="What was seen on this entry's snapshot, to draw over it"
    )
    visit: list[SegmentPublic] = Field(
        [],
        description="With visits=true: every clip of this visit (clips of one camera that "
        "overlap or follow within 30 s), oldest first; its labels, kind and times are the "
        "visit's, its snapshot the first clip's. Empty for a visit of one clip or event",
    )


class ClipPage(BaseModel):
    """A page of the timeline, newest first; pass ``next_cursor`` as ``cursor`` for more."""

    clips: list[ClipPublic]
    next_cursor: str | None = Field(
        description="Where this page ended; null when there is nothing further back. A page "
        "with a label filter may hold fewer clips than asked for and still have a next one."
    )


class ClipDelete(Strict):
    """Delete a selection of clips, or all of them."""

    ids: Annotated[list[str], Field(max_length=MAX_DELETE)] = []
    all: bool = False


class Deleted(BaseModel):
    """How many clips were shredded."""

    deleted: int
