"""Objects on announce and upload: checked, kept on the clip, deciding alerts and a clip's kind."""

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

from doorstep.cameras.models import Camera
from doorstep.clips.models import Clip
from doorstep.platform.types import utcnow
from tests.cameras.test_api_device_events import Published, announce, published
from tests.cameras.test_api_devices import _camera, _meta, _pair, _state, _upload
from tests.factories import resident
from tests.samples import tiny_clip

__all__ = ["published"]

PORCH_RULES = {"person": {"mode": "alert", "zones": ["porch"], "dwell_seconds": 5}}


def seen(
    label: str = "person",
    *,
    zones: dict[str, float] | None = None,
    seconds: float = 6.0,
    stationary: bool = False,
    box: list[float] | None = None,
) -> dict[str, Any]:
    return {
        "label": label,
        "score": 0.9,
        "box": box or [0.1, 0.2, 0.4, 0.9],
        "stationary": stationary,
        "seconds": seconds,
        "zones": zones or {},
    }


@pytest.fixture
def owner(client: TestClient) -> str:
    return resident(client)


def configure(app: FastAPI, camera_id: str, **columns: Any) -> None:
    """Set the camera's detection columns directly, as its settings would."""
    with _state(app).db.session() as db:
        camera = db.get(Camera, camera_id)
        assert camera is not None
        for name, value in columns.items():
            setattr(camera, name, value)


#: The named zones the tests' objects report seconds in.
ZONES = [
    {"name": name, "polygon": [[0.0, 0.5], [1.0, 0.5], [1.0, 1.0], [0.0, 1.0]]}
    for name in ("porch", "pavement", "driveway")
]


def paired(client: TestClient, app: FastAPI, owner: str, **columns: Any) -> tuple[str, str]:
    camera = _camera(client, owner)
    configure(app, camera["id"], **{"detection_zones": ZONES, **columns})
    return camera["id"], _pair(client, owner, camera["id"])


def upload(client: TestClient, token: str, tmp: Path, n: int, **meta: Any) -> dict[str, Any]:
    video = tiny_clip(tmp / f"{n}.mp4", frames=12 + n).read_bytes()
    response = _upload(client, token, video, meta=_meta(**meta))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def stored(app: FastAPI, clip_id: str) -> Clip:
    with _state(app).db.session() as db:
        clip = db.get(Clip, clip_id)
        assert clip is not None
        db.expunge(clip)
        return clip


def test_objects_are_kept_on_the_clip_and_shown_in_the_timeline(
    client: TestClient, app: FastAPI, owner: str, tmp_path: Path
) -> None:
    _, token = paired(client, app, owner)
    person = seen(zones={"porch": 4.0})
    clip = upload(client, token, tmp_path, 0, labels=["motion", "person"], objects=[person])
    assert clip["objects"] == [person]
    assert clip["kind"] == "alert"
    entry = client.get("/api/v1/clips").json()["clips"][0]
    assert entry["objects"] == [person]
    assert entry["kind"] == "alert"
    assert stored(app, clip["id"]).objects == [person]


def test_seconds_in_a_zone_the_camera_does_not_have_are_dropped_and_the_clip_kept(
    client: TestClient, app: FastAPI, owner: str, tmp_path: Path
) -> None:
    # The owner renamed or removed a zone while the event went on: the clip is still kept.
    camera_id, token = paired(client, app, owner)
    person = seen(zones={"porch": 4.0, "garden": 9.0})
    clip = upload(client, token, tmp_path, 0, labels=["person"], objects=[person])
    assert stored(app, clip["id"]).objects[0]["zones"] == {"porch": 4.0}
    configure(app, camera_id, detection_zones=[])
    clip = upload(client, token, tmp_path, 1, labels=["person"], objects=[person])
    assert stored(app, clip["id"]).objects[0]["zones"] == {}


