"""Holding an account's row, so that steps counting what the account has happen one at a time."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from doorstep.accounts.models import User


def lock_account(db: Session, user_id: str) -> None:
    """Hold the account's row until the transaction ends.

    An update that changes nothing: PostgreSQL locks the row as SELECT ... FOR UPDATE would, and
    SQLite (no row locks; FOR UPDATE ignored) takes its write lock, so a second transaction waits
    here and then counts what the first one committed.
    """
    db.execute(
        update(User)
        .where(User.id == user_id)
        .values(display_name=User.display_name)
        .execution_options(synchronize_session=False)
    )
