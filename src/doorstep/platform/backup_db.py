"""The database's part of a backup: a consistent copy taken while the server keeps serving.

SQLite: the online backup API copies the database page by page from one read transaction,
so writers carry on (WAL) and the copy is the database at one moment. PostgreSQL: ``pg_dump
--format=custom``, which reads every table in one REPEATABLE READ (serializable, read-only)
snapshot, and ``pg_restore`` into an empty database.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, Connection, make_url

from doorstep.errors import Conflict, InvalidInput, Unavailable

SQLITE_MEMBER = "doorstep.sqlite"
POSTGRES_MEMBER = "postgresql.dump"


def kind(url: str) -> str:
    """``sqlite`` or ``postgresql``."""
    return make_url(url).get_backend_name()


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise InvalidInput("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL as pg_dump reads it, without its password, and the environment carrying it.

    A command line is readable by every local user (``/proc/<pid>/cmdline``); a process's
    environment only by its owner, so the password travels in ``PGPASSWORD``.
    """
    parsed: URL = make_url(url)._replace(drivername="postgresql", password=None)
    env = dict(os.environ)
    password = make_url(url).password
    if password is not None:
        env["PGPASSWORD"] = str(password)
    return parsed.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise Unavailable(f"{name} is not installed: install the PostgreSQL client tools")
    return found


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The database's copy, and what the manifest says of it (read from the copy itself)."""

    member: str
    path: Path
    revision: str
    counts: dict[str, int]
    key_check: str | None


def _describe(connection: Connection) -> tuple[str, dict[str, int], str | None]:
    names = set(inspect(connection).get_table_names())
    revision = ""
    if "alembic_version" in names:
        revision = str(connection.scalar(text("SELECT version_num FROM alembic_version")) or "")
    counts = {
        name: int(connection.scalar(text(f'SELECT count(*) FROM "{name}"')) or 0)
        for name in sorted(names - {"alembic_version"})
    }
    check = None
    if "key_check" in names:
        check = connection.scalar(text("SELECT digest FROM key_check"))
    return revision, counts, check


def snapshot(url: str, folder: Path) -> Snapshot:
    """Copy the database into ``folder`` at one moment, and describe that copy."""
    if kind(url) == "sqlite":
        target = folder / SQLITE_MEMBER
        path = _sqlite_path(url)
        if not path.is_file():
            raise InvalidInput(f"there is no database at {path}: nothing to back up")
        source = sqlite3.connect(path, timeout=30)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        engine = create_engine(f"sqlite:///{target}", hide_parameters=True)
        try:
            with engine.connect() as connection:
                return Snapshot(SQLITE_MEMBER, target, *_describe(connection))
        finally:
            engine.dispose()
    target = folder / POSTGRES_MEMBER
    command = [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
               f"--file={target}"]  # fmt: skip
    schema = _search_path(url)
    if schema:
        # A database shared by several installations, each in its schema: this one's only.
        command.append(f"--schema={schema}")
    engine = create_engine(
        _sqlalchemy(url), isolation_level="REPEATABLE READ", hide_parameters=True
    )
    try:
        with engine.connect() as connection:
            # pg_dump reads the very snapshot the manifest is described from.
            exported = connection.scalar(text("SELECT pg_export_snapshot()"))
            described = _describe(connection)
            address, env = _libpq(url)
            _run([*command, f"--snapshot={exported}", address], "pg_dump", env)
    finally:
        engine.dispose()
    return Snapshot(POSTGRES_MEMBER, target, *described)


def _search_path(url: str) -> str:
    options = make_url(url).query.get("options", "")
    for option in options if isinstance(options, tuple) else (options,):
        for word in option.split():
            if word.startswith("-csearch_path="):
                return word.removeprefix("-csearch_path=").split(",")[0]
    return ""


def _run(command: list[str], name: str, env: dict[str, str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        # The tools' messages name tables and options, never a password (it is not logged).
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise Unavailable(f"{name} failed: {last}")


def _sqlalchemy(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_empty(url: str) -> bool:
    """Whether the database holds no table (or, for SQLite, does not exist yet)."""
    if kind(url) == "sqlite":
        path = _sqlite_path(url)
        if not path.exists() or path.stat().st_size == 0:
            return True
    engine = create_engine(url if kind(url) == "sqlite" else _sqlalchemy(url), hide_parameters=True)
    try:
        with engine.connect() as connection:
            return not inspect(connection).get_table_names()
    finally:
        engine.dispose()


def restore(
    url: str, member: str, source: Path, *, writing: Callable[[], None] = lambda: None
) -> None:
    """Put the database copy ``source`` into the empty database at ``url``.

    ``writing`` is called once the target was found empty, just before the first write:
    from then on a failure leaves something of this restore's to undo, and not before.
    """
    wanted = SQLITE_MEMBER if kind(url) == "sqlite" else POSTGRES_MEMBER
    if member != wanted:
        held = "SQLite" if member == SQLITE_MEMBER else "PostgreSQL"
        raise InvalidInput(f"this backup holds a {held} database: restore it into one")
    if not is_empty(url):
        raise Conflict("the target database is not empty: restore only into an empty one")
    writing()
    if kind(url) == "sqlite":
        path = _sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        for companion in ("", "-wal", "-shm", "-journal"):
            path.with_name(path.name + companion).unlink(missing_ok=True)
        shutil.copyfile(source, path.with_name(path.name + ".restoring"))
        path.with_name(path.name + ".restoring").replace(path)
        return
    address, env = _libpq(url)
    command = [_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
               "--single-transaction", f"--dbname={address}", str(source)]  # fmt: skip
    _run(command, "pg_restore", env)


def forget(url: str) -> None:
    """Undo a restore that failed later: the SQLite file removed, PostgreSQL's tables dropped."""
    if kind(url) == "sqlite":
        path = _sqlite_path(url)
        for companion in ("", "-wal", "-shm", "-journal", ".restoring"):
            path.with_name(path.name + companion).unlink(missing_ok=True)
        return
    engine = create_engine(_sqlalchemy(url), hide_parameters=True)
    try:
        with engine.begin() as connection:
            for table in inspect(connection).get_table_names():
                connection.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    finally:
        engine.dispose()
