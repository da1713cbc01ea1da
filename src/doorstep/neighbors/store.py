"""Neighbors repository: posts by cell, comments, moderation, relay, tips, alerts.

Every location kept here is a public H3 cell (invariant I1): a post never stores the exact
position it was written from, only the cell ``public_cell`` gives for it.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import h3
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
    update,
)
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from doorstep.accounts.models import User
from doorstep.accounts.roles import AGENCY_STAFF, REVIEWERS
from doorstep.clips.models import Clip
from doorstep.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyRequests
from doorstep.geo import reach as alerts
from doorstep.geo.cells import (
    FINEST_PUBLIC_RESOLUTION,
    Coordinates,
    cell_location,
    coarsen,
    public_cell,
)
from doorstep.neighbors.models import (
    AgencyAlert,
    AlertCell,
    Appeal,
    Comment,
    Decision,
    Follow,
    HelpfulMark,
    ModerationDecision,
    Post,
    PostStatus,
    RelayMessage,
    Report,
    Tip,
)
from doorstep.neighbors.rules import PostCategory, check_post, refuse_race_only
from doorstep.platform.types import (
    decode_cursor,
    encode_cursor,
    new_id,
    one_of,
    one_of_param,
    utcnow,
)

METERS_PER_MILE = 1609.344
MIN_RADIUS_MILES = 0.5
MAX_RADIUS_MILES = 5.0
DEFAULT_RADIUS_MILES = 1.0
PAGE_SIZE = 20
MAX_PAGE_SIZE = 50
#: Posts one account may publish per hour; more looks like flooding the neighbourhood.
POSTS_PER_HOUR = 10
POST_WINDOW = timedelta(hours=1)
#: Distinct reports that take a post out of the feed until a reviewer looks at it.
HOLD_AFTER_REPORTS = 3
#: How far back the feed looks at first, then again wider while a page is not yet full.
FEED_WINDOWS: tuple[timedelta | None, ...] = (
    timedelta(days=1),
    timedelta(days=7),
    timedelta(days=60),
    None,
)
#: How long the window that last filled a page is remembered (see ``read_feed``).
WINDOW_MEMORY_S = 60.0
MAX_COMMENT_LENGTH = 1000
MAX_REASON_LENGTH = 500
MAX_MESSAGE_LENGTH = 2000
MAX_TIP_LENGTH = 4000
MAX_ALERT_LENGTH = 2000
MAX_ALERT_CELLS = alerts.MAX_ALERT_CELLS
#: Resolution of the coarse area named next to "Neighbor" on a post (res 6 is ~36 km²).
AREA_RESOLUTION = 6
#: The label a clip's owner sets to say it shows nobody; until redaction exists only such clips
#: may be attached to a post.
NO_PEOPLE_LABEL = "no_people"
PERSON_LABEL = "person"
AGENCY_ROLES = AGENCY_STAFF
REVIEWER_ROLES = REVIEWERS


# --- reading the feed ----------------------------------------------------------------------------


def check_radius(radius_miles: float) -> float:
    """Return the radius if it is within what the feed offers, else raise."""
    if not math.isfinite(radius_miles) or not (
        MIN_RADIUS_MILES <= radius_miles <= MAX_RADIUS_MILES
    ):
        raise InvalidInput(
            f"the radius is {MIN_RADIUS_MILES:g} to {MAX_RADIUS_MILES:g} miles", field="radius"
        )
    return radius_miles


def feed_cells(home_cell: str, radius_miles: float) -> list[str]:
    """Return the cells that reach within ``radius_miles`` of the home cell's centre."""
    check_radius(radius_miles)
    return list(_cells_within(home_cell, radius_miles))


