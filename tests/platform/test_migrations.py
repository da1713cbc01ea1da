"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

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
