"""Email's tables: mailed single-use links, browsers an account has seen, Apprise targets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from doorstep.accounts.models import EmailLink, NoticeTarget, SeenBrowser, User
from doorstep.accounts.rules import MAX_OPEN_LINKS, MAX_SEEN_BROWSERS, LinkPurpose
from doorstep.errors import NotFound
from doorstep.platform.security import digest


def open_links(db: Session, user: User, purpose: LinkPurpose, now: datetime) -> int:
    """How many unused, unexpired links of ``purpose`` the account has out."""
    query = select(func.count(EmailLink.id)).where(
        EmailLink.user_id == user.id,
        EmailLink.purpose == purpose.value,
        EmailLink.used_at.is_(None),
        EmailLink.expires_at > now,
    )
    return int(db.scalar(query) or 0)


def add_link(
    db: Session,
    user: User,
    purpose: LinkPurpose,
    *,
    link_id: str,
    secret: str,
    now: datetime,
    expires_at: datetime,
) -> EmailLink | None:
    """Keep a new link's hash, or None when the account has ``MAX_OPEN_LINKS`` out already."""
    if open_links(db, user, purpose, now) >= MAX_OPEN_LINKS:
        return None
    link = EmailLink(
        id=link_id,
        user_id=user.id,
        purpose=purpose.value,
        email=user.email,
        secret_hash=digest(secret),
        created_at=now,
        expires_at=expires_at,
    )
    db.add(link)
    db.flush()
    return link


def link_by_secret(db: Session, purpose: LinkPurpose, secret: str) -> EmailLink:
    """The link a secret belongs to; ``NotFound`` for one never made (or of another purpose)."""
    link = db.scalar(
        select(EmailLink).where(
            EmailLink.secret_hash == digest(secret), EmailLink.purpose == purpose.value
        )
    )
    if link is None:
        raise NotFound("this link is not one Doorstep sent")
    return link


def lock_link(db: Session, link: EmailLink) -> EmailLink:
    """Read the link again, locked, so two tabs following it race to use it only once."""
    db.refresh(link, with_for_update=True)
    return link


def find_link(db: Session, link_id: str) -> EmailLink | None:
    """A link by id (the mail job's argument), or None once it is gone."""
    return db.get(EmailLink, link_id)


def close_links(db: Session, user: User, purpose: LinkPurpose, now: datetime) -> None:
    """Mark every open link of ``purpose`` used: a reset link must not outlive the reset."""
    for link in db.scalars(
        select(EmailLink).where(
            EmailLink.user_id == user.id,
            EmailLink.purpose == purpose.value,
            EmailLink.used_at.is_(None),
        )
    ):
        link.used_at = now


def forget_old_links(db: Session, before: datetime) -> int:
    """Remove links that expired before ``before``."""
    result = db.execute(delete(EmailLink).where(EmailLink.expires_at < before))
    return int(result.rowcount)  # type: ignore[attr-defined]


def browser_seen(db: Session, key: str) -> bool:
    """Whether this browser key signed in to its account before."""
    return db.get(SeenBrowser, key) is not None


def has_seen_any(db: Session, user: User) -> bool:
    """Whether any browser signed in to the account before."""
    return db.scalar(select(SeenBrowser.key).where(SeenBrowser.user_id == user.id)) is not None


def remember_browser(db: Session, user: User, key: str, now: datetime) -> None:
    """Keep the browser as seen; the account keeps the ``MAX_SEEN_BROWSERS`` most recent."""
    row = db.get(SeenBrowser, key)
    if row is None:
        db.add(SeenBrowser(key=key, user_id=user.id, last_seen_at=now))
    else:
        row.last_seen_at = now
    db.flush()
    stale = (
        select(SeenBrowser.key)
        .where(SeenBrowser.user_id == user.id)
        .order_by(SeenBrowser.last_seen_at.desc(), SeenBrowser.key)
        .offset(MAX_SEEN_BROWSERS)
    )
    forgotten = list(db.scalars(stale))
    if forgotten:
        db.execute(delete(SeenBrowser).where(SeenBrowser.key.in_(forgotten)))


# --- Apprise targets ------------------------------------------------------------------------------


def targets_of(db: Session, user_id: str) -> list[NoticeTarget]:
    """The account's Apprise targets, oldest first."""
    query = select(NoticeTarget).where(NoticeTarget.user_id == user_id)
    return list(db.scalars(query.order_by(NoticeTarget.created_at, NoticeTarget.id)))


def add_target(db: Session, target: NoticeTarget) -> NoticeTarget:
    """Keep a new target."""
    db.add(target)
    db.flush()
    return target


def remove_target(db: Session, user: User, target_id: str) -> None:
    """Remove one of the account's targets; someone else's is ``NotFound`` like a missing one."""
    row = db.get(NoticeTarget, target_id)
    if row is None or row.user_id != user.id:
        raise NotFound("no such notification target")
    db.delete(row)


def find_target(db: Session, target_id: str) -> NoticeTarget | None:
    """A target by id (the delivery job's argument)."""
    return db.get(NoticeTarget, target_id)
