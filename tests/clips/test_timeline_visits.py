"""A visit is one review item: clips of a camera close together, with every label and its boxes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from doorstep.clips.models import Clip
from doorstep.clips.service_visits import group_visits, strongest
from doorstep.platform.types import utcnow
from tests.cameras.test_api_devices import _camera, _pair, _state
from tests.clips.test_api_objects import ZONES, configure, seen, upload
from tests.factories import resident

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@dataclass
class Item:
    camera_id: str
    started_at: datetime
    ended_at: datetime


def at(camera: str, start: float, end: float) -> Item:
    return Item(camera, T0 + timedelta(seconds=start), T0 + timedelta(seconds=end))


def test_clips_of_a_camera_close_together_are_one_visit() -> None:
    first, near, far = at("a", 0, 10), at("a", 35, 50), at("a", 81, 90)
    overlapping, other = at("a", 40, 45), at("b", 5, 8)
    visits = group_visits([far, overlapping, near, other, first])
    assert visits == [[far], [other], [first, near, overlapping]]
    assert group_visits([]) == []


def test_the_kind_that_matters_most_wins() -> None:
    assert strongest(["motion", "alert", "detection"]) == "alert"
    assert strongest(["motion", "detection"]) == "detection"
    assert strongest([]) == "motion"


@pytest.fixture
def owner(client: TestClient) -> str:
    return resident(client)


def visit_clips(client: TestClient, app: FastAPI, owner: str, tmp: Path) -> dict[str, Any]:
    porch, yard = _camera(client, owner), _camera(client, owner, name="Yard")
    configure(app, porch["id"], alert_mode="people", detection_zones=ZONES)
    configure(app, yard["id"], detection_zones=ZONES)
    token, yard_token = _pair(client, owner, porch["id"]), _pair(client, owner, yard["id"])
    start = utcnow() - timedelta(minutes=10)

    def span(offset: float, seconds: float = 4) -> dict[str, str]:
        begin = start + timedelta(seconds=offset)
        end = begin + timedelta(seconds=seconds)
        return {"started_at": begin.isoformat(), "ended_at": end.isoformat()}

    person = seen(zones={"porch": 3.0}, box=[0.25, 0.1, 0.5, 0.8])
    car = seen("vehicle", zones={"driveway": 9.0}, box=[0.6, 0.5, 0.95, 0.9])
    return {
        "motion": upload(client, token, tmp, 0, labels=["motion"], **span(0)),
        "person": upload(client, token, tmp, 1, labels=["person"], objects=[person], **span(10)),
        "ring": upload(client, token, tmp, 2, labels=["ring"], **span(30)),
        "later": upload(client, token, tmp, 3, labels=["vehicle"], objects=[car], **span(300)),
        "yard": upload(client, yard_token, tmp, 4, labels=["motion"], **span(5)),
        "person_object": person,
        "car_object": car,
    }


def test_the_timeline_groups_a_visit_when_asked_and_keeps_its_shape_otherwise(
    client: TestClient, app: FastAPI, owner: str, tmp_path: Path
) -> None:
    made = visit_clips(client, app, owner, tmp_path)
    plain = client.get("/api/v1/clips").json()["clips"]
    assert len(plain) == 5
    assert all(entry["visit"] == [] for entry in plain)

    visits = client.get("/api/v1/clips", params={"visits": "true"}).json()["clips"]
    assert [entry["id"] for entry in visits] == [
        made["later"]["id"],
        made["yard"]["id"],
        made["motion"]["id"],
    ]
    door = visits[2]
    assert [clip["id"] for clip in door["visit"]] == [
        made["motion"]["id"],
        made["person"]["id"],
        made["ring"]["id"],
    ]
    assert [clip["labels"] for clip in door["visit"]] == [["motion"], ["person"], ["ring"]]
    assert door["labels"] == ["motion", "person", "ring"]
    assert door["kind"] == "alert"
    assert door["snapshot_url"] == f"/api/v1/clips/{made['motion']['id']}/snapshot"
    assert door["started_at"] == made["motion"]["started_at"]
    assert door["ended_at"] == made["ring"]["ended_at"]
    assert door["duration_seconds"] == 34.0
    assert visits[0]["visit"] == []
    assert visits[0]["objects"] == [made["car_object"]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"label": "vehicle"}, ["later"]),
        ({"label": "ring"}, ["ring"]),
        ({"zone": "porch"}, ["person"]),
        ({"zone": "driveway"}, ["later"]),
        ({"zone": "garden"}, []),
        ({"label": "person", "zone": "porch"}, ["person"]),
        ({"kind": "alert"}, ["ring", "person", "yard"]),
        ({"kind": "detection"}, ["later"]),
        ({"kind": "motion"}, ["motion"]),
    ],
)
def test_the_timeline_filters_by_label_zone_and_kind(
    client: TestClient,
    app: FastAPI,
    owner: str,
    tmp_path: Path,
    params: dict[str, str],
    expected: list[str],
) -> None:
    made = visit_clips(client, app, owner, tmp_path)
    found = client.get("/api/v1/clips", params=params).json()["clips"]
    order = sorted(expected, key=lambda name: made[name]["started_at"], reverse=True)
    assert [entry["id"] for entry in found] == [made[name]["id"] for name in order]


@pytest.mark.usefixtures("owner")
def test_bad_filters_are_a_clear_client_error(client: TestClient) -> None:
    for params in ({"label": "ghost"}, {"kind": "loud"}, {"zone": "x" * 65}):
        response = client.get("/api/v1/clips", params=params)
        assert response.status_code == 422, response.text


def test_the_page_shows_visits_with_boxes_and_filters_without_script(
    client: TestClient, app: FastAPI, owner: str, tmp_path: Path
) -> None:
    made = visit_clips(client, app, owner, tmp_path)
    page = client.get("/clips").text
    assert page.count('data-testid="visit"') == 3
    assert 'name="zone"' in page
    assert 'name="kind"' in page
    assert '<option value="vehicle"' in page
    # The first clip of the door visit has no objects; the car's box is drawn over its still.
    assert '<rect x="60.00%" y="50.00%" width="35.00%" height="40.00%">' in page
    assert ">vehicle</text>" in page
    for name in ("motion", "person", "ring"):
        assert f'name="ids" value="{made[name]["id"]}"' in page

    porch = client.get("/clips", params={"zone": "porch"}).text
    assert porch.count('data-testid="visit"') == 1
    assert '<rect x="25.00%" y="10.00%" width="25.00%" height="70.00%">' in porch
    assert ">person</text>" in porch
    assert 'value="porch"' in porch
    assert "60.00%" not in porch
    assert client.get("/clips", params={"zone": "garden"}).text.count("No clips match") == 1

    one = client.get(f"/clips/{made['person']['id']}").text
    assert "person (90%, porch 3.0 s)" in one
    assert "<dd>Alert</dd>" in one

    # An end-to-end clip's still is sealed: nothing is drawn over what the server cannot see.
    with _state(app).db.session() as db:
        row = db.get(Clip, made["person"]["id"])
        assert row is not None
        row.e2e = True
    sealed = client.get("/clips", params={"zone": "porch"}).text
    assert "object-boxes" not in sealed
    assert "End-to-end encrypted" in sealed


def test_other_motion_is_movement_with_nothing_seen_and_no_ring(
    client: TestClient, app: FastAPI, owner: str, tmp_path: Path
) -> None:
    made = visit_clips(client, app, owner, tmp_path)
    motion = client.get("/api/v1/clips", params={"label": "motion"}).json()["clips"]
    # Not the person, the ring or the car: only the two clips where nothing was seen.
    assert {clip["id"] for clip in motion} == {made["motion"]["id"], made["yard"]["id"]}
