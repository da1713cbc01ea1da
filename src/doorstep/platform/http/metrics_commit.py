"""Counts that wait for their rows: a clip or an alert counts once its transaction commits.

Apart from ``metrics`` so that the agent, which times its detections there, needs no database.
"""

from __future__ import annotations

from prometheus_client import Counter
from sqlalchemy.orm import Session

from doorstep.platform import after_commit
from doorstep.platform.http.metrics import ALERTS, CLIP_BYTES_STORED, CLIPS_STORED

#: The after-commit kind of counts that wait for their rows to land.
METRICS = "metrics"


def count_after_commit(db: Session, counter: Counter, amount: float = 1) -> None:
    """Add ``amount`` to ``counter`` once the session commits (nothing if it rolls back)."""
    after_commit.defer(db, METRICS, (counter, amount))
    after_commit.run_after_commit(db, METRICS, _count)


def count_clip_stored(db: Session, size: int) -> None:
    """A clip of ``size`` bytes stored, once it commits."""
    count_after_commit(db, CLIPS_STORED)
    count_after_commit(db, CLIP_BYTES_STORED, size)


def count_alert(db: Session) -> None:
    """An owner alerted, once it commits."""
    count_after_commit(db, ALERTS)


def _count(items: list[tuple[Counter, float]]) -> None:
    for counter, amount in items:
        counter.inc(amount)