# Every feed read asks for these; working them out takes hundreds of H3 calls.
@functools.lru_cache(maxsize=256)
def _cells_within(home_cell: str, radius_miles: float) -> tuple[str, ...]:
    resolution = h3.get_resolution(home_cell)
    edge = h3.average_hexagon_edge_length(resolution, unit="m")
    # Half an edge more, so a cell the circle cuts through counts as inside.
    radius_m = radius_miles * METERS_PER_MILE + edge / 2
    # Neighbouring centres are at least 1.5 edges apart along the worst direction, so this many
    # rings always reach the radius; the distance check below trims the disk to a circle.
    rings = math.ceil(radius_m / (1.5 * edge)) + 1
    centre = h3.cell_to_latlng(home_cell)
    return tuple(
        cell
        for cell in h3.grid_disk(home_cell, rings)
        if h3.great_circle_distance(centre, h3.cell_to_latlng(cell), unit="m") <= radius_m
    )


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
class FeedPage:
    """One page of the feed, newest first, and the cursor of the next page if there is one."""

    posts: list[Post]
    next_cursor: str | None
    #: The reader's own marks among ``posts`` (empty when read for no one).
    marks: ViewerMarks = field(default_factory=lambda: ViewerMarks(frozenset(), frozenset()))


def parse_category(category: str | None) -> PostCategory | None:
    """Turn a category filter into a category, or raise naming the choices."""
    if not category:
        return None
    try:
        return PostCategory(category)
    except ValueError as err:
        allowed = ", ".join(c.value for c in PostCategory)
        raise InvalidInput(f"choose a category: {allowed}", field="category") from err


def read_feed(
    db: Session,
    cells: Sequence[str],
    *,
    category: PostCategory | None = None,
    cursor: FeedCursor | None = None,
    limit: int = PAGE_SIZE,
    viewer: User | None = None,
) -> FeedPage:
    """Return visible posts in ``cells``, newest first, one page after ``cursor``.

    With a ``viewer``, the page carries their helpful marks and follows, from the same query.
    """
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput(f"a page has 1 to {MAX_PAGE_SIZE} posts", field="limit")
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
    # A hash, not the cells: a five-mile radius is thousands of cells to keep per entry.
    key = (hash(tuple(cells)), category, cursor is None)
    first = _remembered_window(key)
    for index in range(first, len(FEED_WINDOWS)):
        window = FEED_WINDOWS[index]
        if window is not None:
            params["since"] = anchor - window
        query = _feed_query(dialect, category is not None, cursor is not None, window is not None)
        rows = list(db.execute(query, params))
        if len(rows) > limit:
            break
    if first == 0 or index != first:
        _remember_window(key, index)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = FeedCursor(rows[-1][0].created_at, rows[-1][0].id).encode()
    marks = ViewerMarks(
        frozenset(post.id for post, helpful, _ in rows if helpful),
        frozenset(post.id for post, _, following in rows if following),
    )
    return FeedPage([post for post, _, _ in rows], next_cursor, marks)


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


_WindowKey = tuple[int, "PostCategory | None", bool]
# Per process: which window last filled a page for a set of cells, and when.
_windows: dict[_WindowKey, tuple[int, float]] = {}
_MAX_REMEMBERED = 4096


def _remembered_window(key: _WindowKey) -> int:
    """The window to start from: the one that last filled a page here, for a minute."""
    remembered = _windows.get(key)
    if remembered is None or time.monotonic() - remembered[1] > WINDOW_MEMORY_S:
        # Forgotten after a while, so an area that got busier goes back to narrow windows.
        return 0
    return remembered[0]


def _remember_window(key: _WindowKey, index: int) -> None:
    # Only a read that probed from the narrowest window (or had to widen) stores its time, so
    # the memory of a busy, often read area still runs out.
    if len(_windows) >= _MAX_REMEMBERED:
        _windows.clear()
    _windows[key] = (index, time.monotonic())


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


@dataclass(frozen=True, slots=True)
class ViewerMarks:
    """Which of some posts the viewer marked helpful and which they follow."""

    helpful: frozenset[str]
    following: frozenset[str]


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