def test_unknown_object_keys_are_not_kept(
    client: TestClient, app: FastAPI, owner: str, tmp_path: Path
) -> None:
    _, token = paired(client, app, owner)
    clip = upload(client, token, tmp_path, 0, objects=[{**seen(), "face": "x" * 100}])
    assert "face" not in stored(app, clip["id"]).objects[0]


BAD_OBJECTS: list[tuple[Any, str]] = [
    ([seen()] * 51, "at most 50 objects"),
    (["person"], "object 1 is not an object"),
    ([seen("ghost")], "label is one of person, vehicle, bicycle, animal"),
    ([{"label": "person"}], "needs a score and a box"),
    ([{**seen(), "score": 1.5}], "score is a number from 0 to 1"),
    ([{**seen(), "score": True}], "score is a number"),
    ([{**seen(), "score": "0.9"}], "score is a number"),
    ([seen(box=[0.1, 0.2, 0.4])], "box is [x1, y1, x2, y2]"),
    ([seen(box=[0.5, 0.2, 0.4, 0.9])], "x1 < x2 and y1 < y2"),
    ([seen(box=[0.1, 0.2, 0.4, 1.2])], "each box coordinate is a number from 0 to 1"),
    ([{**seen(), "stationary": "no"}], "stationary is true or false"),
    ([{**seen(), "seconds": -1}], "seconds is a number from 0"),
    ([{**seen(), "zones": ["porch"]}], "zones maps zone names to seconds inside"),
    ([seen(zones={"porch": -2.0})], "seconds in a zone is a number from 0"),
    ([seen(zones={f"z{n}": 1.0 for n in range(17)})], "at most 16 zones"),
    ([seen(zones={"": 1.0})], "a zone name is 1 to 40 printable characters"),
    ([seen(zones={"x" * 41: 1.0})], "a zone name is 1 to 40 printable characters"),
    ([seen(zones={"porch\x1b[2J": 1.0})], "a zone name is 1 to 40 printable characters"),
    ([seen(zones={"porch\u202e": 1.0})], "a zone name is 1 to 40 printable characters"),
]


@pytest.mark.parametrize(("objects", "message"), BAD_OBJECTS)
def test_malformed_objects_are_refused_on_upload_and_announce(
    client: TestClient, app: FastAPI, owner: str, objects: Any, message: str, tmp_path: Path
) -> None:
    _, token = paired(client, app, owner)
    video = tiny_clip(tmp_path / "c.mp4").read_bytes()
    refused = _upload(client, token, video, meta=_meta(objects=objects))
    assert refused.status_code == 422, refused.text
    assert message in refused.json()["detail"]
    assert refused.json()["field"] == "objects"
    body = json.dumps(
        {"event_id": str(uuid.uuid4()), "started_at": utcnow().isoformat(), "objects": objects}
    )
    announced = announce(client, token, "", meta=body)
    assert announced.status_code == 422, announced.text
    assert message in announced.json()["detail"]
    with _state(app).db.session() as db:
        assert db.scalar(select(func.count()).select_from(Clip)) == 0


def test_a_number_that_is_not_finite_is_refused(
    client: TestClient, app: FastAPI, owner: str
) -> None:
    _, token = paired(client, app, owner)
    body = json.dumps(
        {
            "event_id": str(uuid.uuid4()),
            "started_at": utcnow().isoformat(),
            "objects": [{**seen(), "seconds": float("nan")}],
        }
    )
    announced = announce(client, token, "", meta=body)
    assert announced.status_code == 422, announced.text
    assert "seconds is a number from 0" in announced.json()["detail"]


def test_a_person_only_on_the_pavement_is_kept_as_a_detection_without_alert(
    client: TestClient, app: FastAPI, owner: str, tmp_path: Path, published: Published
) -> None:
    _, token = paired(client, app, owner, alert_mode="people", object_rules=PORCH_RULES)
    passer = seen(zones={"pavement": 9.0}, seconds=9.0)
    clip = upload(client, token, tmp_path, 0, labels=["person"], objects=[passer])
    assert clip["kind"] == "detection"
    assert [event["alert"] for _, event in published] == [False]


