"""A long event's segments upload one by one and the timeline shows them as one event."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from doorstep.platform.types import utcnow
from tests.cameras.test_api_devices import _camera, _meta, _pair, _upload
from tests.factories import resident
from tests.samples import tiny_clip


@pytest.fixture
def owner(client: TestClient) -> str:
    return resident(client)


def upload_segment(
    client: TestClient, token: str, tmp: Path, event_id: str | None, segment: int, **meta: Any
) -> dict[str, Any]:
    # Each segment has its own content (the server keeps one copy of identical uploads).
    frames = 12 + segment if event_id is not None else 30
    video = tiny_clip(tmp / f"{event_id}-{segment}.mp4", frames=frames).read_bytes()
    response = _upload(client, token, video, meta=_meta(event_id=event_id, segment=segment, **meta))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_timeline_joins_the_segments_of_one_event(
    client: TestClient, owner: str, tmp_path: Path
) -> None:
    camera = _camera(client, owner)
    token = _pair(client, owner, camera["id"])
    event_id = str(uuid.uuid4())
    start = utcnow() - timedelta(minutes=10)
    pieces = [
        upload_segment(
            client,
            token,
            tmp_path,
            event_id,
            n,
            started_at=(start + timedelta(seconds=60 * n)).isoformat(),
            ended_at=(start + timedelta(seconds=60 * n + 60)).isoformat(),
            labels=["person"] if n == 2 else [],
        )
        for n in range(3)
    ]
    alone = upload_segment(client, token, tmp_path, None, 0)

    timeline = client.get("/api/v1/clips").json()["clips"]
    assert [entry["id"] for entry in timeline] == [alone["id"], pieces[0]["id"]]
    event = timeline[1]
    assert event["event_id"] == event_id
    assert [s["id"] for s in event["segments"]] == [p["id"] for p in pieces]
    assert [s["segment"] for s in event["segments"]] == [0, 1, 2]
    assert event["duration_seconds"] == 180.0
    assert event["labels"] == ["person"]
    assert timeline[0]["segments"] == []
    # Each segment plays on its own.
    for segment in event["segments"]:
        assert client.get(segment["video_url"]).status_code == 200

    # Paging shows each event once.
    first = client.get("/api/v1/clips?limit=1").json()
    second = client.get(f"/api/v1/clips?limit=1&cursor={first['next_cursor']}").json()
    assert [c["id"] for c in first["clips"] + second["clips"]] == [alone["id"], pieces[0]["id"]]
    assert second["next_cursor"] is None

    # Without its first segment (deleted) the event starts at the next one it still has.
    deleted = client.delete(f"/api/v1/clips/{pieces[0]['id']}", headers={"x-csrf-token": owner})
    assert deleted.status_code == 204
    later = client.get("/api/v1/clips").json()["clips"]
    assert [entry["id"] for entry in later] == [alone["id"], pieces[1]["id"]]
    assert [s["id"] for s in later[1]["segments"]] == [pieces[1]["id"], pieces[2]["id"]]


def test_segments_of_one_event_alert_once(
    client: TestClient, owner: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.cameras.test_api_devices import _state

    published: list[dict[str, Any]] = []
    state = _state(client.app)  # type: ignore[arg-type]
    monkeypatch.setattr(state.bus, "publish", lambda _account, event: published.append(event))
    camera = _camera(client, owner)
    token = _pair(client, owner, camera["id"])
    event_id = str(uuid.uuid4())
    for n in range(3):
        upload_segment(client, token, tmp_path, event_id, n)
    assert [(e["type"], e["alert"], e["clip"]["segment"]) for e in published] == [
        ("clip", True, 0),
        ("clip", False, 1),
        ("clip", False, 2),
    ]


@pytest.mark.parametrize("bad", [{"segment": -1}, {"segment": "x"}, {"event_id": "not-a-uuid"}])
def test_bad_segment_metadata_is_refused(
    client: TestClient, owner: str, tmp_path: Path, bad: dict[str, Any]
) -> None:
    camera = _camera(client, owner)
    token = _pair(client, owner, camera["id"])
    video = tiny_clip(tmp_path / "c.mp4").read_bytes()
    response = _upload(client, token, video, meta=_meta(**bad))
    assert response.status_code == 422
    assert client.get("/api/v1/clips").json()["clips"] == []
