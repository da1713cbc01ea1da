"""Apprise targets: URLs an account adds to get its notices on ntfy, Gotify, Matrix and the like.

Off unless the operator sets ``DOORSTEP_APPRISE_TARGETS``: Doorstep then connects to whatever
address a user gives, which only a self-hoster's own users should be trusted with. The URLs
(which carry passwords and tokens) are sealed at rest under a master-key-derived key, bound to
their row, and shown only masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from doorstep.accounts import _store_email as stored
from doorstep.accounts.models import NoticeTarget, User
from doorstep.accounts.rules import MAX_NOTICE_TARGETS, MAX_TARGET_URL
from doorstep.errors import Conflict, Forbidden, InvalidInput, Unavailable
from doorstep.platform import apprise_send
from doorstep.platform.rewrap import reseal_column
from doorstep.platform.sealed import TextSeal
from doorstep.platform.types import new_id, utcnow
from doorstep.settings import Settings

#: The purpose of the key the URLs are sealed under.
SEAL_PURPOSE = "notice-target/v1"


@dataclass(frozen=True, slots=True)
class TargetPublic:
    """A target as the account page lists it: masked, never the URL."""

    id: str
    masked: str
    created_at: datetime
    last_failure: str | None


def targets_on(settings: Settings) -> bool:
    """Whether users may add Apprise targets here."""
    return settings.apprise_targets


def _bound(user_id: str, target_id: str) -> str:
    return f"{user_id}\x00{target_id}"


def reseal_targets(db: Session, old: bytes, new: bytes) -> int:
    """Seal every notification target's URL under the new master key (a rotation)."""
    return reseal_column(
        db,
        NoticeTarget,
        "sealed_url",
        SEAL_PURPOSE,
        lambda row: _bound(row.user_id, row.id),
        old,
        new,
    )


def list_targets(user: User) -> list[TargetPublic]:
    """The account's targets, masked."""
    return [
        TargetPublic(row.id, row.masked, row.created_at, row.last_failure)
        for row in user.notice_targets
    ]


def add_target(
    db: Session, settings: Settings, master_key: bytes, user: User, url: str
) -> TargetPublic:
    """Add an Apprise URL; refused when off, malformed, too long, or one too many."""
    if not targets_on(settings):
        raise Forbidden("Apprise targets are off on this Doorstep (DOORSTEP_APPRISE_TARGETS)")
    if len(url) > MAX_TARGET_URL:
        raise InvalidInput(f"use at most {MAX_TARGET_URL} characters", field="url")
    url = apprise_send.check_url(url)
    if len(stored.targets_of(db, user.id)) >= MAX_NOTICE_TARGETS:
        raise Conflict(f"an account has at most {MAX_NOTICE_TARGETS} targets", field="url")
    target_id = new_id()
    sealed = TextSeal(master_key, SEAL_PURPOSE).seal(url, bound_to=_bound(user.id, target_id))
    row = stored.add_target(
        db,
        NoticeTarget(
            id=target_id,
            user_id=user.id,
            sealed_url=sealed,
            masked=apprise_send.masked(url),
            created_at=utcnow(),
        ),
    )
    return TargetPublic(row.id, row.masked, row.created_at, row.last_failure)


def remove_target(db: Session, user: User, target_id: str) -> None:
    """Remove one of the account's targets."""
    stored.remove_target(db, user, target_id)


def target_ids(db: Session, account_id: str) -> list[str]:
    """The ids of the account's targets (what a notice fans out to)."""
    return [row.id for row in stored.targets_of(db, account_id)]


def deliver(db: Session, master_key: bytes, target_id: str, *, title: str, body: str) -> bool:
    """Send one notice to one target; False if it is gone. A failure is noted and raised."""
    row = stored.find_target(db, target_id)
    if row is None:
        return False
    url = TextSeal(master_key, SEAL_PURPOSE).open(
        row.sealed_url, bound_to=_bound(row.user_id, row.id)
    )
    try:
        apprise_send.send(url, title=title, body=body)
    except (Unavailable, InvalidInput) as err:
        row.last_failure = f"{utcnow():%Y-%m-%d %H:%M} UTC: {err.detail}"[:200]
        db.commit()
        raise
    row.last_failure = None
    return True
