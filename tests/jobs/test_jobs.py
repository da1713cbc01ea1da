"""Background jobs: the scheduler keeps going past failures; expired clips are shredded."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from doorstep.api.state import AppState
from doorstep.jobs.retention import clear_stale_files, sweep_expired
from doorstep.jobs.scheduler import Scheduler
from doorstep.storage.models import Clip
from doorstep.storage.types import utcnow
from tests.api.test_devices import _camera, _pair, _upload
from tests.factories import resident
from tests.media import tiny_clip


def test_a_failing_job_does_not_stop_the_others() -> None:
    calls: list[str] = []

    def broken() -> None:
        calls.append("broken")
        raise RuntimeError("sweep failed")

    scheduler = Scheduler()
    bad = scheduler.add("broken", 10, broken)
    good = scheduler.add("good", 10, lambda: calls.append("good"))
    next_runs: dict[str, float] = {}
    scheduler.run_due(0.0, next_runs)
    scheduler.run_due(5.0, next_runs)
    scheduler.run_due(10.0, next_runs)
    assert calls == ["broken", "good", "broken", "good"]
    assert (bad.failures, bad.runs, good.runs) == (2, 0, 2)


def test_expired_clips_are_shredded_on_schedule(
    app: FastAPI, client: TestClient, tmp_path: Path
) -> None:
    csrf = resident(client)
    camera = _camera(client, csrf)
    token = _pair(client, csrf, camera["id"])
    old = _upload(client, token, tiny_clip(tmp_path / "a.mp4", frames=12).read_bytes()).json()
    kept = _upload(client, token, tiny_clip(tmp_path / "b.mp4", frames=14).read_bytes()).json()
    state: AppState = app.state.doorstep
    with state.db.session() as db:
        row = db.get(Clip, old["id"])
        assert row is not None
        row.expires_at = utcnow() - timedelta(minutes=1)
    assert sweep_expired(state.db, state.keys) == 1
    assert sweep_expired(state.db, state.keys) == 0
    with state.db.session() as db:
        assert list(db.scalars(select(Clip.id))) == [kept["id"]]
    assert len(list(state.blobs.keys("clips/"))) == 2
    assert client.get(old["video_url"]).status_code == 404


def test_stale_uploads_and_exports_are_removed(tmp_path: Path) -> None:
    for folder in ("uploads", "exports"):
        (tmp_path / folder).mkdir()
        old, fresh = tmp_path / folder / "old.tmp", tmp_path / folder / "fresh.tmp"
        old.write_bytes(b"plaintext footage")
        fresh.write_bytes(b"being written")
        os.utime(old, (0, 0))
    assert clear_stale_files(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.rglob("*.tmp")) == ["fresh.tmp", "fresh.tmp"]