@functools.lru_cache(maxsize=4096)
def area_name(cell: str) -> str:
    """A coarse name for the area around ``cell``, shown next to "Neighbor"."""
    return "area " + coarsen(cell, min(AREA_RESOLUTION, h3.get_resolution(cell)))[:9]


def is_reviewer(user: User) -> bool:
    """Whether ``user`` works the moderation queue."""
    return user.role in REVIEWER_ROLES


def get_post(db: Session, post_id: str, viewer: User) -> Post:
    """Return a post the viewer may see: visible ones, their own, or any for reviewers."""
    post = db.get(Post, post_id)
    if post is None:
        raise NotFound("no such post")
    if post.status != PostStatus.VISIBLE.value and not (
        post.author_id == viewer.id or is_reviewer(viewer)
    ):
        raise NotFound("no such post")
    return post


def visible_comments(post: Post, viewer: User) -> list[Comment]:
    """The comments the viewer may read: visible ones, and their own removed ones."""
    return [
        c
        for c in post.comments
        if c.status == PostStatus.VISIBLE.value or c.author_id == viewer.id or is_reviewer(viewer)
    ]


# --- writing -------------------------------------------------------------------------------------


def check_posting_rate(db: Session, author: User, now: datetime | None = None) -> None:
    """Refuse a new post when the author already posted the hourly maximum."""
    now = now or utcnow()
    since = now - POST_WINDOW
    recent = list(
        db.scalars(
            select(Post.created_at)
            .where(Post.author_id == author.id, Post.created_at > since)
            .order_by(Post.created_at)
        )
    )
    if len(recent) >= POSTS_PER_HOUR:
        wait = int((recent[-POSTS_PER_HOUR] + POST_WINDOW - now).total_seconds()) + 1
        raise TooManyRequests(
            f"you can post {POSTS_PER_HOUR} times an hour; try again in {wait // 60 + 1} minutes",
            retry_after=max(wait, 1),
        )


def check_attachable_clip(db: Session, author: User, clip_id: str) -> Clip:
    """Return the author's own clip if it may go on a post (marked as showing no people)."""
    clip = db.get(Clip, clip_id)
    if clip is None or clip.owner_id != author.id:
        # Someone else's clip is reported like a missing one, so ids reveal nothing.
        raise NotFound("no such clip among yours", extra={"field": "clip_id"})
    labels = set(clip.labels or [])
    if NO_PEOPLE_LABEL not in labels or PERSON_LABEL in labels:
        raise InvalidInput(
            "only clips you marked as showing no people can be attached until faces can be blurred",
            field="clip_id",
        )
    return clip


def prepare_post(
    db: Session,
    author: User,
    *,
    text: str,
    category: str,
    location: Coordinates | None,
    cell_resolution: int,
    clip_id: str | None = None,
    now: datetime | None = None,
) -> tuple[str, str, PostCategory]:
    """Check everything about a new post before anything is stored; return text, cell, category."""
    checked = check_post(text, category)
    if location is not None:
        cell = public_cell(location, cell_resolution)
    elif author.home_cell is not None:
        cell = author.home_cell
        if h3.get_resolution(cell) != cell_resolution:
            cell = public_cell(Coordinates(*h3.cell_to_latlng(cell)), cell_resolution)
    else:
        raise InvalidInput(
            "set your home in your account (or say where) so neighbours nearby see the post",
            field="location",
        )
    check_posting_rate(db, author, now)
    if clip_id is not None:
        check_attachable_clip(db, author, clip_id)
    return checked.text, cell, checked.category


def create_post(
    db: Session,
    author: User,
    *,
    text: str,
    category: str,
    location: Coordinates | None = None,
    cell_resolution: int,
    contact_opt_in: bool = False,
    clip_id: str | None = None,
    post_id: str | None = None,
    now: datetime | None = None,
) -> Post:
    """Publish a post at the public cell of ``location`` (or the author's home cell)."""
    clean, cell, kind = prepare_post(
        db,
        author,
        text=text,
        category=category,
        location=location,
        cell_resolution=cell_resolution,
        clip_id=clip_id,
        now=now,
    )
    post = Post(
        id=post_id or new_id(),
        author_id=author.id,
        category=kind.value,
        text=clean,
        cell=cell,
        contact_opt_in=contact_opt_in,
        clip_id=clip_id,
        created_at=now or utcnow(),
    )
    db.add(post)
    db.flush()
    return post


