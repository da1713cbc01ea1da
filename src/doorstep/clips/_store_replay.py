"""The account events kept for pages that reconnect: a row per event, for a few minutes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from doorstep.clips.models import AccountEvent


def keep(db: Session, account_id: str, event: dict[str, Any], now: datetime) -> int:
    """Store the event and return its id (flushed, so the id is known before the commit)."""
    row = AccountEvent(account_id=account_id, created_at=now, event=event)
    db.add(row)
    db.flush()
    return row.id


def forget_before(db: Session, moment: datetime, account_id: str | None = None) -> None:
    """Remove the account's (or every account's) events older than ``moment``."""
    old = delete(AccountEvent).where(AccountEvent.created_at < moment)
    if account_id is not None:
        old = old.where(AccountEvent.account_id == account_id)
    db.execute(old)


def after(
    db: Session, account_id: str, last_id: int, since: datetime, limit: int
) -> Sequence[AccountEvent]:
    """The account's newest ``limit`` events after ``last_id`` and since ``since``, oldest first."""
    rows = db.scalars(
        select(AccountEvent)
        .where(
            AccountEvent.account_id == account_id,
            AccountEvent.id > last_id,
            AccountEvent.created_at >= since,
        )
        .order_by(AccountEvent.id.desc())
        .limit(limit)
    ).all()
    return rows[::-1]
