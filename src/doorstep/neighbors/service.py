"""Neighbors use cases: posts, their photos, comments and marks, and what a viewer may see.

Routes, pages and the demo call these; the queries are in ``store``, the decisions in ``rules``.
Reading the feed is in ``service_feed``, moderation in ``service_moderation``, relay messages,
tips and agency alerts in ``service_relay``.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import h3
from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.clips.models import Clip
from doorstep.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
)
from doorstep.geo.cells import Coordinates, public_cell
from doorstep.neighbors import _store_feed, store
from doorstep.neighbors._public import (
    comment_public,
    post_public,
)
from doorstep.neighbors.models import Comment, Post, PostStatus
from doorstep.neighbors.rules import (
    MAX_COMMENT_LENGTH,
    MAX_PHOTO_BYTES,
    NO_PEOPLE_LABEL,
    PERSON_LABEL,
    POST_WINDOW,
    POSTS_PER_HOUR,
    PostCategory,
    check_post,
    clean_text,
    is_reviewer,
    posting_wait,
    refuse_race_only,
)
from doorstep.neighbors.schemas import CommentPublic, PostDetail
from doorstep.platform.blobs import BlobStore
from doorstep.platform.types import new_id, utcnow
from doorstep.settings import Settings


def home_cell(user: User, settings: Settings) -> str:
    """The caller's home cell at the public resolution, or a clear error if no home is set."""
    if user.home_cell is None or user.home_lat is None or user.home_lon is None:
        raise InvalidInput("set your home in your account to read the feed around it", field="home")
    resolution = settings.public_cell_resolution
    if h3.get_resolution(user.home_cell) == resolution:
        return user.home_cell
    return public_cell(Coordinates(user.home_lat, user.home_lon), resolution)


def get_post(db: Session, post_id: str, viewer: User) -> Post:
    """Return a post the viewer may see: visible ones, their own, or any for reviewers."""
    post = store.find_post(db, post_id)
    if post is None:
        raise NotFound("no such post")
    if post.status != PostStatus.VISIBLE.value and not (
        post.author_id == viewer.id or is_reviewer(viewer)
    ):
        raise NotFound("no such post")
    return post


def comment_of(db: Session, post: Post, comment_id: str) -> Comment:
    """A comment under ``post``, or NotFound."""
    comment = store.find_comment(db, comment_id)
    if comment is None or comment.post_id != post.id:
        raise NotFound("no such comment")
    return comment


def visible_comments(post: Post, viewer: User) -> list[Comment]:
    """The comments the viewer may read: visible ones, and their own removed ones."""
    return [
        c
        for c in post.comments
        if c.status == PostStatus.VISIBLE.value or c.author_id == viewer.id or is_reviewer(viewer)
    ]


def post_detail(db: Session, post: Post, viewer: User) -> PostDetail:
    """A post with its comments, for ``viewer``."""
    marks = _store_feed.viewer_marks(db, viewer, [post.id])
    appeal = store.appeal_for(db, post) if post.author_id == viewer.id else None
    appeal_status = None
    if appeal is not None:
        appeal_status = appeal.outcome or "pending"
    return PostDetail(
        **post_public(post, viewer, marks).model_dump(),
        comments=[comment_public(c, viewer) for c in visible_comments(post, viewer)],
        can_appeal=(
            post.author_id == viewer.id
            and post.status == PostStatus.REMOVED.value
            and appeal is None
        ),
        appeal_status=appeal_status,
    )


def read_post(db: Session, post_id: str, viewer: User) -> PostDetail:
    """One post with its comments, if the viewer may see it."""
    return post_detail(db, get_post(db, post_id, viewer), viewer)


# --- posting -------------------------------------------------------------------------------------


def check_posting_rate(db: Session, author: User, now: datetime | None = None) -> None:
    """Refuse a new post when the author already posted the hourly maximum."""
    now = now or utcnow()
    wait = posting_wait(store.post_times_since(db, author.id, now - POST_WINDOW), now)
    if wait is not None:
        raise TooManyRequests(
            f"you can post {POSTS_PER_HOUR} times an hour; try again in {wait // 60 + 1} minutes",
            retry_after=max(wait, 1),
        )


def check_attachable_clip(db: Session, author: User, clip_id: str) -> Clip:
    """Return the author's own clip if it may go on a post (marked as showing no people)."""
    clip = store.find_clip(db, clip_id)
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
    return store.add_post(db, post)


def write_post(
    db: Session,
    author: User,
    *,
    text: str,
    category: str,
    location: Coordinates | None,
    cell_resolution: int,
    contact_opt_in: bool,
    clip_id: str | None,
) -> PostDetail:
    """Publish a post from the API and show it to its author."""
    post = create_post(
        db,
        author,
        text=text,
        category=category,
        location=location,
        cell_resolution=cell_resolution,
        contact_opt_in=contact_opt_in,
        clip_id=clip_id,
    )
    return post_detail(db, post, author)


