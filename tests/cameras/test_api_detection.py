"""What a camera detects, over the API: saved, shown, refused clearly, and sent to its agent."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import resident

PORCH = {"name": "porch", "polygon": [[0.3, 0.5], [0.7, 0.5], [0.7, 1.0], [0.3, 1.0]]}
DRIVE = {"name": "drive", "polygon": [[0.0, 0.5], [0.3, 0.5], [0.3, 1.0]]}


@pytest.fixture
def owner(client: TestClient) -> str:
    return resident(client)


def _camera(client: TestClient, csrf: str) -> dict[str, Any]:
    response = client.post(
        "/api/v1/cameras", json={"name": "Front door"}, headers={"x-csrf-token": csrf}
    )
    assert response.status_code == 201, response.text
    camera: dict[str, Any] = response.json()
    return camera


def _patch(client: TestClient, csrf: str, camera_id: str, **change: Any) -> Any:
    return client.patch(f"/api/v1/cameras/{camera_id}", json=change, headers={"x-csrf-token": csrf})


def _config(client: TestClient, csrf: str, camera_id: str) -> dict[str, Any]:
    code = client.post(
        f"/api/v1/cameras/{camera_id}/pairing-code", headers={"x-csrf-token": csrf}
    ).json()["code"]
    token = client.post("/api/v1/devices/pair", json={"code": code}).json()["token"]
    config = client.get("/api/v1/devices/config", headers={"authorization": f"Bearer {token}"})
    assert config.status_code == 200, config.text
    body: dict[str, Any] = config.json()
    return body


def test_a_new_camera_alerts_on_people_anywhere_and_keeps_the_rest(
    client: TestClient, owner: str
) -> None:
    camera = _camera(client, owner)
    assert camera["detection_zones"] == []
    assert camera["object_rules"]["person"] == {"mode": "alert", "zones": [], "dwell_seconds": 0}
    assert {
        rule["mode"] for label, rule in camera["object_rules"].items() if label != "person"
    } == {"detection"}
    assert camera["ignore_stationary"] is True
    assert camera["detection_retention_days"] is None
    assert camera["motion_retention_days"] is None


def test_detection_settings_round_trip_bump_the_version_and_reach_the_agent(
    client: TestClient, owner: str
) -> None:
    camera = _camera(client, owner)
    patched = _patch(
        client,
        owner,
        camera["id"],
        alert_mode="objects",
        detection_zones=[PORCH, DRIVE],
        object_rules={
            "person": {"zones": ["porch"], "dwell_seconds": 5},
            "animal": {"mode": "off"},
        },
        ignore_stationary=False,
        retention_days=14,
        detection_retention_days=7,
        motion_retention_days=1,
    )
    assert patched.status_code == 200, patched.text
    shown = client.get(f"/api/v1/cameras/{camera['id']}").json()
    assert shown == patched.json()
    assert shown["alert_mode"] == "objects"
    assert [zone["name"] for zone in shown["detection_zones"]] == ["porch", "drive"]
    assert shown["object_rules"] == {
        "person": {"mode": "alert", "zones": ["porch"], "dwell_seconds": 5},
        "vehicle": {"mode": "detection", "zones": [], "dwell_seconds": 0},
        "bicycle": {"mode": "detection", "zones": [], "dwell_seconds": 0},
        "animal": {"mode": "off", "zones": [], "dwell_seconds": 0},
    }
    assert shown["ignore_stationary"] is False
    assert (shown["detection_retention_days"], shown["motion_retention_days"]) == (7, 1)
    assert shown["config_version"] == camera["config_version"] + 1

    config = _config(client, owner, camera["id"])
    assert config["config_version"] == shown["config_version"]
    assert config["detection_zones"] == shown["detection_zones"]
    assert config["object_rules"] == shown["object_rules"]
    assert config["ignore_stationary"] is False
    # The agent needs no alert mode or retention: the server decides alerts and keeps clips.
    assert "retention_days" not in config
    assert "alert_mode" not in config


def test_a_rule_changes_only_what_it_names(client: TestClient, owner: str) -> None:
    camera = _camera(client, owner)
    first = _patch(
        client,
        owner,
        camera["id"],
        detection_zones=[PORCH],
        object_rules={"person": {"zones": ["porch"], "dwell_seconds": 5}},
    )
    assert first.status_code == 200, first.text
    second = _patch(client, owner, camera["id"], object_rules={"person": {"dwell_seconds": 9}})
    assert second.json()["object_rules"]["person"] == {
        "mode": "alert",
        "zones": ["porch"],
        "dwell_seconds": 9,
    }
    assert second.json()["config_version"] == first.json()["config_version"] + 1


def test_people_is_still_accepted_as_the_older_name_of_objects(
    client: TestClient, owner: str
) -> None:
    camera = _camera(client, owner)
    patched = _patch(client, owner, camera["id"], alert_mode="people")
    assert patched.status_code == 200
    assert patched.json()["alert_mode"] == "objects"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"object_rules": {"cat": {"mode": "alert"}}}, "'cat' is not a label"),
        ({"object_rules": {"person": {"zones": ["gate"]}}}, "no detection zone named 'gate'"),
        ({"object_rules": {"person": {"mode": "loud"}}}, "mode is one of alert, detection, off"),
        ({"object_rules": {"person": {"dwell_seconds": 601}}}, "less than or equal to 600"),
        ({"object_rules": {"person": {"dwell_seconds": -1}}}, "greater than or equal to 0"),
        ({"object_rules": {"person": {"colour": "red"}}}, "Extra inputs are not permitted"),
        ({"detection_retention_days": 5}, "keep detections for one of 1, 3"),
        ({"motion_retention_days": 60}, "kept at most as long as alerts (30 days)"),
        ({"detection_zones": [PORCH, {**DRIVE, "name": "Porch"}]}, "two zones are named"),
        (
            {"detection_zones": [{"name": "gate", "polygon": [[0, 0], [2, 0], [1, 1]]}]},
            "zone 'gate': x and y are fractions",
        ),
        (
            {"detection_zones": [{"name": "gate", "polygon": [[0, 0], [1, 1]]}]},
            "zone 'gate' needs 3 to 64 points",
        ),
        ({"detection_zones": [{**PORCH, "name": "x" * 41}]}, "at most 40 characters"),
        ({"alert_mode": "sometimes"}, "alert mode is all"),
    ],
)
def test_bad_detection_settings_are_refused_clearly_and_change_nothing(
    client: TestClient, owner: str, change: dict[str, Any], message: str
) -> None:
    camera = _camera(client, owner)
    response = _patch(client, owner, camera["id"], **change)
    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert client.get(f"/api/v1/cameras/{camera['id']}").json() == camera


def test_a_zone_a_rule_needs_cannot_be_removed_under_it(client: TestClient, owner: str) -> None:
    camera = _camera(client, owner)
    saved = _patch(
        client,
        owner,
        camera["id"],
        detection_zones=[PORCH],
        object_rules={"person": {"zones": ["porch"]}},
    ).json()
    response = _patch(client, owner, camera["id"], detection_zones=[DRIVE])
    assert response.status_code == 422
    assert "person: there is no detection zone named 'porch'" in response.json()["detail"]
    assert client.get(f"/api/v1/cameras/{camera['id']}").json() == saved
    both = _patch(
        client, owner, camera["id"], detection_zones=[DRIVE], object_rules={"person": {"zones": []}}
    )
    assert both.status_code == 200, both.text


def test_alerts_cannot_be_kept_shorter_than_detections_and_null_means_as_alerts(
    client: TestClient, owner: str
) -> None:
    camera = _camera(client, owner)
    assert _patch(client, owner, camera["id"], detection_retention_days=14).status_code == 200
    shorter = _patch(client, owner, camera["id"], retention_days=7)
    assert shorter.status_code == 422
    assert "detections are kept at most as long as alerts (7 days)" in shorter.json()["detail"]
    both = _patch(client, owner, camera["id"], retention_days=7, detection_retention_days=None)
    assert both.status_code == 200, both.text
    assert (both.json()["retention_days"], both.json()["detection_retention_days"]) == (7, None)


def test_quiet_hours_keep_the_camera_s_time_zone(client: TestClient, owner: str) -> None:
    camera = _camera(client, owner)
    assert camera["time_zone"] == "UTC"
    changed = _patch(client, owner, camera["id"], time_zone="America/Los_Angeles")
    assert changed.status_code == 200, changed.text
    assert changed.json()["time_zone"] == "America/Los_Angeles"
    bad = _patch(client, owner, camera["id"], time_zone="Mars/Olympus")
    assert bad.status_code == 422
    assert "time zone" in bad.text
    export = client.get("/api/v1/cameras").json()[0]
    assert export["time_zone"] == "America/Los_Angeles"
