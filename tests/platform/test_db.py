"""The database wrapper: an overloaded connection pool is a clear 503, not a hang or a 500."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import text

from doorstep.errors import Unavailable
from doorstep.platform.db import RETRY_AFTER_S, Database


def test_a_busy_pool_is_a_quick_unavailable(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'busy.db'}", pool_timeout=0.2)
    pool_size = db.engine.pool.size() + db.engine.pool._max_overflow  # type: ignore[attr-defined]
    with ExitStack() as held:
        for _ in range(pool_size):
            held.enter_context(db.engine.connect())
        with pytest.raises(Unavailable, match="busy") as raised, db.session() as session:
            session.execute(text("SELECT 1"))
    # The problem document, and so the response's Retry-After header, says when to try again.
    assert raised.value.problem()["retry_after"] == RETRY_AFTER_S
    # Once connections come back, the same database serves again.
    with db.session() as session:
        assert session.execute(text("SELECT 1")).scalar() == 1
    db.dispose()


def _backend_pid(db: Database) -> int:
    with db.session() as session:
        return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _drop_connection(postgres_url: str, pid: int) -> None:
    other = Database(postgres_url)
    with other.session() as session:
        # With a timeout, it returns once the backend has gone, not merely been signalled.
        session.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
    other.dispose()


@pytest.mark.postgres
def test_an_idle_connection_the_server_dropped_is_replaced_unseen(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("doorstep.platform.db.PING_AFTER_IDLE_S", 0.0)
    db = Database(postgres_url)
    dropped = _backend_pid(db)
    _drop_connection(postgres_url, dropped)
    # Tested on checkout, found gone, replaced: the caller sees nothing.
    assert _backend_pid(db) != dropped
    db.dispose()


@pytest.mark.postgres
def test_a_connection_in_use_a_moment_ago_is_not_tested_first(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("doorstep.platform.db.PING_AFTER_IDLE_S", 3600.0)
    db = Database(postgres_url)
    dropped = _backend_pid(db)
    _drop_connection(postgres_url, dropped)
    # No round trip to test it, so its loss shows, as a 503 to retry...
    with pytest.raises(Unavailable), db.session() as session:
        session.execute(text("SELECT 1"))
    # ...and the pool, told of the loss, connects afresh.
    assert _backend_pid(db) != dropped
    db.dispose()
