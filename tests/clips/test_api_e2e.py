"""End-to-end encryption: the server gets a salt and a check, stores only what it cannot read."""

from __future__ import annotations

import io
import json
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from doorstep.agent.e2e import sealed_copies
from doorstep.clips.models import Clip
from doorstep.platform.crypto import decrypt_all, passphrase_check, passphrase_key
from doorstep.platform.http.state import AppState
from doorstep.platform.types import utcnow
from tests.cameras.test_api_devices import _camera, _pair, _upload
from tests.factories import resident
from tests.samples import tiny_clip, tiny_jpeg

PASSPHRASE = "correct horse battery staple"


def _enable(client: TestClient, csrf: str, camera_id: str) -> bytes:
    salt = secrets.token_bytes(16)
    key = passphrase_key(PASSPHRASE, salt)
    response = client.post(
        f"/api/v1/cameras/{camera_id}/e2e",
        json={"salt": salt.hex(), "check": passphrase_check(key)},
        headers={"x-csrf-token": csrf},
    )
    assert response.status_code == 200, response.text
    return key


def _sealed_upload(
    client: TestClient, token: str, key: bytes, video: Path, tmp: Path, **extra: Any
) -> Any:
    snapshot = tmp / "snap.jpg"
    snapshot.write_bytes(tiny_jpeg())
    start = utcnow() - timedelta(minutes=2)
    meta = {
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(seconds=2)).isoformat(),
        "peak_motion": 0.1,
        "labels": [],
        "e2e": True,
        **extra,
    }
    with sealed_copies(key, video, snapshot) as (sealed_video, sealed_snapshot):
        return client.post(
            "/api/v1/devices/clips",
            headers={"authorization": f"Bearer {token}"},
            data={"meta": json.dumps(meta)},
            files={
                "video": ("c.mp4", sealed_video.read_bytes()),
                "snapshot": ("s.jpg", sealed_snapshot.read_bytes()),
            },
        )


def test_the_server_stores_only_what_it_cannot_read(
    app: FastAPI, client: TestClient, tmp_path: Path
) -> None:
    csrf = resident(client)
    camera = _camera(client, csrf)
    token = _pair(client, csrf, camera["id"])
    key = _enable(client, csrf, camera["id"])
    config = client.get("/api/v1/devices/config", headers={"authorization": f"Bearer {token}"})
    assert config.json()["e2e_enabled"] is True
    assert config.json()["e2e_check"] == passphrase_check(key)

    video = tiny_clip(tmp_path / "clip.mp4")
    plain = _upload(client, token, video.read_bytes())
    assert plain.status_code == 409
    uploaded = _sealed_upload(client, token, key, video, tmp_path)
    assert uploaded.status_code == 201, uploaded.text
    served = client.get(uploaded.json()["video_url"]).content
    assert served.startswith(b"DSCL\x01")
    assert b"ftyp" not in served
    assert decrypt_all([served], key) == video.read_bytes()
    state: AppState = app.state.doorstep
    with state.db.session() as db:
        row = db.get(Clip, uploaded.json()["id"])
        assert row is not None
        assert row.e2e is True
    wrong = passphrase_key("not the right passphrase", bytes.fromhex(config.json()["e2e_salt"]))
    assert passphrase_check(wrong) != config.json()["e2e_check"]


def test_e2e_cannot_be_turned_off_or_on_twice(client: TestClient) -> None:
    csrf = resident(client)
    camera = _camera(client, csrf)
    _enable(client, csrf, camera["id"])
    again = client.post(
        f"/api/v1/cameras/{camera['id']}/e2e",
        json={"salt": "00" * 16, "check": "00" * 32},
        headers={"x-csrf-token": csrf},
    )
    assert again.status_code == 409
    assert client.get(f"/api/v1/cameras/{camera['id']}").json()["e2e_enabled"] is True


@pytest.mark.parametrize(
    "body", [{"salt": "zz" * 16, "check": "00" * 32}, {"salt": "00" * 8, "check": "00" * 32}]
)
def test_malformed_e2e_settings_are_refused(client: TestClient, body: dict[str, str]) -> None:
    csrf = resident(client)
    camera = _camera(client, csrf)
    response = client.post(
        f"/api/v1/cameras/{camera['id']}/e2e", json=body, headers={"x-csrf-token": csrf}
    )
    assert response.status_code == 422
    assert client.get(f"/api/v1/cameras/{camera['id']}").json()["e2e_enabled"] is False


def test_a_sealed_upload_to_a_plain_camera_is_refused(client: TestClient, tmp_path: Path) -> None:
    csrf = resident(client)
    camera = _camera(client, csrf)
    token = _pair(client, csrf, camera["id"])
    key = secrets.token_bytes(32)
    response = _sealed_upload(client, token, key, tiny_clip(tmp_path / "c.mp4"), tmp_path)
    assert response.status_code == 422


def test_garbage_claiming_to_be_sealed_is_refused(client: TestClient) -> None:
    csrf = resident(client)
    camera = _camera(client, csrf)
    token = _pair(client, csrf, camera["id"])
    _enable(client, csrf, camera["id"])
    start = utcnow() - timedelta(minutes=2)
    meta = {
        "started_at": start.isoformat(),
        "ended_at": start.isoformat(),
        "peak_motion": 0,
        "e2e": True,
    }
    response = client.post(
        "/api/v1/devices/clips",
        headers={"authorization": f"Bearer {token}"},
        data={"meta": json.dumps(meta)},
        files={
            "video": ("c.mp4", io.BytesIO(b"x" * 5000)),
            "snapshot": ("s", b"DSCL\x01" + b"y" * 40),
        },
    )
    assert response.status_code == 415


def test_no_live_view_for_an_end_to_end_camera(client: TestClient) -> None:
    csrf = resident(client)
    camera = _camera(client, csrf)
    token = _pair(client, csrf, camera["id"])
    _enable(client, csrf, camera["id"])
    assert client.get(f"/api/v1/cameras/{camera['id']}/live").status_code == 409
    feed = client.get(
        "/api/v1/devices/live-sessions",
        params={"wait": 0},
        headers={"authorization": f"Bearer {token}"},
    )
    assert feed.json()["mjpeg"] is False


def test_an_end_to_end_clip_keeps_its_labels_but_no_objects(
    app: FastAPI, client: TestClient, tmp_path: Path
) -> None:
    csrf = resident(client)
    camera = _camera(client, csrf)
    token = _pair(client, csrf, camera["id"])
    key = _enable(client, csrf, camera["id"])
    person = {"label": "person", "score": 0.9, "box": [0.1, 0.2, 0.4, 0.9], "seconds": 3.0}
    video = tiny_clip(tmp_path / "clip.mp4")
    uploaded = _sealed_upload(
        client, token, key, video, tmp_path, labels=["person"], objects=[person]
    )
    assert uploaded.status_code == 201, uploaded.text
    state: AppState = app.state.doorstep
    with state.db.session() as db:
        clip = db.get(Clip, uploaded.json()["id"])
        assert clip is not None
        assert clip.labels == ["person"]
        assert clip.objects == []