def clean_upload(data: bytes) -> bytes:
    """Check an uploaded photo's size and content; return it re-encoded without metadata."""
    from doorstep.media.image import clean_photo

    if len(data) > MAX_PHOTO_BYTES:
        raise PayloadTooLarge("a photo is at most 5 MB")
    if not data:
        raise InvalidInput("the photo is empty", field="photo")
    return clean_photo(data)


def _store_photo(blobs: BlobStore, post: Post, clean_jpeg: bytes) -> None:
    key = store.photo_key(post.id)
    blobs.put(key, io.BytesIO(clean_jpeg), max_size=MAX_PHOTO_BYTES)
    post.photo_key = key


def publish_post(
    db: Session,
    blobs: BlobStore,
    author: User,
    settings: Settings,
    *,
    text: str,
    category: str,
    contact_opt_in: bool,
    photo: bytes | None,
) -> Post:
    """Publish a post from the form, with its photo (checked before anything is kept)."""
    clean = clean_upload(photo) if photo is not None else None
    post = create_post(
        db,
        author,
        text=text,
        category=category,
        cell_resolution=settings.public_cell_resolution,
        contact_opt_in=contact_opt_in,
    )
    if clean is not None:
        _store_photo(blobs, post, clean)
    return post


def upload_photo(
    db: Session, blobs: BlobStore, post_id: str, author: User, data: bytes
) -> PostDetail:
    """Attach a photo to one's own post; it is re-encoded without metadata."""
    post = get_post(db, post_id, author)
    if post.author_id != author.id:
        raise NotFound("no such post among yours")
    _store_photo(blobs, post, clean_upload(data))
    return post_detail(db, post, author)


def read_photo(db: Session, blobs: BlobStore, post_id: str, viewer: User) -> bytes:
    """The post's photo, as cleaned on upload."""
    post = get_post(db, post_id, viewer)
    if post.photo_key is None:
        raise NotFound("this post has no photo")
    return b"".join(blobs.open_stream(post.photo_key))


# --- comments and marks --------------------------------------------------------------------------


def add_comment(db: Session, post: Post, author: User, text: str) -> Comment:
    """Add a comment; the race-only rule applies to comments too."""
    clean = clean_text(text, field="text", limit=MAX_COMMENT_LENGTH, what="a comment")
    refuse_race_only(clean)
    if post.status != PostStatus.VISIBLE.value:
        raise Conflict("this post is not open for comments")
    return store.add_comment(db, post, author.id, clean)


def comment_on(db: Session, post_id: str, author: User, text: str) -> CommentPublic:
    """Comment on a post the author may see."""
    comment = add_comment(db, get_post(db, post_id, author), author, text)
    return comment_public(comment, author)


def mark_helpful(db: Session, post: Post, user: User, helpful: bool = True) -> None:
    """Mark or unmark a post as helpful; each account counts once."""
    store.mark_helpful(db, post, user, helpful)


def follow(db: Session, post: Post, user: User, following: bool = True) -> None:
    """Follow or unfollow a post."""
    store.follow(db, post, user, following)


def set_helpful(db: Session, post_id: str, user: User, helpful: bool) -> PostDetail:
    """Mark a post helpful (or take the mark back) and show it again."""
    post = get_post(db, post_id, user)
    mark_helpful(db, post, user, helpful)
    return post_detail(db, post, user)


def set_following(db: Session, post_id: str, user: User, following: bool) -> PostDetail:
    """Follow a post (or stop following it) and show it again."""
    post = get_post(db, post_id, user)
    follow(db, post, user, following)
    return post_detail(db, post, user)


# --- the past of a neighbourhood: the demo's posts -----------------------------------------------


@dataclass(frozen=True, slots=True)
class PastComment:
    """A comment made some time ago: by whom, what, and when."""

    author_id: str
    text: str
    created_at: datetime


def add_past_post(
    db: Session,
    author_id: str,
    cell: str,
    *,
    category: str,
    text: str,
    created_at: datetime,
    contact_opt_in: bool,
    helpful_count: int,
    comments: Sequence[PastComment],
) -> Post:
    """A published post as it stands some time after ``created_at``, with its comments."""
    post = store.add_post(
        db,
        Post(
            id=new_id(),
            author_id=author_id,
            category=category,
            text=text,
            cell=cell,
            created_at=created_at,
            contact_opt_in=contact_opt_in,
            helpful_count=helpful_count,
            comment_count=len(comments),
        ),
    )
    store.add_comments(
        db,
        [
            Comment(post_id=post.id, author_id=c.author_id, text=c.text, created_at=c.created_at)
            for c in comments
        ],
    )
    return post
