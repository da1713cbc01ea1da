"""Neighbors queries: posts, comments, marks, reports, moderation, relay messages, tips, alerts.

Only queries and the rows they write: what may be written is decided in ``service``. Reading the
feed itself lives in ``_store_feed``. Every location kept is a public H3 cell (invariant I1).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import h3
from sqlalchemy import Select, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.clips.models import Clip
from doorstep.geo.cells import coarsen
from doorstep.neighbors.models import (
    AgencyAlert,
    AlertCell,
    Appeal,
    Comment,
    Follow,
    HelpfulMark,
    ModerationDecision,
    Post,
    PostStatus,
    RelayMessage,
    Report,
    Tip,
)
from doorstep.platform.types import one_of_param


def find_post(db: Session, post_id: str) -> Post | None:
    """The post with this id, whatever its status."""
    return db.get(Post, post_id)


def find_comment(db: Session, comment_id: str) -> Comment | None:
    """The comment with this id, whatever its status."""
    return db.get(Comment, comment_id)


def find_clip(db: Session, clip_id: str) -> Clip | None:
    """The clip with this id, to check whether its owner may attach it to a post."""
    return db.get(Clip, clip_id)


def post_times_since(db: Session, author_id: str, since: datetime) -> list[datetime]:
    """When the author posted after ``since``, oldest first."""
    return list(
        db.scalars(
            select(Post.created_at)
            .where(Post.author_id == author_id, Post.created_at > since)
            .order_by(Post.created_at)
        )
    )


def add_post(db: Session, post: Post) -> Post:
    """Store a new post."""
    db.add(post)
    db.flush()
    return post


def photo_key(post_id: str) -> str:
    """Blob key of a post's photo (public, so not sealed)."""
    return f"photos/{post_id}.jpg"


def bump(db: Session, post: Post, *, helpful: int = 0, comments: int = 0) -> None:
    """Change a post's helpful and comment counts."""
    # Counted in SQL so two neighbours marking at once both count.
    db.execute(
        update(Post)
        .where(Post.id == post.id)
        .values(
            helpful_count=Post.helpful_count + helpful,
            comment_count=Post.comment_count + comments,
        )
    )
    db.refresh(post)


def add_comment(db: Session, post: Post, author_id: str, text: str) -> Comment:
    """Store a comment under ``post`` and count it."""
    comment = Comment(post_id=post.id, author_id=author_id, text=text)
    db.add(comment)
    bump(db, post, comments=1)
    return comment


def mark_helpful(db: Session, post: Post, user: User, helpful: bool = True) -> None:
    """Mark or unmark a post as helpful; each account counts once."""
    mark = db.get(HelpfulMark, (post.id, user.id))
    if helpful and mark is None:
        db.add(HelpfulMark(post_id=post.id, user_id=user.id))
        bump(db, post, helpful=1)
    elif not helpful and mark is not None:
        db.delete(mark)
        bump(db, post, helpful=-1)


def follow(db: Session, post: Post, user: User, following: bool = True) -> None:
    """Follow or unfollow a post."""
    row = db.get(Follow, (post.id, user.id))
    if following and row is None:
        db.add(Follow(post_id=post.id, user_id=user.id))
    elif not following and row is not None:
        db.delete(row)
    db.flush()


def has_open_report(db: Session, post_id: str, reporter_id: str, comment_id: str | None) -> bool:
    """Whether the reporter already has an open report on this post (or this comment)."""
    found = db.scalar(
        select(Report.id).where(
            Report.post_id == post_id,
            Report.reporter_id == reporter_id,
            Report.comment_id.is_(None) if comment_id is None else Report.comment_id == comment_id,
            Report.resolved_at.is_(None),
        )
    )
    return found is not None


def add_report(
    db: Session, post_id: str, reporter_id: str, reason: str, comment_id: str | None
) -> Report:
    """Store a report."""
    row = Report(post_id=post_id, comment_id=comment_id, reporter_id=reporter_id, reason=reason)
    db.add(row)
    db.flush()
    return row


def open_post_reporters(db: Session, post_id: str) -> int:
    """How many accounts have an open report on the post itself (not its comments)."""
    count = db.scalar(
        select(func.count(func.distinct(Report.reporter_id))).where(
            Report.post_id == post_id,
            Report.comment_id.is_(None),
            Report.resolved_at.is_(None),
        )
    )
    return count or 0


@dataclass(frozen=True, slots=True)
class QueueItem:
    """A post waiting for a reviewer: why it is here and the open reports on it and its comments."""

    post: Post
    reports: list[Report]
    appeal: Appeal | None


def moderation_queue(db: Session) -> list[QueueItem]:
    """Held posts, posts or comments with open reports, and open appeals; oldest first."""
    reported = select(Report.post_id).where(Report.resolved_at.is_(None))
    appealed = select(Appeal.post_id).where(Appeal.decided_at.is_(None))
    posts = list(
        db.scalars(
            select(Post)
            .where(
                or_(
                    Post.status == PostStatus.HELD.value,
                    Post.id.in_(reported),
                    Post.id.in_(appealed),
                )
            )
            .order_by(Post.created_at)
            .limit(200)
        )
    )
    ids = [post.id for post in posts]
    reports: dict[str, list[Report]] = {post_id: [] for post_id in ids}
    for row in db.scalars(
        select(Report)
        .where(Report.post_id.in_(ids), Report.resolved_at.is_(None))
        .order_by(Report.created_at)
    ):
        reports[row.post_id].append(row)
    appeals = {
        row.post_id: row
        for row in db.scalars(
            select(Appeal).where(Appeal.post_id.in_(ids), Appeal.decided_at.is_(None))
        )
    }
    return [QueueItem(post, reports[post.id], appeals.get(post.id)) for post in posts]


