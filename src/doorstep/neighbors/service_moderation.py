"""Neighbors moderation: reports, the reviewers' queue, keep-or-remove decisions and appeals."""

from __future__ import annotations

from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.errors import Conflict, Forbidden, InvalidInput, NotFound
from doorstep.neighbors import store
from doorstep.neighbors._public import decision_public, queue_item_public
from doorstep.neighbors.models import (
    Appeal,
    Comment,
    Decision,
    ModerationDecision,
    Post,
    PostStatus,
    Report,
)
from doorstep.neighbors.rules import HOLD_AFTER_REPORTS, MAX_REASON_LENGTH, clean_text, is_reviewer
from doorstep.neighbors.schemas import DecisionPublic, PostDetail, QueueItemPublic
from doorstep.neighbors.service import comment_of, get_post, post_detail
from doorstep.neighbors.store import QueueItem
from doorstep.platform.types import utcnow


def report(
    db: Session, post: Post, reporter: User, reason: str, comment: Comment | None = None
) -> Report:
    """Report a post or one of its comments; enough reports hold the post for review."""
    clean = clean_text(reason, field="reason", limit=MAX_REASON_LENGTH, what="a reason")
    if comment is not None and comment.post_id != post.id:
        raise NotFound("no such comment")
    target_author = comment.author_id if comment is not None else post.author_id
    if target_author == reporter.id:
        raise InvalidInput("you cannot report what you wrote yourself; edit or ask a reviewer")
    comment_id = comment.id if comment is not None else None
    if store.has_open_report(db, post.id, reporter.id, comment_id):
        raise Conflict("you already reported this; a reviewer will look at it")
    row = store.add_report(db, post.id, reporter.id, clean, comment_id)
    if (
        comment_id is None
        and post.status == PostStatus.VISIBLE.value
        and store.open_post_reporters(db, post.id) >= HOLD_AFTER_REPORTS
    ):
        post.status = PostStatus.HELD.value
        post.status_reason = "held for review after several reports"
    return row


def report_post(
    db: Session, post_id: str, reporter: User, reason: str, comment_id: str | None = None
) -> Report:
    """Report a post the reporter may see, or one comment under it."""
    post = get_post(db, post_id, reporter)
    comment = comment_of(db, post, comment_id) if comment_id is not None else None
    return report(db, post, reporter, reason, comment)


def moderation_queue(db: Session) -> list[QueueItem]:
    """Held posts, posts or comments with open reports, and open appeals; oldest first."""
    return store.moderation_queue(db)


def queue(db: Session, reviewer: User) -> list[QueueItemPublic]:
    """The moderation queue as a reviewer sees it."""
    return [queue_item_public(item, reviewer) for item in store.moderation_queue(db)]


def _require_reviewer(user: User) -> None:
    if not is_reviewer(user):
        raise Forbidden("only reviewers moderate posts")


def _decision(decision: str, reason: str) -> tuple[Decision, str]:
    try:
        kind = Decision(decision)
    except ValueError as err:
        raise InvalidInput("decide keep or remove", field="decision") from err
    clean = clean_text(reason, field="reason", limit=MAX_REASON_LENGTH, what="a reason")
    return kind, clean


def decide_post(
    db: Session, post: Post, reviewer: User, decision: str, reason: str
) -> ModerationDecision:
    """Keep or remove a post; resolves its open reports and any open appeal."""
    _require_reviewer(reviewer)
    kind, clean = _decision(decision, reason)
    now = utcnow()
    appeal = store.appeal_for(db, post)
    on_appeal = appeal is not None and appeal.decided_at is None
    if on_appeal and appeal is not None:
        appeal.decided_at, appeal.outcome = now, kind.value
    if kind is Decision.KEEP:
        post.status, post.status_reason = PostStatus.VISIBLE.value, None
    else:
        post.status, post.status_reason = PostStatus.REMOVED.value, clean
    store.resolve_post_reports(db, post.id, now)
    row = ModerationDecision(
        post_id=post.id,
        reviewer_id=reviewer.id,
        decision=kind.value,
        reason=clean,
        on_appeal=on_appeal,
        decided_at=now,
    )
    return store.add_decision(db, row)


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
        store.bump(db, post, comments=-1)
    elif kind is Decision.KEEP and comment.status == PostStatus.REMOVED.value:
        comment.status, comment.status_reason = PostStatus.VISIBLE.value, None
        store.bump(db, post, comments=1)
    store.resolve_comment_reports(db, comment.id, now)
    row = ModerationDecision(
        post_id=comment.post_id,
        comment_id=comment.id,
        reviewer_id=reviewer.id,
        decision=kind.value,
        reason=clean,
        decided_at=now,
    )
    return store.add_decision(db, row)


def decide_on_post(
    db: Session, post_id: str, reviewer: User, decision: str, reason: str
) -> DecisionPublic:
    """Keep or remove a post, with the reason its author will see."""
    post = get_post(db, post_id, reviewer)
    return decision_public(decide_post(db, post, reviewer, decision, reason))


def decide_on_comment(
    db: Session, post_id: str, comment_id: str, reviewer: User, decision: str, reason: str
) -> DecisionPublic:
    """Keep or remove a reported comment under a post."""
    comment = comment_of(db, get_post(db, post_id, reviewer), comment_id)
    return decision_public(decide_comment(db, comment, reviewer, decision, reason))


def appeal_for(db: Session, post: Post) -> Appeal | None:
    """The post's appeal, if the author made one."""
    return store.appeal_for(db, post)


def appeal(db: Session, post: Post, author: User, text: str) -> Appeal:
    """Appeal the removal of one's own post; once per post."""
    if post.author_id != author.id:
        raise NotFound("no such post")
    if post.status != PostStatus.REMOVED.value:
        raise Conflict("only a removed post can be appealed")
    if store.appeal_for(db, post) is not None:
        raise Conflict("this post was already appealed; each post can be appealed once")
    clean = clean_text(text, field="text", limit=MAX_REASON_LENGTH, what="your appeal")
    return store.add_appeal(db, post.id, clean)


def appeal_post(db: Session, post_id: str, author: User, text: str) -> PostDetail:
    """Appeal the removal of one's own post and show it again."""
    post = get_post(db, post_id, author)
    appeal(db, post, author, text)
    return post_detail(db, post, author)
