"""Indoor cameras: a warrant that lists them without naming them explicitly discloses nothing."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from tests.legal.test_api import Scene, demand_body, disclose, record, scene

pytestmark = pytest.mark.usefixtures("client")


def _indoors(s: Scene) -> None:
    changed = s.owner.patch(
        f"/api/v1/cameras/{s.camera_id}",
        json={"indoor": True},
        headers={"x-csrf-token": s.owner_csrf},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["indoor"] is True


def test_the_owner_marks_a_camera_indoor_through_the_api(app: FastAPI) -> None:
    s = scene(app)
    assert s.owner.get(f"/api/v1/cameras/{s.camera_id}").json()["indoor"] is False
    _indoors(s)
    assert s.owner.get(f"/api/v1/cameras/{s.camera_id}").json()["indoor"] is True


def test_a_warrant_listing_an_indoor_camera_without_naming_it_discloses_none_of_it(
    app: FastAPI,
) -> None:
    s = scene(app)
    _indoors(s)
    demand = record(s)
    # "Everything in scope" leaves the indoor camera out ...
    everything = disclose(s, demand["id"])
    assert everything.status_code == 200, everything.text
    assert everything.json() == []
    # ... and naming its clip is refused with the reason.
    named_clip = disclose(s, demand["id"], clip_ids=[s.clip_id])
    assert named_clip.status_code == 422
    assert named_clip.json()["reason"] == "indoor_not_named"
    assert s.agency.get("/api/v1/evidence/disclosures").json() == []
    assert s.owner.get("/api/v1/me/disclosures/legal").json() == []


def test_a_warrant_naming_the_indoor_camera_reaches_it(app: FastAPI) -> None:
    s = scene(app)
    _indoors(s)
    demand = record(s, indoor_device_ids=[s.camera_id])
    assert demand["indoor_device_ids"] == [s.camera_id]
    made = disclose(s, demand["id"])
    assert made.status_code == 200, made.text
    assert [d["basis"] for d in made.json()] == ["legal_demand"]


def test_an_indoor_camera_named_outside_the_demands_devices_is_refused(app: FastAPI) -> None:
    s = scene(app)
    response = s.reviewer.post(
        "/api/v1/legal/demands",
        json={
            **demand_body(s),
            "device_ids": [],
            "indoor_device_ids": [s.camera_id],
        },
        headers={"x-csrf-token": s.reviewer_csrf},
    )
    assert response.status_code == 422
    assert response.json()["field"] == "indoor_device_ids"


def test_an_outdoor_camera_is_reached_as_before(app: FastAPI) -> None:
    s = scene(app)
    demand = record(s)
    made = disclose(s, demand["id"])
    assert [d["basis"] for d in made.json()] == ["legal_demand"]
