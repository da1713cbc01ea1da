"""The restore drill: a backup taken while clips are written, restored, serves the same clips."""

from __future__ import annotations

import io
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from doorstep.app import create_app
from doorstep.backup import backup, restore
from doorstep.clips import service as clips
from doorstep.clips.models import Clip
from doorstep.errors import Conflict, InvalidInput, NotFound
from doorstep.master_key import MASTER_KEY_FILE
from doorstep.platform import backup_db
from doorstep.platform.backup import ArchiveWriter, Manifest
from doorstep.platform.types import utcnow
from doorstep.settings import Settings
from doorstep.transparency.verify import verify_server
from tests.backups import empty_installation
from tests.cameras.test_api_devices import _camera, _meta, _pair, _upload
from tests.factories import resident
from tests.samples import tiny_clip
from tests.services import S3_ACCESS_KEY, S3_SECRET_KEY


def _clip_ids(app: FastAPI) -> set[str]:
    with app.state.doorstep.db.session() as db:
        return set(db.scalars(select(Clip.id)))


def test_a_backup_taken_while_clips_arrive_restores_and_serves_them(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    csrf = resident(client)
    token = _pair(client, csrf, _camera(client, csrf)["id"])
    video = tiny_clip(tmp_path / "clip.mp4").read_bytes()
    first = _upload(client, token, video).json()["id"]
    pinned = verify_server(client).public_key
    stop = threading.Event()
    uploaded: list[int] = []

    def keep_uploading() -> None:
        start = utcnow() - timedelta(hours=1)
        while not stop.is_set():
            start += timedelta(seconds=10)
            meta = _meta(
                started_at=start.isoformat(), ended_at=(start + timedelta(seconds=2)).isoformat()
            )
            # Another clip each time (the same bytes twice are stored once).
            other = tiny_clip(tmp_path / "other.mp4", frames=12 + len(uploaded)).read_bytes()
            uploaded.append(_upload(client, token, other, meta=meta).status_code)

    writer = threading.Thread(target=keep_uploading)
    writer.start()
    try:
        manifest = backup(settings, tmp_path / "backup.tar")
    finally:
        stop.set()
        writer.join()
    assert uploaded
    assert set(uploaded) == {201}
    assert manifest.counts["clips"] >= 1
    assert manifest.includes_master_key is False
    key_file = settings.data_dir / MASTER_KEY_FILE

    with empty_installation(settings, tmp_path / "restored") as target:
        restored = restore(target, tmp_path / "backup.tar", master_key_file=key_file)
        assert restored.master_key_written
        again = create_app(target)
        try:
            state = again.state.doorstep
            with state.db.session() as db:
                held = set(db.scalars(select(Clip.id)))
                assert first in held
                assert len(held) == manifest.counts["clips"]
                # Every clip the copy holds opens: its blob was copied after the database.
                for clip in db.scalars(select(Clip)):
                    assert b"".join(clips.read_video(db, state.keys, clip))[4:8] == b"ftyp"
                first_clip = db.get(Clip, first)
                assert first_clip is not None
                assert b"".join(clips.read_video(db, state.keys, first_clip)) == video
            with TestClient(again) as restored_client:
                report = verify_server(restored_client, key=pinned)
                assert report.ok, report.problem
        finally:
            again.state.shutdown()


def test_a_clip_deleted_before_the_backup_stays_unopenable_after_a_restore(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    csrf = resident(client)
    token = _pair(client, csrf, _camera(client, csrf)["id"])
    video = tiny_clip(tmp_path / "clip.mp4").read_bytes()
    gone = _upload(client, token, video).json()["id"]
    other = tiny_clip(tmp_path / "other.mp4", frames=30).read_bytes()
    kept = _upload(client, token, other).json()["id"]
    deleted = client.delete(f"/api/v1/clips/{gone}", headers={"x-csrf-token": csrf})
    assert deleted.status_code == 204
    backup(settings, tmp_path / "backup.tar")
    with empty_installation(settings, tmp_path / "restored") as target:
        restore(target, tmp_path / "backup.tar", master_key_file=settings.data_dir / "master.key")
        again = create_app(target)
        try:
            state = again.state.doorstep
            with state.db.session() as db:
                assert db.get(Clip, kept) is not None
                row = db.get(Clip, gone)
                if row is not None:  # the row may stay as a shredded stub; its footage may not
                    with pytest.raises(NotFound):
                        b"".join(clips.read_video(db, state.keys, row))
                assert not any(key.endswith(gone) for key in state.keys.blobs.keys())  # noqa: SIM118
        finally:
            again.state.shutdown()


@pytest.mark.parametrize("damage", ["truncated", "flipped"])
def test_a_damaged_backup_is_refused_and_nothing_is_written(
    client: TestClient, settings: Settings, tmp_path: Path, damage: str
) -> None:
    csrf = resident(client)
    token = _pair(client, csrf, _camera(client, csrf)["id"])
    _upload(client, token, tiny_clip(tmp_path / "clip.mp4").read_bytes())
    path = tmp_path / "backup.tar"
    backup(settings, path)
    data = bytearray(path.read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 2]
    else:
        data[2048] ^= 0xFF  # inside the first member's content
    path.write_bytes(bytes(data))
    with empty_installation(settings, tmp_path / "restored") as target:
        with pytest.raises(InvalidInput):
            restore(target, path, master_key_file=settings.data_dir / "master.key")
        assert not (tmp_path / "restored").exists()
        assert backup_db.is_empty(target.resolved_database_url)


@pytest.mark.usefixtures("app")
def test_a_restore_into_a_data_folder_in_use_is_refused(settings: Settings, tmp_path: Path) -> None:
    backup(settings, tmp_path / "backup.tar")
    with pytest.raises(Conflict, match="not empty"):
        restore(settings, tmp_path / "backup.tar")
    with empty_installation(settings, tmp_path / "restored") as target:
        target.data_dir.mkdir(parents=True)
        (target.data_dir / "notes.txt").write_text("mine")
        with pytest.raises(Conflict, match="not empty"):
            restore(target, tmp_path / "backup.tar")
        assert [p.name for p in target.data_dir.iterdir()] == ["notes.txt"]


@pytest.mark.usefixtures("app")
def test_a_restore_without_the_right_master_key_is_refused(
    settings: Settings, tmp_path: Path
) -> None:
    backup(settings, tmp_path / "backup.tar")
    wrong = tmp_path / "wrong.key"
    wrong.write_text("A" * 43 + "=\n")
    with empty_installation(settings, tmp_path / "restored") as target:
        with pytest.raises(InvalidInput, match="master key"):
            restore(target, tmp_path / "backup.tar")
        with pytest.raises(InvalidInput, match="not the one this backup was made under"):
            restore(target, tmp_path / "backup.tar", master_key_file=wrong)
        assert not target.data_dir.exists()


@pytest.mark.usefixtures("app")
def test_a_backup_with_its_master_key_restores_alone(settings: Settings, tmp_path: Path) -> None:
    manifest = backup(settings, tmp_path / "backup.tar", include_master_key=True)
    assert manifest.includes_master_key
    with empty_installation(settings, tmp_path / "restored") as target:
        restore(target, tmp_path / "backup.tar")
        assert (target.data_dir / MASTER_KEY_FILE).read_bytes() == (
            settings.data_dir / MASTER_KEY_FILE
        ).read_bytes()


@pytest.mark.usefixtures("app")
def test_a_backup_never_overwrites_a_file(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "backup.tar").write_text("precious")
    with pytest.raises(Conflict):
        backup(settings, tmp_path / "backup.tar")
    assert (tmp_path / "backup.tar").read_text() == "precious"
    assert not list(tmp_path.glob("*.part"))


@pytest.mark.s3
def test_a_bucket_is_backed_up_and_restored_into_an_empty_bucket(
    settings: Settings, seaweedfs_endpoint: str, tmp_path: Path
) -> None:
    in_s3 = settings.model_copy(
        update={
            "blob_store": "s3",
            "s3_endpoint_url": seaweedfs_endpoint,
            "s3_bucket": f"backup-{uuid.uuid4().hex[:10]}",
            "s3_access_key": SecretStr(S3_ACCESS_KEY),
            "s3_secret_key": SecretStr(S3_SECRET_KEY),
        }
    )
    app = create_app(in_s3)
    video = tiny_clip(tmp_path / "clip.mp4").read_bytes()
    try:
        with TestClient(app) as client:
            csrf = resident(client)
            token = _pair(client, csrf, _camera(client, csrf)["id"])
            clip_id = _upload(client, token, video).json()["id"]
        manifest = backup(in_s3, tmp_path / "backup.tar")
    finally:
        app.state.shutdown()
    assert manifest.counts["blobs"] >= 1
    with empty_installation(in_s3, tmp_path / "restored") as target:
        assert target.s3_bucket != in_s3.s3_bucket
        restore(target, tmp_path / "backup.tar", master_key_file=in_s3.data_dir / "master.key")
        again = create_app(target)
        try:
            state = again.state.doorstep
            with state.db.session() as db:
                clip = db.get(Clip, clip_id)
                assert clip is not None
                assert b"".join(clips.read_video(db, state.keys, clip)) == video
            # A second restore into the now full bucket is refused.
            elsewhere = {
                "data_dir": tmp_path / "again",
                "database_url": f"sqlite:///{tmp_path / 'again.db'}",
            }
            with pytest.raises(Conflict, match="bucket is not empty"):
                restore(target.model_copy(update=elsewhere), tmp_path / "backup.tar")
        finally:
            again.state.shutdown()


def test_a_backup_from_a_newer_schema_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    writer = ArchiveWriter(tmp_path / "newer.tar")
    writer.add("files/derived.keys", io.BytesIO(b"{}"), 2)
    later = Manifest(
        created=utcnow().isoformat(),
        schema_revision="9999",
        database="sqlite",
        key_check=None,
        includes_master_key=False,
    )
    writer.finish(later, bytes(32))
    target = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'db'}")
    with pytest.raises(InvalidInput, match="newer than this Doorstep"):
        restore(target, tmp_path / "newer.tar")
    assert not (tmp_path / "data").exists()
    assert not (tmp_path / "db").exists()
