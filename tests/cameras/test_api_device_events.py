"""Events announced as they start: alert first, label later, the clip never alerts twice."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from doorstep.clips.models import ClipEvent
from doorstep.platform.types import utcnow
from tests.cameras.test_api_devices import _camera, _meta, _pair, _state, _upload
from tests.clips.test_api_e2e import _enable
from tests.factories import resident
from tests.samples import tiny_clip, tiny_jpeg

Published = list[tuple[str, dict[str, Any]]]


@pytest.fixture
def published(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> Published:
    """What the bus published, in order; each only once its rows are committed."""
    seen: Published = []
    state = _state(app)

    def record(account_id: str, event: dict[str, Any]) -> int:
        if "event_id" in event:
            with state.db.session() as db:
                found = db.scalar(select(ClipEvent).where(ClipEvent.event_id == event["event_id"]))
                assert found is not None
        seen.append((account_id, event))
        return 1

    monkeypatch.setattr(state.bus, "publish", record)
    return seen


@pytest.fixture
def owner(client: TestClient) -> str:
    return resident(client, home={"lat": 45.5236, "lon": -122.6771})


def camera_with(client: TestClient, csrf: str, name: str = "Front door", **settings: Any) -> Any:
    camera = _camera(client, csrf, name=name)
    if settings:
        patched = client.patch(
            f"/api/v1/cameras/{camera['id']}", json=settings, headers={"x-csrf-token": csrf}
        )
        assert patched.status_code == 200, patched.text
    return camera


def announce(
    client: TestClient,
    token: str,
    event_id: str,
    *,
    labels: list[str] | None = None,
    snapshot: bytes | None = None,
    meta: str | None = None,
) -> Any:
    body = meta or json.dumps(
        {
            "event_id": event_id,
            "started_at": (utcnow() - timedelta(seconds=1)).isoformat(),
            "labels": labels or [],
        }
    )
    files = {"snapshot": ("s.jpg", snapshot, "image/jpeg")} if snapshot is not None else None
    return client.post(
        "/api/v1/devices/events",
        headers={"authorization": f"Bearer {token}"},
        data={"meta": body},
        files=files,
    )


def _events(app: FastAPI) -> int:
    with _state(app).db.session() as db:
        return int(db.scalar(select(func.count()).select_from(ClipEvent)) or 0)


def test_the_start_alerts_with_its_snapshot_and_the_clip_does_not_alert_again(
    client: TestClient, owner: str, published: Published, tmp_path: Path
) -> None:
    camera = _camera(client, owner)
    token = _pair(client, owner, camera["id"])
    event_id = str(uuid.uuid4())
    started = announce(client, token, event_id, labels=["ring"], snapshot=tiny_jpeg())
    assert started.status_code == 202, started.text
    assert started.json() == {"event_id": event_id, "sent": "event_started"}
    clip = _upload(
        client, token, tiny_clip(tmp_path / "c.mp4").read_bytes(), meta=_meta(event_id=event_id)
    )
    assert clip.status_code == 201, clip.text

    kinds = [event["type"] for _, event in published]
    assert kinds == ["event_started", "clip"]
    first = published[0][1]
    assert first["alert"] is True
    assert first["labels"] == ["ring"]
    assert (first["camera_id"], first["camera_name"]) == (camera["id"], "Front door")
    assert published[1][1]["alert"] is False
    snapshot = client.get(first["snapshot"])
    assert snapshot.status_code == 200
    assert snapshot.headers["content-type"] == "image/jpeg"
    assert snapshot.content == tiny_jpeg()


def test_people_mode_alerts_when_the_person_label_arrives_and_only_once(
    client: TestClient, owner: str, published: Published, tmp_path: Path
) -> None:
    camera = camera_with(client, owner, alert_mode="people")
    token = _pair(client, owner, camera["id"])
    event_id = str(uuid.uuid4())
    assert announce(client, token, event_id).json()["sent"] == "event_started"
    assert announce(client, token, event_id, labels=["person"]).json()["sent"] == "event_updated"
    # The same label again tells the pages nothing new.
    assert announce(client, token, event_id, labels=["person"]).json()["sent"] is None
    _upload(
        client, token, tiny_clip(tmp_path / "c.mp4").read_bytes(), meta=_meta(event_id=event_id)
    )
    assert [(e["type"], e["alert"], e.get("labels")) for _, e in published] == [
        ("event_started", False, []),
        ("event_updated", True, ["person"]),
        ("clip", False, None),
    ]


def test_an_event_announced_without_a_person_under_people_mode_lets_the_clip_alert(
    client: TestClient, owner: str, published: Published, tmp_path: Path
) -> None:
    camera = camera_with(client, owner, alert_mode="people")
    token = _pair(client, owner, camera["id"])
    event_id = str(uuid.uuid4())
    announce(client, token, event_id)
    # The label is learnt only from the finished clip: that upload is the one alert.
    _upload(
        client, token, tiny_clip(tmp_path / "c.mp4").read_bytes(), meta=_meta(event_id=event_id)
    )
    assert [(e["type"], e["alert"]) for _, e in published] == [
        ("event_started", False),
        ("clip", True),
    ]


def test_quiet_hours_and_alerts_off_are_honoured(
    client: TestClient, owner: str, published: Published
) -> None:
    now = utcnow()
    quiet = camera_with(
        client,
        owner,
        quiet_start=(now - timedelta(hours=1)).strftime("%H:%M"),
        quiet_end=(now + timedelta(hours=1)).strftime("%H:%M"),
    )
    off = camera_with(client, owner, name="Back door", alert_mode="none")
    loud = camera_with(client, owner, name="Gate")
    for camera in (quiet, off, loud):
        token = _pair(client, owner, camera["id"])
        assert announce(client, token, str(uuid.uuid4()), labels=["person"]).status_code == 202
    assert [(e["camera_id"], e["alert"]) for _, e in published] == [
        (quiet["id"], False),
        (off["id"], False),
        (loud["id"], True),
    ]


def test_a_clip_before_its_announcement_alerts_once(
    client: TestClient, owner: str, published: Published, tmp_path: Path
) -> None:
    camera = _camera(client, owner)
    token = _pair(client, owner, camera["id"])
    event_id = str(uuid.uuid4())
    _upload(
        client, token, tiny_clip(tmp_path / "c.mp4").read_bytes(), meta=_meta(event_id=event_id)
    )
    late = announce(client, token, event_id, labels=["person"])
    assert late.json()["sent"] is None
    assert [(e["type"], e["alert"]) for _, e in published] == [("clip", True)]


@pytest.mark.parametrize(
    ("meta", "snapshot", "status"),
    [
        ("not json", None, 422),
        (json.dumps({"started_at": "2026-01-01T00:00:00+00:00"}), None, 422),
        (json.dumps({"event_id": "nope", "started_at": "2026-01-01T00:00:00+00:00"}), None, 422),
        (
            json.dumps({"event_id": str(uuid.uuid4()), "started_at": "2026-01-01T00:00:00"}),
            None,
            422,
        ),
        (
            json.dumps(
                {"event_id": str(uuid.uuid4()), "started_at": "2026-01-01T00:00:00Z", "x": 1}
            ),
            None,
            422,
        ),
        (
            json.dumps(
                {
                    "event_id": str(uuid.uuid4()),
                    "started_at": "2026-01-01T00:00:00Z",
                    "labels": ["cat"],
                }
            ),
            None,
            422,
        ),
        (
            json.dumps({"event_id": str(uuid.uuid4()), "started_at": "2099-01-01T00:00:00Z"}),
            None,
            422,
        ),
        (None, b"not a jpeg", 415),
        (None, b"\xff\xd8 broken", 415),
        (None, b"\xff\xd8" + bytes(1024 * 1024), 413),
    ],
)
def test_malformed_announcements_are_refused_and_change_nothing(
    app: FastAPI,
    client: TestClient,
    owner: str,
    published: Published,
    meta: str | None,
    snapshot: bytes | None,
    status: int,
) -> None:
    camera = _camera(client, owner)
    token = _pair(client, owner, camera["id"])
    event_id = str(uuid.uuid4())
    response = announce(client, token, event_id, meta=meta, snapshot=snapshot)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert published == []
    assert _events(app) == 0
    assert _state(app).held.get(f"event:{camera['id']}:{event_id}") is None


def test_an_end_to_end_camera_sends_no_snapshot_in_the_clear(
    app: FastAPI, client: TestClient, owner: str, published: Published
) -> None:
    camera = _camera(client, owner)
    token = _pair(client, owner, camera["id"])
    _enable(client, owner, camera["id"])
    refused = announce(client, token, str(uuid.uuid4()), snapshot=tiny_jpeg())
    assert refused.status_code == 422
    assert _events(app) == 0
    accepted = announce(client, token, str(uuid.uuid4()), labels=["person"])
    assert accepted.status_code == 202
    assert [(e["type"], e["snapshot"]) for _, e in published] == [("event_started", None)]


def test_only_the_owner_sees_the_start_snapshot(
    app: FastAPI, client: TestClient, owner: str, published: Published
) -> None:
    camera = _camera(client, owner)
    token = _pair(client, owner, camera["id"])
    announce(client, token, str(uuid.uuid4()), snapshot=tiny_jpeg())
    url = published[0][1]["snapshot"]
    assert client.get(url).status_code == 200
    with TestClient(app) as stranger:
        resident(stranger, "eve@example.org")
        assert stranger.get(url).status_code == 404
    assert client.get(url.replace(camera["id"], "x" * 32)).status_code == 404
    # A device token is not a viewer.
    device = client.get(url, headers={"authorization": f"Bearer {token}"})
    assert device.status_code in (401, 403)


def test_what_was_announced_goes_with_the_clip_and_never_outlives_a_day(
    app: FastAPI, client: TestClient, owner: str, tmp_path: Path
) -> None:
    from doorstep.clips.store import expire

    camera = camera_with(client, owner)
    token = _pair(client, owner, camera["id"])
    kept, dropped = str(uuid.uuid4()), str(uuid.uuid4())
    announce(client, token, kept)
    announce(client, token, dropped)
    clip = _upload(
        client, token, tiny_clip(tmp_path / "c.mp4").read_bytes(), meta=_meta(event_id=dropped)
    ).json()
    assert _events(app) == 2
    deleted = client.delete(f"/api/v1/clips/{clip['id']}", headers={"x-csrf-token": owner})
    assert deleted.status_code == 204
    assert _events(app) == 1
    state = _state(app)
    with state.db.session() as db:
        expire(db, state.keys, now=utcnow() + timedelta(hours=23))
    assert _events(app) == 1
    with state.db.session() as db:
        expire(db, state.keys, now=utcnow() + timedelta(days=1, minutes=1))
    assert _events(app) == 0
