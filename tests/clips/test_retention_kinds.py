"""Each kind of clip keeps its own days: motion can go long before the alerts of the same day."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from doorstep.cameras.models import Camera
from doorstep.clips import service
from doorstep.clips.jobs import sweep_expired
from doorstep.clips.models import Clip
from doorstep.clips.rules_objects import clip_kind, kind_days
from doorstep.platform.types import utcnow
from tests.cameras.test_api_devices import _state
from tests.cameras.test_pages_detection import _form
from tests.clips.test_api_objects import paired, seen, stored, upload
from tests.factories import resident


def test_a_clip_kind_comes_from_its_alert_ring_and_objects() -> None:
    assert clip_kind(["motion"], alerted=True) == "alert"
    assert clip_kind(["motion", "ring"], alerted=False) == "alert"
    assert clip_kind(["motion", "bicycle"], alerted=False) == "detection"
    assert clip_kind(["motion"], alerted=False) == "motion"
    assert clip_kind([], alerted=False) == "motion"


@pytest.mark.parametrize(("kind", "days"), [("alert", 30), ("detection", 7), ("motion", 1)])
def test_each_kind_keeps_its_own_days(kind: str, days: int) -> None:
    assert kind_days(kind, retention_days=30, detection_days=7, motion_days=1) == days
    # Unset, a kind keeps what alerts keep.
    assert kind_days(kind, retention_days=30, detection_days=None, motion_days=None) == 30


@pytest.fixture
def owner(client: TestClient) -> str:
    return resident(client)


def three_kinds(client: TestClient, app: FastAPI, owner: str, tmp: Path) -> dict[str, Any]:
    _, token = paired(
        client,
        app,
        owner,
        alert_mode="people",
        retention_days=30,
        detection_retention_days=7,
        motion_retention_days=1,
    )
    start = (utcnow() - timedelta(minutes=5)).isoformat()
    return {
        "alert": upload(client, token, tmp, 0, labels=["person"], objects=[seen()]),
        "detection": upload(client, token, tmp, 1, labels=["vehicle"], started_at=start),
        "motion": upload(client, token, tmp, 2, labels=["motion"], started_at=start),
    }


def test_each_kind_expires_by_its_days_and_the_sweep_shreds_per_kind(
    client: TestClient, app: FastAPI, owner: str, tmp_path: Path
) -> None:
    made = three_kinds(client, app, owner, tmp_path)
    for kind, days in (("alert", 30), ("detection", 7), ("motion", 1)):
        row = stored(app, made[kind]["id"])
        assert row.kind == kind
        assert row.expires_at == row.started_at + timedelta(days=days)
        assert datetime.fromisoformat(made[kind]["expires_at"]) == row.expires_at

    # Two days on, all three recorded the same day: only motion is past its day.
    state = _state(app)
    with state.db.session() as db:
        for clip in db.scalars(select(Clip)):
            clip.started_at -= timedelta(days=2)
            clip.expires_at -= timedelta(days=2)
    assert sweep_expired(state.db, state.keys) == 1
    assert client.get(made["motion"]["video_url"]).status_code == 404
    assert client.get(made["detection"]["video_url"]).status_code == 200
    # Eight days on: the detection goes, the alert of the same day stays.
    with state.db.session() as db:
        for clip in db.scalars(select(Clip)):
            clip.started_at -= timedelta(days=6)
            clip.expires_at -= timedelta(days=6)
    assert sweep_expired(state.db, state.keys) == 1
    with state.db.session() as db:
        assert list(db.scalars(select(Clip.id))) == [made["alert"]["id"]]
    assert client.get(made["alert"]["video_url"]).status_code == 200


def test_changing_a_retention_moves_the_expiry_of_that_kind_only(
    client: TestClient, app: FastAPI, owner: str, tmp_path: Path
) -> None:
    made = three_kinds(client, app, owner, tmp_path)
    camera_id = made["alert"]["camera_id"]
    with _state(app).db.session() as db:
        camera = db.get(Camera, camera_id)
        assert camera is not None
        camera.motion_retention_days = 3
        assert service.apply_retention(db, camera) == 1
    motion, detection = stored(app, made["motion"]["id"]), stored(app, made["detection"]["id"])
    assert motion.expires_at == motion.started_at + timedelta(days=3)
    assert detection.expires_at == detection.started_at + timedelta(days=7)

    # The owner's setting for all clips: alerts follow it, and the kinds that have none.
    changed = client.patch(
        f"/api/v1/cameras/{camera_id}",
        json={"retention_days": 14},
        headers={"x-csrf-token": owner},
    )
    assert changed.status_code == 200, changed.text
    alert = stored(app, made["alert"]["id"])
    assert alert.expires_at == alert.started_at + timedelta(days=14)
    assert stored(app, made["motion"]["id"]).expires_at == motion.expires_at


def _shift(app: FastAPI, clip_id: str, *, started_days_ago: float, kept_days: float) -> Clip:
    """Move a stored clip into the past: started so long ago, expiring so long after."""
    with _state(app).db.session() as db:
        clip = db.get(Clip, clip_id)
        assert clip is not None
        clip.started_at = utcnow() - timedelta(days=started_days_ago)
        clip.ended_at = clip.started_at + timedelta(seconds=2)
        clip.expires_at = clip.started_at + timedelta(days=kept_days)
    return stored(app, clip_id)


def test_raising_retention_never_brings_back_a_clip_already_expired(
    client: TestClient, app: FastAPI, owner: str, tmp_path: Path
) -> None:
    camera_id, token = paired(client, app, owner, retention_days=7)
    start = (utcnow() - timedelta(minutes=5)).isoformat()
    old = upload(client, token, tmp_path, 0, labels=["motion"], started_at=start)
    recent = upload(client, token, tmp_path, 1, labels=["motion"], started_at=start)
    expired = _shift(app, old["id"], started_days_ago=10, kept_days=7)
    live = _shift(app, recent["id"], started_days_ago=2, kept_days=7)

    changed = client.patch(
        f"/api/v1/cameras/{camera_id}",
        json={"retention_days": 30},
        headers={"x-csrf-token": owner},
    )
    assert changed.status_code == 200, changed.text
    assert stored(app, old["id"]).expires_at == expired.expires_at < utcnow()
    assert stored(app, recent["id"]).expires_at == live.started_at + timedelta(days=30)
    state = _state(app)
    assert sweep_expired(state.db, state.keys) == 1
    with state.db.session() as db:
        assert list(db.scalars(select(Clip.id))) == [recent["id"]]


def _settings_form(client: TestClient, camera_id: str, **fields: str) -> dict[str, Any]:
    page = f"/cameras/{camera_id}"
    kept = {"retention_days": "30", "detection_retention_days": "7", "motion_retention_days": "1"}
    return _form(client, page, **{**kept, **fields})


def test_only_a_changed_retention_moves_clips_and_only_of_its_kind(
    client: TestClient, app: FastAPI, owner: str, tmp_path: Path
) -> None:
    made = three_kinds(client, app, owner, tmp_path)
    camera_id = made["alert"]["camera_id"]
    # Each clip made to expire a day later than its kind's retention says, to see who moves.
    before = {
        kind: _shift(app, made[kind]["id"], started_days_ago=0.5, kept_days=days + 1)
        for kind, days in (("alert", 30), ("detection", 7), ("motion", 1))
    }

    # A rename: the page sends every retention again, unchanged; no clip's expiry is written.
    form = _settings_form(client, camera_id, name="Back door")
    saved = client.post(f"/cameras/{camera_id}/settings", data=form)
    assert "Settings saved." in saved.text
    for kind, clip in before.items():
        assert stored(app, made[kind]["id"]).expires_at == clip.expires_at, kind

    # Motion's days change: motion clips follow, alerts and detections are left as they were.
    form = _settings_form(client, camera_id, name="Back door", motion_retention_days="3")
    saved = client.post(f"/cameras/{camera_id}/settings", data=form)
    assert "Settings saved." in saved.text
    motion = stored(app, made["motion"]["id"])
    assert motion.expires_at == motion.started_at + timedelta(days=3)
    for kind in ("alert", "detection"):
        assert stored(app, made[kind]["id"]).expires_at == before[kind].expires_at, kind
