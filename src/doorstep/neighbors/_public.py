"""Neighbors rows as their public shapes: what a viewer may see of posts, comments, messages.

Authors stay "Neighbor" and places stay public cells (invariant I1).
"""

from __future__ import annotations

from doorstep.accounts.models import User
from doorstep.accounts.schemas import public_cell_of
from doorstep.neighbors._store_feed import FeedPage, ViewerMarks
from doorstep.neighbors.models import (
    AgencyAlert,
    Comment,
    ModerationDecision,
    Post,
    RelayMessage,
    Tip,
)
from doorstep.neighbors.rules import area_name, is_reviewer
from doorstep.neighbors.schemas import (
    AlertPublic,
    AppealPublic,
    CommentPublic,
    DecisionPublic,
    FeedPublic,
    MessagePublic,
    PostPublic,
    QueueItemPublic,
    ReportPublic,
    TipPublic,
)
from doorstep.neighbors.store import QueueItem


def post_public(post: Post, viewer: User, marks: ViewerMarks) -> PostPublic:
    """A post for ``viewer``; the removal reason only for its author and reviewers."""
    mine = post.author_id == viewer.id
    return PostPublic(
        id=post.id,
        category=post.category,
        text=post.text,
        author="You" if mine else "Neighbor",
        area=area_name(post.cell),
        mine=mine,
        location=public_cell_of(post.cell),
        created_at=post.created_at,
        status=post.status,
        removal_reason=post.status_reason if mine or is_reviewer(viewer) else None,
        contact_opt_in=post.contact_opt_in,
        photo_url=f"/api/v1/posts/{post.id}/photo" if post.photo_key else None,
        clip_attached=post.clip_id is not None,
        helpful_count=post.helpful_count,
        comment_count=post.comment_count,
        helpful_by_me=post.id in marks.helpful,
        following=post.id in marks.following,
    )


def comment_public(comment: Comment, viewer: User) -> CommentPublic:
    """A comment for ``viewer``."""
    mine = comment.author_id == viewer.id
    show_reason = mine or is_reviewer(viewer)
    return CommentPublic(
        id=comment.id,
        text=comment.text,
        author="You" if mine else "Neighbor",
        mine=mine,
        status=comment.status,
        removal_reason=comment.status_reason if show_reason else None,
        created_at=comment.created_at,
    )


def alert_public(alert: AgencyAlert) -> AlertPublic:
    """An alert with its cells."""
    return AlertPublic(
        id=alert.id,
        agency_name=alert.agency_name,
        text=alert.text,
        created_at=alert.created_at,
        cells=[public_cell_of(cell) for cell in alert.cells],
    )


def message_public(message: RelayMessage, viewer: User) -> MessagePublic:
    """A relay message from ``viewer``'s side."""
    sent = message.sender_id == viewer.id
    return MessagePublic(
        id=message.id,
        post_id=message.post_id,
        direction="sent" if sent else "received",
        counterpart="Neighbor",
        text=message.text,
        created_at=message.created_at,
        can_reply=not sent,
    )


def queue_item_public(item: QueueItem, viewer: User) -> QueueItemPublic:
    """A queue entry for a reviewer."""
    comments = {c.id: c for c in item.post.comments}
    return QueueItemPublic(
        post=post_public(item.post, viewer, ViewerMarks(frozenset(), frozenset())),
        reports=[
            ReportPublic(
                id=r.id,
                reason=r.reason,
                comment_id=r.comment_id,
                comment_text=comments[r.comment_id].text if r.comment_id in comments else None,
                created_at=r.created_at,
            )
            for r in item.reports
        ],
        appeal=(
            AppealPublic(
                id=item.appeal.id,
                text=item.appeal.text,
                created_at=item.appeal.created_at,
                outcome=item.appeal.outcome,
            )
            if item.appeal
            else None
        ),
    )


def tip_public(tip: Tip) -> TipPublic:
    """A tip as its sender sees it."""
    return TipPublic(
        id=tip.id,
        agency_id=tip.agency_id,
        identity_revealed=tip.identity_revealed,
        created_at=tip.created_at,
    )


def decision_public(row: ModerationDecision) -> DecisionPublic:
    """A recorded moderation decision."""
    return DecisionPublic(
        id=row.id,
        post_id=row.post_id,
        comment_id=row.comment_id,
        decision=row.decision,
        reason=row.reason,
        on_appeal=row.on_appeal,
        decided_at=row.decided_at,
    )


def feed_public(
    radius: float, centre: str, page: FeedPage, alerts: list[AgencyAlert], viewer: User
) -> FeedPublic:
    """One page of the feed around ``centre``, as ``viewer`` sees it."""
    return FeedPublic(
        radius_miles=round(radius, 2),
        home_cell=public_cell_of(centre),
        posts=[post_public(p, viewer, page.marks) for p in page.posts],
        alerts=[alert_public(a) for a in alerts],
        next_cursor=page.next_cursor,
    )
