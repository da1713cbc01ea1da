"""A backup reopens deleted clips only as long as retention would have kept them anyway."""

from __future__ import annotations

import stat
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select

from doorstep import backup as backup_module
from doorstep.backup import MAX_RETENTION, backup, restore
from doorstep.clips.models import Clip
from doorstep.errors import InvalidInput
from doorstep.master_key import MASTER_KEY_FILE
from doorstep.platform import backup_db
from doorstep.platform.backup_db import Snapshot
from doorstep.platform.types import utcnow
from doorstep.settings import Settings
from tests.backups import empty_installation
from tests.cameras.test_api_devices import _camera, _pair, _upload
from tests.factories import resident
from tests.samples import tiny_clip


@pytest.mark.usefixtures("app")
def test_a_backup_older_than_the_longest_retention_is_refused_unless_asked(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = utcnow() - MAX_RETENTION - timedelta(days=1)
    monkeypatch.setattr(backup_module, "utcnow", lambda: taken)
    backup(settings, tmp_path / "backup.tar")
    monkeypatch.undo()
    key_file = settings.data_dir / MASTER_KEY_FILE
    with empty_installation(settings, tmp_path / "restored") as target:
        with pytest.raises(InvalidInput, match="older than the longest clip retention"):
            restore(target, tmp_path / "backup.tar", master_key_file=key_file)
        assert not target.data_dir.exists()
        restored = restore(
            target, tmp_path / "backup.tar", master_key_file=key_file, older_than_retention=True
        )
        assert datetime.fromisoformat(restored.manifest.created) == taken


def test_clips_past_retention_are_shredded_by_the_restore(
    app: FastAPI, client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    csrf = resident(client)
    token = _pair(client, csrf, _camera(client, csrf)["id"])
    clip_id = _upload(client, token, tiny_clip(tmp_path / "clip.mp4").read_bytes()).json()["id"]
    with app.state.doorstep.db.session() as db:
        clip = db.get(Clip, clip_id)
        assert clip is not None
        clip.expires_at = utcnow() - timedelta(hours=1)  # the sweep has not come by yet
    backup(settings, tmp_path / "backup.tar")
    with empty_installation(settings, tmp_path / "restored") as target:
        restored = restore(
            target, tmp_path / "backup.tar", master_key_file=settings.data_dir / MASTER_KEY_FILE
        )
        assert restored.shredded == 1
        url = target.resolved_database_url
        engine = create_engine(backup_db._sqlalchemy(url) if "postgres" in url else url)
        with engine.connect() as connection:
            assert list(connection.scalars(select(Clip.id))) == []
        engine.dispose()


@pytest.mark.usefixtures("app")
def test_a_killed_backups_spool_is_cleared_and_a_spool_is_private(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    stale = tmp_path / f".doorstep-backup-{gone}-abc"
    stale.mkdir()
    (stale / "doorstep.sqlite").write_bytes(b"plaintext")
    alive = tmp_path / ".doorstep-backup-1-abc"
    alive.mkdir()
    modes: list[int] = []
    snapshot = backup_db.snapshot

    def looking(url: str, folder: Path) -> Snapshot:
        modes.append(stat.S_IMODE(folder.stat().st_mode))
        return snapshot(url, folder)

    monkeypatch.setattr(backup_db, "snapshot", looking)
    backup(settings, tmp_path / "backup.tar")
    assert not stale.exists()
    assert alive.exists()
    assert modes == [0o700]
