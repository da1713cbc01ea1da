"""A snapshot whose header claims an enormous frame is refused by both routes, undecoded."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from doorstep.doorbell.models import Ring
from tests.cameras.test_api_device_events import _events, announce, owner  # noqa: F401
from tests.cameras.test_api_devices import _camera, _pair, _state
from tests.doorbell.test_api import device, state_of
from tests.doorbell.test_api_refusals import door  # noqa: F401
from tests.media.test_probe_jpeg import _claiming

#: 866 bytes on the wire, about 750 MiB of pixels once decoded.
BOMB = _claiming(16000, 16000)


def test_an_event_snapshot_bomb_is_refused_and_changes_nothing(
    app: FastAPI,
    client: TestClient,
    owner: str,  # noqa: F811
) -> None:
    camera = _camera(client, owner)
    token = _pair(client, owner, camera["id"])
    event_id = str(uuid.uuid4())
    response = announce(client, token, event_id, snapshot=BOMB)
    assert response.status_code == 415, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "16000x16000" in response.json()["detail"]
    assert _events(app) == 0
    assert _state(app).held.get(f"event:{camera['id']}:{event_id}") is None


def test_a_ring_snapshot_bomb_is_refused_and_rings_nobody(
    app: FastAPI,
    client: TestClient,
    door: dict[str, Any],  # noqa: F811
) -> None:
    refused = client.post(
        "/api/v1/devices/ring",
        data={"source": "button"},
        files={"snapshot": ("ring.jpg", BOMB, "image/jpeg")},
        headers=device(door["token"]),
    )
    assert refused.status_code == 415, refused.text
    assert "16000x16000" in refused.json()["detail"]
    with state_of(app).db.session() as db:
        assert db.scalar(select(func.count()).select_from(Ring)) == 1
