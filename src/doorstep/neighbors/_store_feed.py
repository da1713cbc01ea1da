"""Reading the Neighbors feed: pages of posts by cell, the viewer's marks, counts for the map.

Every location read here is a public H3 cell (invariant I1).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import (
    CompoundSelect,
    Select,
    String,
    and_,
    bindparam,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from doorstep.accounts.models import User
from doorstep.neighbors.models import Follow, HelpfulMark, Post, PostStatus
from doorstep.neighbors.rules import FEED_WINDOWS, PAGE_SIZE, PostCategory
from doorstep.platform.types import decode_cursor, encode_cursor, one_of, one_of_param, utcnow


@dataclass(frozen=True, slots=True)
class FeedCursor:
    """Where a feed page ended: the last post's time and id (newest first)."""

    created_at: datetime
    post_id: str

    def encode(self) -> str:
        """An opaque string for the next page link."""
        return encode_cursor(self.created_at, self.post_id)

    @classmethod
    def decode(cls, text: str) -> FeedCursor:
        """Parse a cursor from ``encode``, or raise InvalidInput."""
        return cls(*decode_cursor(text, what="feed"))


@dataclass(frozen=True, slots=True)
class ViewerMarks:
    """Which of some posts the viewer marked helpful and which they follow."""

    helpful: frozenset[str]
    following: frozenset[str]


@dataclass(frozen=True, slots=True)
class FeedPage:
    """One page of the feed, newest first, and the cursor of the next page if there is one."""

    posts: list[Post]
    next_cursor: str | None
    #: The reader's own marks among ``posts`` (empty when read for no one).
    marks: ViewerMarks = field(default_factory=lambda: ViewerMarks(frozenset(), frozenset()))
    #: Which of ``FEED_WINDOWS`` filled the page (or was the last one tried).
    window: int = 0


def read_feed(
    db: Session,
    cells: Sequence[str],
    *,
    category: PostCategory | None = None,
    cursor: FeedCursor | None = None,
    limit: int = PAGE_SIZE,
    viewer: User | None = None,
    first_window: int = 0,
) -> FeedPage:
    """Return visible posts in ``cells``, newest first, one page after ``cursor``.

    With a ``viewer``, the page carries their helpful marks and follows, from the same query.
    """
    dialect = db.get_bind().dialect.name
    params: dict[str, object] = {
        "cells": list(cells),
        "fetch": limit + 1,
        "viewer": viewer.id if viewer is not None else "",
    }
    if category is not None:
        params["category"] = category.value
    anchor = utcnow()
    if cursor is not None:
        anchor = cursor.created_at
        params.update(cursor_at=cursor.created_at, cursor_id=cursor.post_id)
    rows: list[Row[Post, bool, bool]] = []
    # Widening time windows: a busy area fills a page from the last day, so the database sorts
    # a day of posts instead of every post in hundreds of cells; a quiet one widens to all time.
    # Any window gives the same page once it holds more than ``limit`` posts (every post in it
    # is newer than every post outside), so starting at the window that last filled a page
    # here only saves the narrower queries that would come back short.
    index = first_window
    for index in range(first_window, len(FEED_WINDOWS)):
        window = FEED_WINDOWS[index]
        if window is not None:
            params["since"] = anchor - window
        query = _feed_query(dialect, category is not None, cursor is not None, window is not None)
        rows = list(db.execute(query, params))
        if len(rows) > limit:
            break
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = FeedCursor(rows[-1][0].created_at, rows[-1][0].id).encode()
    marks = ViewerMarks(
        frozenset(post.id for post, helpful, _ in rows if helpful),
        frozenset(post.id for post, _, following in rows if following),
    )
    return FeedPage([post for post, _, _ in rows], next_cursor, marks, index)


# The feed's statements are built once per shape and run with parameters: building a select
# costs more CPU than PostgreSQL takes to run it.
@functools.lru_cache(maxsize=32)
def _feed_query(
    dialect: str, by_category: bool, after_cursor: bool, windowed: bool
) -> Select[Post, bool, bool]:
    viewer: BindParameter[str] = bindparam("viewer", type_=String)
    helpful = exists().where(HelpfulMark.post_id == Post.id, HelpfulMark.user_id == viewer)
    following = exists().where(Follow.post_id == Post.id, Follow.user_id == viewer)
    query = select(Post, helpful, following).where(
        one_of_param(dialect, Post.cell, "cells"), Post.status == PostStatus.VISIBLE.value
    )
    if by_category:
        query = query.where(Post.category == bindparam("category"))
    if after_cursor:
        query = query.where(
            or_(
                Post.created_at < bindparam("cursor_at"),
                and_(Post.created_at == bindparam("cursor_at"), Post.id < bindparam("cursor_id")),
            )
        )
    if windowed:
        query = query.where(Post.created_at >= bindparam("since"))
    return query.order_by(Post.created_at.desc(), Post.id.desc()).limit(bindparam("fetch"))


def cell_counts(db: Session, cells: Sequence[str], category: PostCategory | None) -> dict[str, int]:
    """Count visible posts per cell, for the map."""
    query = (
        select(Post.cell, func.count())
        .where(one_of(db, Post.cell, cells), Post.status == PostStatus.VISIBLE.value)
        .group_by(Post.cell)
    )
    if category is not None:
        query = query.where(Post.category == category.value)
    return {cell: int(count) for cell, count in db.execute(query)}


@functools.lru_cache(maxsize=4)
def _marks_query(dialect: str) -> CompoundSelect[str, str]:
    # One round trip for both kinds of mark.
    return union_all(
        select(literal("helpful"), HelpfulMark.post_id).where(
            HelpfulMark.user_id == bindparam("viewer"),
            one_of_param(dialect, HelpfulMark.post_id, "ids"),
        ),
        select(literal("follow"), Follow.post_id).where(
            Follow.user_id == bindparam("viewer"), one_of_param(dialect, Follow.post_id, "ids")
        ),
    )


def viewer_marks(db: Session, viewer: User, post_ids: Sequence[str]) -> ViewerMarks:
    """Return the viewer's helpful marks and follows among ``post_ids``."""
    if not post_ids:
        return ViewerMarks(frozenset(), frozenset())
    marks = _marks_query(db.get_bind().dialect.name)
    params = {"viewer": viewer.id, "ids": list(post_ids)}
    helpful: set[str] = set()
    following: set[str] = set()
    for kind, post_id in db.execute(marks, params):
        (helpful if kind == "helpful" else following).add(post_id)
    return ViewerMarks(frozenset(helpful), frozenset(following))