def photo_key(post_id: str) -> str:
    """Blob key of a post's photo (public, so not sealed)."""
    return f"photos/{post_id}.jpg"


def _clean_text(text: str, *, field: str, limit: int, what: str) -> str:
    value = text.strip()
    if not value:
        raise InvalidInput(f"write {what} first", field=field)
    if len(value) > limit:
        raise InvalidInput(f"{what} has at most {limit:,} characters", field=field)
    return value


def _bump(db: Session, post: Post, *, helpful: int = 0, comments: int = 0) -> None:
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


def add_comment(db: Session, post: Post, author: User, text: str) -> Comment:
    """Add a comment; the race-only rule applies to comments too."""
    clean = _clean_text(text, field="text", limit=MAX_COMMENT_LENGTH, what="a comment")
    refuse_race_only(clean)
    if post.status != PostStatus.VISIBLE.value:
        raise Conflict("this post is not open for comments")
    comment = Comment(post_id=post.id, author_id=author.id, text=clean)
    db.add(comment)
    _bump(db, post, comments=1)
    return comment


def mark_helpful(db: Session, post: Post, user: User, helpful: bool = True) -> None:
    """Mark or unmark a post as helpful; each account counts once."""
    mark = db.get(HelpfulMark, (post.id, user.id))
    if helpful and mark is None:
        db.add(HelpfulMark(post_id=post.id, user_id=user.id))
        _bump(db, post, helpful=1)
    elif not helpful and mark is not None:
        db.delete(mark)
        _bump(db, post, helpful=-1)


def follow(db: Session, post: Post, user: User, following: bool = True) -> None:
    """Follow or unfollow a post."""
    row = db.get(Follow, (post.id, user.id))
    if following and row is None:
        db.add(Follow(post_id=post.id, user_id=user.id))
    elif not following and row is not None:
        db.delete(row)
    db.flush()


def report(
    db: Session, post: Post, reporter: User, reason: str, comment: Comment | None = None
) -> Report:
    """Report a post or one of its comments; enough reports hold the post for review."""
    clean = _clean_text(reason, field="reason", limit=MAX_REASON_LENGTH, what="a reason")
    if comment is not None and comment.post_id != post.id:
        raise NotFound("no such comment")
    target_author = comment.author_id if comment is not None else post.author_id
    if target_author == reporter.id:
        raise InvalidInput("you cannot report what you wrote yourself; edit or ask a reviewer")
    comment_id = comment.id if comment is not None else None
    already = db.scalar(
        select(Report.id).where(
            Report.post_id == post.id,
            Report.reporter_id == reporter.id,
            Report.comment_id.is_(None) if comment_id is None else Report.comment_id == comment_id,
            Report.resolved_at.is_(None),
        )
    )
    if already is not None:
        raise Conflict("you already reported this; a reviewer will look at it")
    row = Report(post_id=post.id, comment_id=comment_id, reporter_id=reporter.id, reason=clean)
    db.add(row)
    db.flush()
    if comment_id is None and post.status == PostStatus.VISIBLE.value:
        open_reports = db.scalar(
            select(func.count(func.distinct(Report.reporter_id))).where(
                Report.post_id == post.id,
                Report.comment_id.is_(None),
                Report.resolved_at.is_(None),
            )
        )
        if (open_reports or 0) >= HOLD_AFTER_REPORTS:
            post.status = PostStatus.HELD.value
            post.status_reason = "held for review after several reports"
    return row


# --- moderation ----------------------------------------------------------------------------------


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


def _require_reviewer(user: User) -> None:
    if not is_reviewer(user):
        raise Forbidden("only reviewers moderate posts")


