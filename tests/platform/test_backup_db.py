"""The database's part of a backup: pg_dump and pg_restore never see the password on argv."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from doorstep.errors import InvalidInput
from doorstep.platform import backup_db

SECRET = "s3cret-Pa55word"


class _Recorder:
    """Stands in for subprocess.run and remembers each command line and environment."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], dict[str, str]]] = []

    def __call__(self, command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        self.calls.append((list(command), dict(kwargs.get("env") or {})))
        return subprocess.CompletedProcess(command, 0, "", "")


def _assert_hidden(calls: list[tuple[list[str], dict[str, str]]]) -> None:
    assert calls
    for command, env in calls:
        assert not [word for word in command if SECRET in word]
        assert env["PGPASSWORD"] == SECRET


def test_pg_restore_gets_the_password_in_its_environment_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = _Recorder()
    monkeypatch.setattr(subprocess, "run", recorder)
    monkeypatch.setattr(backup_db, "_tool", lambda name: name)
    monkeypatch.setattr(backup_db, "is_empty", lambda _url: True)
    url = f"postgresql+psycopg://doorstep:{SECRET}@127.0.0.1:5432/doorstep"
    backup_db.restore(url, backup_db.POSTGRES_MEMBER, tmp_path / "copy.dump")
    _assert_hidden(recorder.calls)
    assert any("doorstep@127.0.0.1:5432/doorstep" in word for word in recorder.calls[0][0])


@pytest.mark.postgres
def test_pg_dump_gets_the_password_in_its_environment_only(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = _Recorder()
    monkeypatch.setattr(subprocess, "run", recorder)
    # The test server trusts loopback, so the password is accepted and ignored.
    url = make_url(postgres_url).set(password=SECRET).render_as_string(hide_password=False)
    backup_db.snapshot(url, tmp_path)
    _assert_hidden(recorder.calls)


def test_a_missing_sqlite_database_is_a_clear_error_and_is_not_created(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no database at"):
        backup_db.snapshot(f"sqlite:///{tmp_path / 'nowhere' / 'doorstep.db'}", tmp_path)
    assert not (tmp_path / "nowhere").exists()
