"""The database wrapper: an overloaded connection pool is a clear 503, not a hang or a 500."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import text

from doorstep.errors import Unavailable
from doorstep.storage.db import RETRY_AFTER_S, Database


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