def resolve_post_reports(db: Session, post_id: str, now: datetime) -> None:
    """Close the open reports on the post itself."""
    db.execute(
        update(Report)
        .where(Report.post_id == post_id, Report.comment_id.is_(None), Report.resolved_at.is_(None))
        .values(resolved_at=now)
    )


def resolve_comment_reports(db: Session, comment_id: str, now: datetime) -> None:
    """Close the open reports on one comment."""
    db.execute(
        update(Report)
        .where(Report.comment_id == comment_id, Report.resolved_at.is_(None))
        .values(resolved_at=now)
    )


def add_decision(db: Session, row: ModerationDecision) -> ModerationDecision:
    """Store a reviewer's decision."""
    db.add(row)
    db.flush()
    return row


def appeal_for(db: Session, post: Post) -> Appeal | None:
    """The post's appeal, if the author made one."""
    return db.scalar(select(Appeal).where(Appeal.post_id == post.id))


def add_appeal(db: Session, post_id: str, text: str) -> Appeal:
    """Store an author's appeal."""
    row = Appeal(post_id=post_id, text=text)
    db.add(row)
    db.flush()
    return row


def find_message(db: Session, message_id: str) -> RelayMessage | None:
    """The relay message with this id."""
    return db.get(RelayMessage, message_id)


def add_message(
    db: Session, post_id: str, sender_id: str, recipient_id: str, text: str
) -> RelayMessage:
    """Store a relay message."""
    row = RelayMessage(post_id=post_id, sender_id=sender_id, recipient_id=recipient_id, text=text)
    db.add(row)
    db.flush()
    return row


def inbox(db: Session, user: User, now: datetime, limit: int = 100) -> list[RelayMessage]:
    """Messages the user sent or received, newest first; received ones are marked read."""
    rows = list(
        db.scalars(
            select(RelayMessage)
            .where(or_(RelayMessage.recipient_id == user.id, RelayMessage.sender_id == user.id))
            .order_by(RelayMessage.created_at.desc(), RelayMessage.id.desc())
            .limit(limit)
        )
    )
    for row in rows:
        if row.recipient_id == user.id and row.read_at is None:
            row.read_at = now
    return rows


def add_tip(db: Session, tip: Tip) -> Tip:
    """Store a tip."""
    db.add(tip)
    db.flush()
    return tip


def tips_for_agency(db: Session, agency_id: str) -> list[Tip]:
    """The tips sent to an agency, newest first."""
    return list(
        db.scalars(
            select(Tip).where(Tip.agency_id == agency_id).order_by(Tip.created_at.desc()).limit(500)
        )
    )


def add_alert(db: Session, alert: AgencyAlert) -> AgencyAlert:
    """Store an alert and index the cells it covers."""
    db.add(alert)
    db.flush()
    db.add_all(AlertCell(alert_id=alert.id, cell=cell) for cell in alert.cells)
    db.flush()
    return alert


@functools.lru_cache(maxsize=1024)
def _ancestors(cell: str) -> tuple[str, ...]:
    """``cell`` and every coarser cell containing it."""
    return (cell, *(coarsen(cell, r) for r in range(h3.get_resolution(cell))))


def alerts_for(db: Session, home_cell: str, limit: int = 10) -> list[AgencyAlert]:
    """Alerts covering ``home_cell``, newest first: matched on the cell and all its parents."""
    query = _alerts_query(db.get_bind().dialect.name)
    return list(db.scalars(query, {"cells": list(_ancestors(home_cell)), "fetch": limit}))


@functools.lru_cache(maxsize=4)
def _alerts_query(dialect: str) -> Select[AgencyAlert]:
    covered = select(AlertCell.alert_id).where(one_of_param(dialect, AlertCell.cell, "cells"))
    return (
        select(AgencyAlert)
        .where(AgencyAlert.id.in_(covered))
        .order_by(AgencyAlert.created_at.desc())
        .limit(bindparam("fetch"))
    )


def residents_covered(db: Session, alert: AgencyAlert, cell_resolution: int) -> list[str]:
    """Ids of the accounts whose home cell lies in the alert's cells, to tell them live."""
    homes: list[str] = []
    for cell in alert.cells:
        resolution = h3.get_resolution(cell)
        if resolution < cell_resolution:
            homes.extend(str(c) for c in h3.cell_to_children(cell, cell_resolution))
        else:
            homes.append(cell)
    found: set[str] = set()
    # In slices, so a county-sized alert does not exceed a driver's parameter limit.
    for start in range(0, len(homes), 1000):
        chunk = homes[start : start + 1000]
        found.update(db.scalars(select(User.id).where(User.home_cell.in_(chunk))))
    return sorted(found)


def add_comments(db: Session, comments: Sequence[Comment]) -> list[Comment]:
    """Store comments made in one go, as they are (their posts already count them)."""
    db.add_all(comments)
    db.flush()
    return list(comments)
