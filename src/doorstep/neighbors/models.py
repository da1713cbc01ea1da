"""Neighbors tables: posts by cell, comments, marks, reports, moderation, relay, tips, alerts.

Every location kept here is a public H3 cell (invariant I1): a post never stores the exact
position it was written from, only the cell ``public_cell`` gives for it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from doorstep.platform.orm import Base
from doorstep.platform.types import new_id, utcnow


class PostStatus(StrEnum):
    """Where a post stands with moderation."""

    VISIBLE = "visible"
    HELD = "held"
    REMOVED = "removed"


class Decision(StrEnum):
    """What a reviewer decided about a reported or held post or comment."""

    KEEP = "keep"
    REMOVE = "remove"


class Post(Base):
    """A Neighbors post; located by its public cell only, never an exact position."""

    __tablename__ = "posts"
    __table_args__ = (
        # The feed asks for "these cells, newest first": one range per cell in this index.
        Index("ix_posts_cell_created_at", "cell", "created_at"),
        Index("ix_posts_author_created_at", "author_id", "created_at"),
        Index("ix_posts_status_created_at", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(Text)
    cell: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default=PostStatus.VISIBLE.value)
    status_reason: Mapped[str | None] = mapped_column(Text)
    contact_opt_in: Mapped[bool] = mapped_column(Boolean, default=False)
    photo_key: Mapped[str | None] = mapped_column(String(80))
    clip_id: Mapped[str | None] = mapped_column(
        ForeignKey("clips.id", ondelete="SET NULL"), index=True
    )
    helpful_count: Mapped[int] = mapped_column(Integer, default=0)
    comment_count: Mapped[int] = mapped_column(Integer, default=0)

    comments: Mapped[list[Comment]] = relationship(
        back_populates="post",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Comment.created_at",
    )


class Comment(Base):
    """A reply under a post."""

    __tablename__ = "post_comments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    post_id: Mapped[str] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default=PostStatus.VISIBLE.value)
    status_reason: Mapped[str | None] = mapped_column(Text)

    post: Mapped[Post] = relationship(back_populates="comments")


class HelpfulMark(Base):
    """One account found one post helpful (at most once)."""

    __tablename__ = "post_helpful_marks"

    post_id: Mapped[str] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Follow(Base):
    """An account follows a post to hear about new comments."""

    __tablename__ = "post_follows"

    post_id: Mapped[str] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Report(Base):
    """A resident's report of a post, or of one comment under it, with the reason."""

    __tablename__ = "post_reports"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    post_id: Mapped[str] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[str | None] = mapped_column(
        ForeignKey("post_comments.id", ondelete="CASCADE"), index=True
    )
    reporter_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column()


class ModerationDecision(Base):
    """A reviewer's decision on a post or a comment, with the reason shown to its author."""

    __tablename__ = "moderation_decisions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    post_id: Mapped[str] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[str | None] = mapped_column(
        ForeignKey("post_comments.id", ondelete="CASCADE"), index=True
    )
    reviewer_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    decision: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)
    on_appeal: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)


class Appeal(Base):
    """The author's one appeal against the removal of a post."""

    __tablename__ = "post_appeals"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    post_id: Mapped[str] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), unique=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column()
    outcome: Mapped[str | None] = mapped_column(String(10))


class RelayMessage(Base):
    """A message about a post between its author and another resident, kept inside Doorstep."""

    __tablename__ = "relay_messages"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    post_id: Mapped[str] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    sender_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    recipient_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column()


class Tip(Base):
    """A tip to an agency; the sender is kept only when they chose to reveal who they are."""

    __tablename__ = "agency_tips"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    agency_id: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(Text)
    identity_revealed: Mapped[bool] = mapped_column(Boolean, default=False)
    # NULL for anonymous tips: what is never stored can never be handed over.
    sender_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    sender_name: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgencyAlert(Base):
    """An alert an agency posted to the residents of a set of cells."""

    __tablename__ = "agency_alerts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    author_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    agency_name: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    cells: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class AlertCell(Base):
    """One cell an alert covers, so residents' alerts are found by an indexed lookup."""

    __tablename__ = "agency_alert_cells"

    alert_id: Mapped[str] = mapped_column(
        ForeignKey("agency_alerts.id", ondelete="CASCADE"), primary_key=True
    )
    cell: Mapped[str] = mapped_column(String(16), primary_key=True, index=True)
