"""A database backup taken before a clip was deleted, restored after, cannot reopen the clip.

The clip's row and its owner's wrapped data key come back with the backup, but its ciphertext was
removed from the blob store once the deletion committed: there is nothing left for the key to
open. (A backup of the blob store, or a versioned bucket, would change that: docs/deletion.md.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import inspect

from doorstep.clips import service as clips
from doorstep.clips.models import Clip
from doorstep.errors import NotFound
from tests.cameras.test_api_devices import _camera, _pair, _upload
from tests.factories import resident
from tests.samples import tiny_clip


def test_a_backup_from_before_the_deletion_cannot_reopen_the_clip(
    app: FastAPI, client: TestClient, tmp_path: Path
) -> None:
    state = app.state.doorstep
    csrf = resident(client)
    camera = _camera(client, csrf)
    video = tiny_clip(tmp_path / "clip.mp4").read_bytes()
    clip_id = _upload(client, _pair(client, csrf, camera["id"]), video).json()["id"]
    with state.db.session() as db:
        clip = db.get(Clip, clip_id)
        assert clip is not None
        assert b"".join(clips.read_video(db, state.keys, clip)) == video
        columns = [attr.key for attr in inspect(Clip).mapper.column_attrs]
        backup = {name: getattr(clip, name) for name in columns}

    gone = client.delete(f"/api/v1/clips/{clip_id}", headers={"x-csrf-token": csrf})
    assert gone.status_code == 204

    with state.db.session() as db:
        db.add(Clip(**backup))
        db.flush()
        restored = db.get(Clip, clip_id)
        assert restored is not None
        assert restored.wrapped_key is not None
        with pytest.raises(NotFound):
            b"".join(clips.read_video(db, state.keys, restored))
        db.rollback()
