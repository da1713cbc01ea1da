"""Neighbors request and response shapes: ``XCreate`` in, ``XPublic`` out, limits from ``rules``.

Every location in a response is a public H3 cell and its centre (invariant I1).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from doorstep.accounts.schemas import HomeLocation, PublicCell, Strict
from doorstep.neighbors.rules import (
    MAX_AGENCY_ID_LENGTH,
    MAX_AGENCY_NAME_LENGTH,
    MAX_ALERT_CELLS,
    MAX_ALERT_LENGTH,
    MAX_COMMENT_LENGTH,
    MAX_MESSAGE_LENGTH,
    MAX_POST_LENGTH,
    MAX_REASON_LENGTH,
    MAX_TIP_LENGTH,
    PostCategory,
)


class PostCreate(Strict):
    """A new post; where it happened is optional and only its cell is kept."""

    text: Annotated[str, Field(max_length=MAX_POST_LENGTH * 2)]
    category: PostCategory
    contact_opt_in: bool = False
    clip_id: Annotated[str | None, Field(max_length=32)] = None
    location: HomeLocation | None = None


class CommentCreate(Strict):
    """A comment under a post."""

    text: Annotated[str, Field(max_length=MAX_COMMENT_LENGTH * 2)]


class ReportCreate(Strict):
    """Why a post or comment breaks the guidelines."""

    reason: Annotated[str, Field(max_length=MAX_REASON_LENGTH * 2)]


class AppealCreate(Strict):
    """Why a removed post should come back."""

    text: Annotated[str, Field(max_length=MAX_REASON_LENGTH * 2)]


class DecisionCreate(Strict):
    """A reviewer's decision and the reason the author will see."""

    decision: Literal["keep", "remove"]
    reason: Annotated[str, Field(max_length=MAX_REASON_LENGTH * 2)]


class ToggleCreate(Strict):
    """Turn a mark (helpful, following) on or off."""

    on: bool = True


class MessageCreate(Strict):
    """A relay message."""

    text: Annotated[str, Field(max_length=MAX_MESSAGE_LENGTH * 2)]


class TipCreate(Strict):
    """An anonymous tip to an agency, unless ``reveal_identity``."""

    agency_id: Annotated[str, Field(max_length=MAX_AGENCY_ID_LENGTH)]
    text: Annotated[str, Field(max_length=MAX_TIP_LENGTH * 2)]
    reveal_identity: bool = False


class AlertCreate(Strict):
    """An agency alert for the residents of some cells."""

    agency_name: Annotated[
        str,
        Field(
            max_length=MAX_AGENCY_NAME_LENGTH,
            description="Ignored: alerts carry the verified agency's name",
        ),
    ] = ""
    text: Annotated[str, Field(max_length=MAX_ALERT_LENGTH * 2)]
    cells: Annotated[
        list[Annotated[str, Field(max_length=16)]],
        Field(
            max_length=MAX_ALERT_CELLS,
            description=(
                "H3 cells of resolution 5 up to the public resolution (finer ones are taken "
                "up to it); every home a cell reaches must lie inside the agency's jurisdiction."
            ),
        ),
    ]


class CommentPublic(BaseModel):
    """A comment as neighbours see it: no name, no account id."""

    id: str
    text: str
    author: str
    mine: bool
    status: str
    removal_reason: str | None
    created_at: datetime


class PostPublic(BaseModel):
    """A post as neighbours see it: "Neighbor", a coarse area, and the cell it is in."""

    id: str
    category: str
    text: str
    author: str
    area: str
    mine: bool
    location: PublicCell
    created_at: datetime
    status: str
    removal_reason: str | None
    contact_opt_in: bool
    photo_url: str | None
    clip_attached: bool
    helpful_count: int
    comment_count: int
    helpful_by_me: bool
    following: bool


class PostDetail(PostPublic):
    """A post with its comments and, for its author, the state of an appeal."""

    comments: list[CommentPublic]
    can_appeal: bool
    appeal_status: str | None


class AlertPublic(BaseModel):
    """An agency alert and the cells it covers."""

    id: str
    agency_name: str
    text: str
    created_at: datetime
    cells: list[PublicCell]


class FeedPublic(BaseModel):
    """One page of the feed around home."""

    radius_miles: float
    home_cell: PublicCell
    posts: list[PostPublic]
    alerts: list[AlertPublic]
    next_cursor: str | None


class ReportPublic(BaseModel):
    """An open report, as a reviewer sees it (the reporter stays anonymous)."""

    id: str
    reason: str
    comment_id: str | None
    comment_text: str | None
    created_at: datetime


class AppealPublic(BaseModel):
    """An author's appeal."""

    id: str
    text: str
    created_at: datetime
    outcome: str | None


class QueueItemPublic(BaseModel):
    """A post waiting for a reviewer."""

    post: PostPublic
    reports: list[ReportPublic]
    appeal: AppealPublic | None


class DecisionPublic(BaseModel):
    """A recorded moderation decision."""

    id: str
    post_id: str
    comment_id: str | None
    decision: str
    reason: str
    on_appeal: bool
    decided_at: datetime


class MessagePublic(BaseModel):
    """A relay message; neither side ever sees the other's email or name."""

    id: str
    post_id: str
    direction: Literal["sent", "received"]
    counterpart: str
    text: str
    created_at: datetime
    can_reply: bool


class TipPublic(BaseModel):
    """A tip as its sender sees it after sending."""

    id: str
    agency_id: str
    identity_revealed: bool
    created_at: datetime