def test_a_person_on_the_porch_for_the_dwell_alerts_once_and_earlier_clips_become_alerts(
    client: TestClient, app: FastAPI, owner: str, tmp_path: Path, published: Published
) -> None:
    _, token = paired(
        client,
        app,
        owner,
        alert_mode="people",
        object_rules=PORCH_RULES,
        retention_days=30,
        detection_retention_days=7,
    )
    event_id = str(uuid.uuid4())

    def tell(person: dict[str, Any]) -> Any:
        body = json.dumps(
            {
                "event_id": event_id,
                "started_at": (utcnow() - timedelta(seconds=5)).isoformat(),
                "labels": ["person"],
                "objects": [person],
            }
        )
        response = announce(client, token, event_id, meta=body)
        assert response.status_code == 202, response.text
        return response.json()["sent"]

    assert tell(seen(zones={"porch": 1.0}, seconds=2.0)) == "event_started"
    # The first segment is stored before the person has stayed long enough: a detection.
    start = utcnow() - timedelta(minutes=1)
    first = upload(
        client,
        token,
        tmp_path,
        0,
        event_id=event_id,
        labels=["person"],
        objects=[seen(zones={"porch": 1.0})],
        started_at=start.isoformat(),
        ended_at=(start + timedelta(seconds=2)).isoformat(),
    )
    assert first["kind"] == "detection"
    # Nothing new: no message.
    assert tell(seen(zones={"porch": 2.0}, seconds=3.0)) is None
    # Five seconds on the porch: the event alerts, its stored clip becomes an alert.
    assert tell(seen(zones={"porch": 5.5}, seconds=7.0)) == "event_updated"
    assert tell(seen(zones={"porch": 9.0}, seconds=10.0)) is None
    second = upload(
        client,
        token,
        tmp_path,
        1,
        event_id=event_id,
        segment=1,
        labels=["person"],
        objects=[seen(zones={"porch": 9.0})],
    )
    alerts = [(event["type"], event["alert"]) for _, event in published]
    assert alerts == [
        ("event_started", False),
        ("clip", False),
        ("event_updated", True),
        ("clip", False),
    ]
    assert second["kind"] == "alert"
    row = stored(app, first["id"])
    assert row.kind == "alert"
    assert row.expires_at == row.started_at + timedelta(days=30)


def test_a_stationary_object_does_not_alert(
    client: TestClient, app: FastAPI, owner: str, tmp_path: Path, published: Published
) -> None:
    _, token = paired(client, app, owner, alert_mode="people", ignore_stationary=True)
    parked = seen(stationary=True, seconds=600.0)
    clip = upload(client, token, tmp_path, 0, labels=["person"], objects=[parked])
    assert clip["kind"] == "detection"
    configure(app, clip["camera_id"], ignore_stationary=False)
    again = upload(client, token, tmp_path, 1, labels=["person"], objects=[parked])
    assert again["kind"] == "alert"
    assert [event["alert"] for _, event in published] == [False, True]


def test_labels_and_objects_of_a_label_turned_off_are_not_kept(
    client: TestClient, app: FastAPI, owner: str, tmp_path: Path
) -> None:
    rules = {"animal": {"mode": "off"}}
    _, token = paired(client, app, owner, alert_mode="people", object_rules=rules)
    clip = upload(client, token, tmp_path, 0, labels=["motion", "animal"], objects=[seen("animal")])
    assert (clip["labels"], clip["objects"], clip["kind"]) == (["motion"], [], "motion")
    car = upload(client, token, tmp_path, 1, labels=["vehicle"], objects=[seen("vehicle")])
    assert car["kind"] == "detection"
    rung = upload(client, token, tmp_path, 2, labels=["ring"])
    assert rung["kind"] == "alert"
