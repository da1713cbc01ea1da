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


class ClipPublic(BaseModel):
    """A clip as its owner sees it in the timeline."""

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
