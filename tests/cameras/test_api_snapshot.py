"""A camera's latest snapshot, to draw zones over: its newest readable still, or 404."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from doorstep.platform.types import utcnow
from tests.cameras.test_api_devices import _camera, _meta, _pair, _upload
from tests.clips.test_api_e2e import _enable
from tests.factories import accept_invitations, resident
from tests.samples import tiny_clip


def _jpeg(grey: int) -> bytes:
    ok, encoded = cv2.imencode(".jpg", np.full((96, 160, 3), grey, dtype=np.uint8))
    assert ok
    return encoded.tobytes()


def _started(minutes_ago: int) -> str:
    start = utcnow() - timedelta(minutes=minutes_ago)
    return _meta(started_at=start.isoformat(), ended_at=(start + timedelta(seconds=2)).isoformat())


@pytest.fixture
def clip_bytes(tmp_path: Path) -> bytes:
    return tiny_clip(tmp_path / "clip.mp4").read_bytes()


def test_the_newest_snapshot_is_served_to_the_owner_and_drawn_over(
    client: TestClient, clip_bytes: bytes, tmp_path: Path
) -> None:
    csrf = resident(client)
    camera = _camera(client, csrf)
    url = f"/api/v1/cameras/{camera['id']}/snapshot"
    missing = client.get(url)
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no snapshot from this camera yet"
    page = client.get(f"/cameras/{camera['id']}").text
    assert 'data-testid="zone-frame-note"' in page
    assert "No snapshot yet" in page
    assert url not in page

    token = _pair(client, csrf, camera["id"])
    newer = tiny_clip(tmp_path / "newer.mp4", frames=30).read_bytes()
    assert _upload(client, token, newer, meta=_started(2), jpeg=_jpeg(200)).status_code == 201
    assert _upload(client, token, clip_bytes, meta=_started(9), jpeg=_jpeg(40)).status_code == 201

    served = client.get(url)
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["cache-control"] == "private, no-store"
    assert served.content == _jpeg(200)
    page = client.get(f"/cameras/{camera['id']}").text
    assert f'src="{url}"' in page
    assert 'width="160" height="96"' in page
    assert "No snapshot yet" not in page


def test_a_household_member_sees_it_as_a_clip_and_a_stranger_not_at_all(
    app: FastAPI, client: TestClient, clip_bytes: bytes
) -> None:
    csrf = resident(client)
    camera = _camera(client, csrf)
    _upload(client, _pair(client, csrf, camera["id"]), clip_bytes, jpeg=_jpeg(90))
    url = f"/api/v1/cameras/{camera['id']}/snapshot"
    with TestClient(app) as bob:
        bob_csrf = resident(bob, "bob@example.org", display_name="Bob")
        assert bob.get(url).status_code == 404
        invited = client.post(
            f"/api/v1/cameras/{camera['id']}/household",
            json={"email": "bob@example.org"},
            headers={"x-csrf-token": csrf},
        )
        accept_invitations(bob, bob_csrf, invited)
        assert bob.get(url).content == _jpeg(90)
        audit = client.get("/api/v1/me/audit").json()
        assert "clip.snapshot" in json.dumps(audit)


def test_an_end_to_end_camera_never_shows_a_still(client: TestClient, clip_bytes: bytes) -> None:
    csrf = resident(client)
    camera = _camera(client, csrf)
    # A clip from before end-to-end encryption was turned on: readable, and still never shown.
    _upload(client, _pair(client, csrf, camera["id"]), clip_bytes)
    _enable(client, csrf, camera["id"])
    assert client.get(f"/api/v1/cameras/{camera['id']}/snapshot").status_code == 404
    page = client.get(f"/cameras/{camera['id']}").text
    assert "end-to-end encrypted: Doorstep cannot see its pictures" in page
    assert f"/api/v1/cameras/{camera['id']}/snapshot" not in page


def test_an_expired_clip_still_is_never_served_even_before_the_sweep(
    client: TestClient, clip_bytes: bytes
) -> None:
    csrf = resident(client)
    camera = _camera(client, csrf)
    token = _pair(client, csrf, camera["id"])
    # Recorded 31 days ago (an agent that was offline a month): past the 30 days it keeps.
    late = _upload(client, token, clip_bytes, meta=_started(31 * 24 * 60), jpeg=_jpeg(90))
    assert late.status_code == 201, late.text
    assert client.get(f"/api/v1/cameras/{camera['id']}/snapshot").status_code == 404
