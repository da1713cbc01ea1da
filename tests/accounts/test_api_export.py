"""Export: the whole account as one ZIP, clips decrypted, nothing of anyone else."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from doorstep.accounts import export
from doorstep.platform.http.state import AppState
from tests.cameras.test_api_devices import _camera, _pair, _upload
from tests.factories import resident
from tests.notify.devices import unreachable_subscription
from tests.samples import tiny_clip


def test_export_has_the_account_cameras_and_playable_clips(
    app: FastAPI, client: TestClient, tmp_path: Path
) -> None:
    csrf = resident(client, home={"lat": 45.5236, "lon": -122.6771})
    camera = _camera(client, csrf)
    clip_bytes = tiny_clip(tmp_path / "c.mp4").read_bytes()
    clip = _upload(client, _pair(client, csrf, camera["id"]), clip_bytes).json()
    with TestClient(app) as other:
        other_csrf = resident(other, "eve@example.org", display_name="Eve")
        other_camera = _camera(other, other_csrf, name="Eve's door")
        _upload(
            other,
            _pair(other, other_csrf, other_camera["id"]),
            tiny_clip(tmp_path / "e.mp4", frames=30).read_bytes(),
        )

    subscription = unreachable_subscription("capability-secret")
    device = client.post(
        "/api/v1/push/devices",
        json={**subscription, "name": "Ada's phone"},
        headers={"x-csrf-token": csrf},
    )
    assert device.status_code == 201, device.text

    response = client.get("/api/v1/me/export")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    account = json.loads(archive.read("account.json"))
    assert account["home"] == {"lat": 45.5236, "lon": -122.6771}
    assert account["email"] == "ada@example.org"
    assert [(d["name"], d["push_service"]) for d in account["push_devices"]] == [
        ("Ada's phone", "push.invalid")
    ]
    # The endpoint is a capability and the keys open the messages: neither is written out.
    text = response.content.decode("latin-1")
    assert "capability-secret" not in text
    assert subscription["keys"]["auth"] not in text
    assert subscription["keys"]["p256dh"] not in text
    [exported] = json.loads(archive.read("cameras.json"))
    assert exported["name"] == "Front door"
    assert exported["alert_mode"] == "all"
    assert exported["household"] == []
    clips = json.loads(archive.read("clips.json"))
    assert [c["id"] for c in clips] == [clip["id"]]
    # "Any motion" alerts: the clip is an alert, with no object seen.
    assert [(c["kind"], c["objects"]) for c in clips] == [("alert", [])]
    assert archive.read(clips[0]["video"]) == clip_bytes
    assert archive.read(clips[0]["snapshot"]).startswith(b"\xff\xd8")
    assert "Eve" not in response.content.decode("latin-1")


def test_export_needs_a_login(client: TestClient) -> None:
    assert client.get("/api/v1/me/export").status_code == 401


def test_export_writes_the_zip_with_every_database_permit_free(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    state: AppState = app.state.doorstep
    free_while_writing: list[int] = []
    stream_zip = export.stream_zip

    def spy(contents: export.Contents, blobs: Any) -> Iterator[bytes]:
        free_while_writing.append(state.admission._permits._value)
        yield from stream_zip(contents, blobs)

    monkeypatch.setattr(export, "stream_zip", spy)
    resident(client)
    assert client.get("/api/v1/me/export").status_code == 200
    assert free_while_writing == [state.admission.limit]
