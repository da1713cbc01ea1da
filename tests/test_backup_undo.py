"""A failed restore undoes what it wrote, and only that."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine

from doorstep.backup import backup, restore
from doorstep.errors import Conflict
from doorstep.master_key import MASTER_KEY_FILE
from doorstep.platform import backup_db
from doorstep.settings import Settings
from tests.backups import empty_installation


def _engine(url: str) -> Engine:
    return create_engine(backup_db._sqlalchemy(url) if "postgres" in url else url)


@pytest.mark.usefixtures("app")
def test_a_database_populated_during_the_restore_is_left_alone(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backup(settings, tmp_path / "backup.tar")
    checked = backup_db.is_empty
    with empty_installation(settings, tmp_path / "restored") as target:
        url = target.resolved_database_url

        def populated_after_the_first_look(asked: str) -> bool:
            if checked(asked) and asked == url and calls:
                # A serve started meanwhile and made its tables.
                engine = _engine(url)
                schema = backup_db._search_path(url)
                with engine.begin() as connection:
                    if schema:
                        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
                    connection.execute(text("CREATE TABLE someone_elses (id integer)"))
                engine.dispose()
            calls.append(asked)
            return checked(asked)

        calls: list[str] = []
        monkeypatch.setattr(backup_db, "is_empty", populated_after_the_first_look)
        with pytest.raises(Conflict, match="not empty"):
            restore(
                target, tmp_path / "backup.tar", master_key_file=settings.data_dir / MASTER_KEY_FILE
            )
        engine = _engine(url)
        with engine.connect() as connection:
            assert "someone_elses" in inspect(connection).get_table_names()
        engine.dispose()
