"""Moving what the master key protects to a new master key, one column of one table at a time.

Each room names its own columns and contexts (``rewrap_keys`` in its service); this only does
the work, in the caller's transaction, so a rotation commits every column or none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.platform.crypto import unwrap_key, wrap_key
from doorstep.platform.sealed import TextSeal


def rewrap_column(
    db: Session,
    model: type[Any],
    column: str,
    context_of: Callable[[Any], bytes],
    old: bytes,
    new: bytes,
) -> int:
    """Wrap every key in ``model.column`` under ``new`` instead of ``old``; how many there were.

    A key that does not open under ``old`` raises ``DecryptionFailed``: the caller's transaction
    is then rolled back whole, and nothing is lost.
    """
    rows = db.scalars(select(model).where(getattr(model, column).is_not(None))).all()
    for row in rows:
        context = context_of(row)
        key = unwrap_key(old, getattr(row, column), context=context)
        setattr(row, column, wrap_key(new, key, context=context))
    db.flush()
    return len(rows)


def reseal_column(
    db: Session,
    model: type[Any],
    column: str,
    purpose: str,
    bound_of: Callable[[Any], str],
    old: bytes,
    new: bytes,
) -> int:
    """Seal every text in ``model.column`` under ``new``'s key for ``purpose``; how many."""
    before, after = TextSeal(old, purpose), TextSeal(new, purpose)
    rows = db.scalars(select(model).where(getattr(model, column).is_not(None))).all()
    for row in rows:
        bound = bound_of(row)
        text = before.open(getattr(row, column), bound_to=bound)
        setattr(row, column, after.seal(text, bound_to=bound))
    db.flush()
    return len(rows)
