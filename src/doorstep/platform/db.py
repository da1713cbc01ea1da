"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from doorstep.errors import Unavailable
from doorstep.platform.folders import private_sqlite_file


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # Foreign keys make account deletion cascade; WAL lets readers run while a clip is written.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


#: How long a request waits for a pooled connection before it is told the server is busy. Well
#: under a client's usual 30 s timeout: a quick 503 the caller can retry beats a hung request.
POOL_TIMEOUT_S = 10.0
#: What a 503 from the database layer tells the caller to wait (the Retry-After header).
RETRY_AFTER_S = 2


def make_engine(url: str, *, pool_timeout: float = POOL_TIMEOUT_S) -> Engine:
    """Create an engine with the settings each backend needs.

    ``hide_parameters``: a database error's message would otherwise carry the statement's
    parameters (exact coordinates, ids, token hashes) into the log's ``exception`` field.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            # Exact homes and password hashes: 0600, and so its journals (platform/folders.py).
            private_sqlite_file(Path(parsed.database))
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 10},
            pool_timeout=pool_timeout,
            hide_parameters=True,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        # Plain postgresql:// means psycopg 3, the driver Doorstep installs.
        parsed = parsed.set(drivername="postgresql+psycopg")
    engine = create_engine(
        parsed, pool_size=10, max_overflow=20, pool_timeout=pool_timeout, hide_parameters=True
    )
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


#: A pooled connection idle longer than this is tested before use; a busy one is not.
PING_AFTER_IDLE_S = 2.0
_CHECKED_IN = "doorstep_checked_in"


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info[_CHECKED_IN] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    # Pinging on every checkout costs a round trip per request; a connection that was in use a
    # moment ago is alive. One left idle may have been dropped (a database restart, a network
    # cut): test it, and let the pool replace it if it is gone.
    idle_since = record.info.get(_CHECKED_IN)
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
        return
    try:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        # The driver began a transaction for it; hand the connection out as idle as it came.
        dbapi_connection.rollback()
    except Exception as err:
        raise DisconnectionError("a pooled connection was dropped") from err


class Database:
    """An engine and its session factory; one per app."""

    def __init__(self, url: str, *, pool_timeout: float = POOL_TIMEOUT_S) -> None:
        self.engine = make_engine(url, pool_timeout=pool_timeout)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Yield a session that commits on success and rolls back on any error."""
        try:
            with self._factory() as session:
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        except OperationalError as err:
            raise Unavailable(
                "the database is not reachable right now; try again shortly",
                extra={"retry_after": RETRY_AFTER_S},
            ) from err
        except PoolTimeout as err:
            # Every pooled connection is busy: the server is overloaded, not broken.
            raise Unavailable(
                "the server is busy right now; try again shortly",
                extra={"retry_after": RETRY_AFTER_S},
            ) from err

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