def _decision(decision: str, reason: str) -> tuple[Decision, str]:
    try:
        kind = Decision(decision)
    except ValueError as err:
        raise InvalidInput("decide keep or remove", field="decision") from err
    clean = _clean_text(reason, field="reason", limit=MAX_REASON_LENGTH, what="a reason")
    return kind, clean


def decide_post(
    db: Session, post: Post, reviewer: User, decision: str, reason: str
) -> ModerationDecision:
    """Keep or remove a post; resolves its open reports and any open appeal."""
    _require_reviewer(reviewer)
    kind, clean = _decision(decision, reason)
    now = utcnow()
    appeal = db.scalar(select(Appeal).where(Appeal.post_id == post.id))
    on_appeal = appeal is not None and appeal.decided_at is None
    if on_appeal and appeal is not None:
        appeal.decided_at, appeal.outcome = now, kind.value
    if kind is Decision.KEEP:
        post.status, post.status_reason = PostStatus.VISIBLE.value, None
    else:
        post.status, post.status_reason = PostStatus.REMOVED.value, clean
    db.execute(
        update(Report)
        .where(Report.post_id == post.id, Report.comment_id.is_(None), Report.resolved_at.is_(None))
        .values(resolved_at=now)
    )
    row = ModerationDecision(
        post_id=post.id,
        reviewer_id=reviewer.id,
        decision=kind.value,
        reason=clean,
        on_appeal=on_appeal,
        decided_at=now,
    )
    db.add(row)
    db.flush()
    return row


def decide_comment(
    db: Session, comment: Comment, reviewer: User, decision: str, reason: str
) -> ModerationDecision:
    """Keep or remove a reported comment."""
    _require_reviewer(reviewer)
    kind, clean = _decision(decision, reason)
    now = utcnow()
    post = comment.post
    if kind is Decision.REMOVE and comment.status == PostStatus.VISIBLE.value:
        comment.status, comment.status_reason = PostStatus.REMOVED.value, clean
        _bump(db, post, comments=-1)
    elif kind is Decision.KEEP and comment.status == PostStatus.REMOVED.value:
        comment.status, comment.status_reason = PostStatus.VISIBLE.value, None
        _bump(db, post, comments=1)
    db.execute(
        update(Report)
        .where(Report.comment_id == comment.id, Report.resolved_at.is_(None))
        .values(resolved_at=now)
    )
    row = ModerationDecision(
        post_id=comment.post_id,
        comment_id=comment.id,
        reviewer_id=reviewer.id,
        decision=kind.value,
        reason=clean,
        decided_at=now,
    )
    db.add(row)
    db.flush()
    return row


def appeal_for(db: Session, post: Post) -> Appeal | None:
    """The post's appeal, if the author made one."""
    return db.scalar(select(Appeal).where(Appeal.post_id == post.id))


def appeal(db: Session, post: Post, author: User, text: str) -> Appeal:
    """Appeal the removal of one's own post; once per post."""
    if post.author_id != author.id:
        raise NotFound("no such post")
    if post.status != PostStatus.REMOVED.value:
        raise Conflict("only a removed post can be appealed")
    if appeal_for(db, post) is not None:
        raise Conflict("this post was already appealed; each post can be appealed once")
    clean = _clean_text(text, field="text", limit=MAX_REASON_LENGTH, what="your appeal")
    row = Appeal(post_id=post.id, text=clean)
    db.add(row)
    db.flush()
    return row


# --- relay messages ------------------------------------------------------------------------------


def send_to_author(db: Session, post: Post, sender: User, text: str) -> RelayMessage:
    """Message a post's author through Doorstep, if they opted in to contact."""
    if post.author_id == sender.id:
        raise InvalidInput("this is your own post")
    if not post.contact_opt_in or post.status != PostStatus.VISIBLE.value:
        raise Forbidden("the author of this post did not ask to be contacted")
    clean = _clean_text(text, field="text", limit=MAX_MESSAGE_LENGTH, what="a message")
    row = RelayMessage(
        post_id=post.id, sender_id=sender.id, recipient_id=post.author_id, text=clean
    )
    db.add(row)
    db.flush()
    return row


