"""Published tree heads: two publishers at once keep one head per size."""

from __future__ import annotations

import threading

from doorstep.platform.db import Database
from doorstep.transparency import audit_store as audit
from doorstep.transparency.models import PublishedTreeHead

KEY = b"k" * 32


def test_a_second_publisher_waits_and_keeps_no_second_head_of_the_same_size(
    database: Database,
) -> None:
    with database.session() as db:
        audit.record(db, KEY, "test.entry", actor=None, owner_id=None, detail={"n": 1})
    second: list[int] = []
    with database.session() as first:
        mine = audit.publish_head(first, KEY)
        # The second publisher starts while the first has not committed yet.
        other = threading.Thread(target=lambda: second.append(_publish(database)))
        other.start()
        other.join(timeout=1)
        waited = other.is_alive()
    other.join(timeout=30)
    with database.session() as db:
        sizes = [row.size for row in db.query(PublishedTreeHead).order_by(PublishedTreeHead.id)]
    assert sizes.count(mine.size) == 1
    assert second == [mine.id]
    # SQLite runs one writer at a time on its own; PostgreSQL must be told to.
    assert waited or database.engine.dialect.name == "sqlite"


def _publish(database: Database) -> int:
    with database.session() as db:
        return audit.publish_head(db, KEY).id
