"""Throttle counters in the database, so every API process counts the same attempts.

An attempt is taken before the work it guards (a password check, a pairing code), by a
compare-and-set on the counter: requests sent in parallel cannot all read the same count and all
pass. Work that turns out fine gives its attempt back (``give_back``), so only failures count
where the rule says so.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from doorstep.accounts.models import ThrottleCounter
from doorstep.accounts.throttle_rules import Counter, Rule, wait_seconds
from doorstep.errors import TooManyRequests

#: Compare-and-set rounds before a source whose counter keeps changing under us is told to wait.
_ROUNDS = 4


def _read(db: Session, key: str) -> Counter | None:
    row = db.execute(
        select(
            ThrottleCounter.hits, ThrottleCounter.window_start, ThrottleCounter.last_hit_at
        ).where(ThrottleCounter.key == key)
    ).first()
    return Counter(row.hits, row.window_start, row.last_hit_at) if row else None


def _insert(db: Session, key: str, counter: Counter) -> bool:
    values = {
        "key": key,
        "hits": counter.hits,
        "window_start": counter.window_start,
        "last_hit_at": counter.last_hit_at,
    }
    insert = postgresql_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    result = db.execute(insert(ThrottleCounter).values(**values).on_conflict_do_nothing())
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _replace(db: Session, key: str, seen: Counter, counter: Counter) -> bool:
    result = db.execute(
        update(ThrottleCounter)
        .where(
            ThrottleCounter.key == key,
            ThrottleCounter.hits == seen.hits,
            ThrottleCounter.last_hit_at == seen.last_hit_at,
        )
        .values(
            hits=counter.hits,
            window_start=counter.window_start,
            last_hit_at=counter.last_hit_at,
        )
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return bool(result.rowcount)


def take(db: Session, key: str, rule: Rule, now: datetime, refusal: str) -> None:
    """Count one attempt of ``key`` under ``rule``, or raise TooManyRequests saying ``refusal``."""
    for _ in range(_ROUNDS):
        seen = _read(db, key)
        admitted = rule.admit(seen, now)
        if isinstance(admitted, timedelta):
            wait = wait_seconds(admitted)
            raise TooManyRequests(f"{refusal}; try again in {_duration(wait)}", retry_after=wait)
        taken = _insert(db, key, admitted) if seen is None else _replace(db, key, seen, admitted)
        if taken:
            return
    raise TooManyRequests(f"{refusal}; try again in a second", retry_after=1)


def give_back(db: Session, key: str) -> None:
    """Uncount one attempt of ``key``: what it guarded went well."""
    db.execute(
        update(ThrottleCounter)
        .where(ThrottleCounter.key == key, ThrottleCounter.hits > 0)
        .values(hits=ThrottleCounter.hits - 1)
        .execution_options(synchronize_session=False)
    )


def clear(db: Session, key: str) -> None:
    """Forget every attempt of ``key``."""
    db.execute(delete(ThrottleCounter).where(ThrottleCounter.key == key))


def forget_stale(db: Session, now: datetime, older_than: timedelta) -> int:
    """Remove counters untouched for ``older_than`` (longer than any rule remembers)."""
    result = db.execute(
        delete(ThrottleCounter).where(ThrottleCounter.last_hit_at < now - older_than)
    )
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{(seconds + 59) // 60} minutes"