def reply(db: Session, message_id: str, sender: User, text: str) -> RelayMessage:
    """Answer a message one received; the reply goes back to its sender."""
    original = db.get(RelayMessage, message_id)
    if original is None or original.recipient_id != sender.id:
        raise NotFound("no such message")
    clean = _clean_text(text, field="text", limit=MAX_MESSAGE_LENGTH, what="a message")
    row = RelayMessage(
        post_id=original.post_id,
        sender_id=sender.id,
        recipient_id=original.sender_id,
        text=clean,
    )
    db.add(row)
    db.flush()
    return row


def inbox(db: Session, user: User, limit: int = 100) -> list[RelayMessage]:
    """Messages the user sent or received, newest first; received ones are marked read."""
    rows = list(
        db.scalars(
            select(RelayMessage)
            .where(or_(RelayMessage.recipient_id == user.id, RelayMessage.sender_id == user.id))
            .order_by(RelayMessage.created_at.desc(), RelayMessage.id.desc())
            .limit(limit)
        )
    )
    now = utcnow()
    for row in rows:
        if row.recipient_id == user.id and row.read_at is None:
            row.read_at = now
    return rows


# --- tips and agency alerts ----------------------------------------------------------------------


def send_tip(db: Session, sender: User, agency_id: str, text: str, *, reveal: bool) -> Tip:
    """Send a tip to an agency; anonymous unless ``reveal``, and then nothing ties it to anyone."""
    agency = agency_id.strip()
    if not agency or len(agency) > 64:
        raise InvalidInput("name the agency the tip is for", field="agency_id")
    clean = _clean_text(text, field="text", limit=MAX_TIP_LENGTH, what="a tip")
    refuse_race_only(clean)
    row = Tip(
        agency_id=agency,
        text=clean,
        identity_revealed=reveal,
        sender_id=sender.id if reveal else None,
        sender_name=sender.display_name if reveal else None,
    )
    db.add(row)
    db.flush()
    return row


def tips_for_agency(db: Session, agency_id: str) -> list[Tip]:
    """The tips sent to an agency, newest first."""
    return list(
        db.scalars(
            select(Tip).where(Tip.agency_id == agency_id).order_by(Tip.created_at.desc()).limit(500)
        )
    )


def post_alert(
    db: Session,
    author: User,
    *,
    agency_name: str,
    jurisdiction: dict[str, Any],
    text: str,
    cells: Sequence[str],
    cell_resolution: int,
) -> AgencyAlert:
    """Post an agency alert to the residents of ``cells``, each inside ``jurisdiction``.

    A cell reaching any home outside the agency's jurisdiction is refused (``Forbidden``):
    see ``domain.alerts``, which also bounds the cells' resolution and number.
    """
    if author.role not in AGENCY_ROLES:
        raise Forbidden("only agency accounts post alerts")
    name = " ".join(agency_name.split())
    if not name or len(name) > 120:
        raise InvalidInput("name the agency (1 to 120 characters)", field="agency_name")
    clean = _clean_text(text, field="text", limit=MAX_ALERT_LENGTH, what="an alert")
    refuse_race_only(clean)
    covered = alerts.check_alert_cells(
        cells, jurisdiction, min(cell_resolution, FINEST_PUBLIC_RESOLUTION)
    )
    alert = AgencyAlert(author_id=author.id, agency_name=name, text=clean, cells=covered)
    db.add(alert)
    db.flush()
    db.add_all(AlertCell(alert_id=alert.id, cell=cell) for cell in covered)
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


def centre_of(cell: str) -> tuple[float, float]:
    """The rounded centre of a public cell, as shown to clients."""
    location = cell_location(cell)
    return location.lat, location.lon
