"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, Table, create_engine, inspect, text

from doorstep.platform.db import make_engine
from doorstep.platform.migrate import migrate
from doorstep.settings import Settings
from doorstep.tables import metadata


def test_migrations_match_the_models(settings: Settings, tmp_path: Path) -> None:
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        # From an empty file, not the suite's copy of a database migrated once per run.
        url = f"sqlite:///{tmp_path / 'blank.db'}"
    engine = make_engine(url)
    migrate(engine)
    migrate(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
    engine.dispose()


def test_every_foreign_key_has_an_index_that_starts_with_it(
    settings: Settings, tmp_path: Path
) -> None:
    # Neither database makes one. Without it, deleting a clip or an account scans every table
    # that points at it, for each row deleted: the retention sweep would scan all shares.
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'blank.db'}"
    engine = make_engine(url)
    migrate(engine)
    schema = inspect(engine)
    unindexed: list[str] = []
    for table in schema.get_table_names():
        leading = [tuple(schema.get_pk_constraint(table)["constrained_columns"])]
        # An expression index has None for a column: it cannot serve a foreign key.
        leading += [tuple(map(str, index["column_names"])) for index in schema.get_indexes(table)]
        leading += [
            tuple(unique["column_names"]) for unique in schema.get_unique_constraints(table)
        ]
        for key in schema.get_foreign_keys(table):
            columns = tuple(key["constrained_columns"])
            if not any(index[: len(columns)] == columns for index in leading):
                unindexed.append(f"{table}.{'+'.join(columns)}")
    engine.dispose()
    assert unindexed == []


def _row(table: Table, **values: Any) -> dict[str, Any]:
    """A row for ``table`` with ``values`` and a plain filler in every other required column."""
    row = dict(values)
    for column in table.columns:
        if column.name in row or column.nullable or column.server_default is not None:
            continue
        python = column.type.python_type
        if python is datetime:
            row[column.name] = datetime(2026, 1, 1, tzinfo=UTC)
        else:
            row[column.name] = {bool: False, int: 0, float: 0.0, bytes: b"", list: []}.get(
                python, f"{column.name}-{values.get('id', '')}"
            )
    return row


def test_0018_gives_old_clips_the_kind_a_new_clip_would_get(tmp_path: Path) -> None:
    # A clip rung at the door, or whose event alerted, is an alert; one with an object label a
    # detection; the rest motion, as ``clips.rules_objects.clip_kind`` decides for new ones.
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(engine, "0017")
    old = MetaData()
    old.reflect(engine, only=["clips", "clip_events"])
    clips, events = old.tables["clips"], old.tables["clip_events"]
    labels = {
        "rung": ["motion", "ring"],
        "person": ["person"],
        "alerted": ["motion", "animal"],
        "dog": ["animal"],
        "motion": ["motion"],
        "bare": [],
    }
    with engine.begin() as connection:
        for clip_id, seen in labels.items():
            row = _row(clips, id=clip_id, camera_id="cam", labels=seen, event_id=clip_id)
            connection.execute(clips.insert().values(**row))
        for event_id, alerted in (("alerted", True), ("dog", False)):
            row = _row(events, id=event_id, camera_id="cam", event_id=event_id, alerted=alerted)
            connection.execute(events.insert().values(**row))
    migrate(engine, "0018")
    with engine.connect() as connection:
        kinds = {row.id: row.kind for row in connection.execute(text("SELECT id, kind FROM clips"))}
    engine.dispose()
    assert kinds == {
        "rung": "alert",
        "person": "detection",
        "alerted": "alert",
        "dog": "detection",
        "motion": "motion",
        "bare": "motion",
    }


def test_account_event_ids_are_64_bit_and_never_reused(settings: Settings, tmp_path: Path) -> None:
    # A server-sent event id is the row id: 2**31 events overflow a 32-bit PostgreSQL INTEGER,
    # and on SQLite only an INTEGER PRIMARY KEY (64-bit there) can be AUTOINCREMENT.
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'blank.db'}"
    engine = make_engine(url)
    migrate(engine)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            kind = connection.execute(
                text(
                    "SELECT data_type FROM information_schema.columns "
                    "WHERE table_schema = current_schema() "
                    "AND table_name = 'account_events' AND column_name = 'id'"
                )
            ).scalar_one()
            assert kind == "bigint"
        else:
            sql = connection.execute(
                text("SELECT sql FROM sqlite_master WHERE name = 'account_events'")
            ).scalar_one()
            assert "id INTEGER NOT NULL" in sql
            assert "AUTOINCREMENT" in sql
    engine.dispose()
