"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from doorstep.settings import Settings
from doorstep.storage.db import make_engine
from doorstep.storage.migrate import migrate
from doorstep.storage.tables import metadata


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
