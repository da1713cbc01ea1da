"""Background jobs: the scheduler keeps going past failures; expired clips are shredded."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from doorstep.clips.jobs import clear_stale_files, sweep_expired
from doorstep.clips.models import Clip
from doorstep.platform.blobs import LocalBlobStore
from doorstep.platform.http.state import AppState
from doorstep.platform.keys import WORK_FOLDER, Keys
from doorstep.platform.queue.scheduler import Scheduler
from doorstep.platform.scratch import WORK_LOCK, scratch_folder
from doorstep.platform.types import utcnow
from doorstep.requests.service import redacted_preview
from tests.cameras.test_api_devices import _camera, _pair, _upload
from tests.factories import resident
from tests.samples import tiny_clip


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


def test_a_work_folder_goes_once_the_process_working_in_it_is_gone(tmp_path: Path) -> None:
    work = tmp_path / WORK_FOLDER
    # Another process redacting: the folder stays while it lives, and goes once it is killed.
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from doorstep.platform.blobs import LocalBlobStore\n"
        "from doorstep.platform.keys import Keys\n"
        "from doorstep.platform.scratch import scratch_folder\n"
        "keys = Keys(b'k' * 32, LocalBlobStore(Path(sys.argv[1]) / 'blobs'), Path(sys.argv[2]))\n"
        "with scratch_folder(keys, 'redact') as folder:\n"
        "    (folder / 'original.mp4').write_bytes(b'plaintext footage')\n"
        "    print(folder, flush=True)\n"
        "    time.sleep(600)\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path), str(work)], stdout=subprocess.PIPE, text=True
    ) as worker:
        try:
            assert worker.stdout is not None
            folder = Path(worker.stdout.readline().strip())
            assert folder.parent == work
            assert (folder / "original.mp4").exists()
            assert clear_stale_files(tmp_path) == 0
            assert folder.exists()
        finally:
            worker.kill()
    assert clear_stale_files(tmp_path) == 1
    assert not folder.exists()


def test_work_in_progress_here_is_kept_and_a_folder_with_no_lock_goes_when_old(
    tmp_path: Path,
) -> None:
    keys = Keys(b"k" * 32, LocalBlobStore(tmp_path / "blobs"), tmp_path / WORK_FOLDER)
    with scratch_folder(keys, "share") as folder:
        (folder / "delivered.mp4").write_bytes(b"plaintext footage")
        assert clear_stale_files(tmp_path) == 0
        assert (folder / "delivered.mp4").exists()
    assert not folder.exists()
    young, old = tmp_path / WORK_FOLDER / "young", tmp_path / WORK_FOLDER / "old"
    for unlocked in (young, old):
        unlocked.mkdir()
        (unlocked / "part.mp4").write_bytes(b"plaintext footage")
    os.utime(old / "part.mp4", (0, 0))
    os.utime(old, (0, 0))
    assert clear_stale_files(tmp_path) == 1
    assert sorted(path.name for path in (tmp_path / WORK_FOLDER).iterdir()) == ["young"]


def test_redaction_writes_plaintext_only_in_the_data_folders_work_folder(
    app: FastAPI, client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from doorstep.media import redact

    csrf = resident(client)
    token = _pair(client, csrf, _camera(client, csrf)["id"])
    uploaded = _upload(client, token, tiny_clip(tmp_path / "a.mp4", frames=12).read_bytes())
    state: AppState = app.state.doorstep
    seen: list[Path] = []
    real = redact.redact_file

    def watched(source: Path, target: Path, **options: Any) -> Any:
        seen.extend([source, target, *source.parent.iterdir()])
        return real(source, target, **options)

    monkeypatch.setattr(redact, "redact_file", watched)
    with state.db.session() as db:
        clip = db.get(Clip, uploaded.json()["id"])
        assert clip is not None
        redacted_preview(db, state.keys, clip)
    scratch = state.settings.data_dir / WORK_FOLDER
    assert seen
    assert all(path.parent.parent == scratch for path in seen)
    assert WORK_LOCK in {path.name for path in seen}
    assert list(scratch.iterdir()) == []


def test_what_cannot_be_removed_does_not_stop_the_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stuck = tmp_path / WORK_FOLDER / "redact-stuck"
    stuck.mkdir(parents=True)
    (stuck / WORK_LOCK).write_text("")  # nobody holds it: its process is gone
    (tmp_path / "uploads").mkdir()
    old = tmp_path / "uploads" / "old.upload"
    old.write_bytes(b"plaintext footage")
    os.utime(old, (0, 0))

    def refuse(path: Path) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("doorstep.clips.jobs.shutil.rmtree", refuse)
    assert clear_stale_files(tmp_path) == 1
    assert not old.exists()
    assert stuck.exists()
