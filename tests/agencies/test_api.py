"""Agencies: apply, verification, members, the public directory and the k-anonymous camera map."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import h3
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from doorstep.accounts.roles import Role
from doorstep.accounts.store import create_user
from doorstep.platform.http.state import AppState
from doorstep.platform.types import utcnow
from tests.cameras.test_api_devices import _camera, _pair, _upload
from tests.factories import PASSWORD, log_in, resident
from tests.samples import tiny_clip

#: A rectangle around central Portland, as GeoJSON ([lon, lat]).
JURISDICTION: dict[str, Any] = {
    "type": "Polygon",
    "coordinates": [
        [[-122.72, 45.49], [-122.60, 45.49], [-122.60, 45.57], [-122.72, 45.57], [-122.72, 45.49]]
    ],
}
HOME = {"lat": 45.5236, "lon": -122.6771}


def app_state(app: FastAPI) -> AppState:
    """The app's state."""
    state: AppState = app.state.doorstep
    return state


def staff(app: FastAPI, email: str, role: Role) -> tuple[TestClient, str]:
    """An admin or reviewer account, made the way the CLI makes one, then logged in."""
    with app_state(app).db.session() as db:
        create_user(
            db,
            email=email,
            password=PASSWORD,
            display_name="Staff",
            home=None,
            cell_resolution=app_state(app).settings.public_cell_resolution,
            role=role,
        )
    other = TestClient(app)
    return other, log_in(other, email)


def apply(client: TestClient, csrf: str, name: str = "Portland Police Bureau") -> dict[str, Any]:
    """Apply for an agency through the API."""
    body = {
        "name": name,
        "kind": "law_enforcement",
        "jurisdiction": JURISDICTION,
        "contact": "records@ppb.example",
    }
    response = client.post("/api/v1/agencies", json=body, headers={"x-csrf-token": csrf})
    assert response.status_code == 201, response.text
    agency: dict[str, Any] = response.json()
    return agency


def verified_agency(
    app: FastAPI, name: str = "Portland Police Bureau", email: str = "chief@ppb.example"
) -> tuple[TestClient, str, str]:
    """A verified agency and its logged-in admin: (client, csrf, agency id)."""
    agency_client = TestClient(app)
    csrf = resident(agency_client, email, display_name="Chief")
    agency = apply(agency_client, csrf, name)
    admin, admin_csrf = staff(app, f"admin-{agency['id']}@doorstep.example", Role.ADMIN)
    verified = admin.post(
        f"/api/v1/agencies/{agency['id']}/verify", headers={"x-csrf-token": admin_csrf}
    )
    assert verified.status_code == 200, verified.text
    return agency_client, csrf, agency["id"]


def owner_with_clip(
    app: FastAPI,
    email: str,
    *,
    position: dict[str, float] | None = None,
    opt_in: bool = True,
    video: bytes | None = None,
    tmp_name: str = "clip.mp4",
) -> tuple[TestClient, str, str]:
    """A resident with one camera and one clip from five minutes ago: (client, csrf, clip id)."""
    import tempfile
    from pathlib import Path

    owner = TestClient(app)
    csrf = resident(owner, email, display_name=email.split("@")[0].title(), home=position or HOME)
    camera = _camera(owner, csrf, requests_opt_in=opt_in)
    token = _pair(owner, csrf, camera["id"])
    if video is None:
        with tempfile.TemporaryDirectory() as folder:
            video = tiny_clip(Path(folder) / tmp_name).read_bytes()
    start = utcnow() - timedelta(minutes=5)
    meta = {
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(seconds=2)).isoformat(),
        "peak_motion": 0.2,
        "labels": ["person"],
    }
    uploaded = _upload(owner, token, video, meta=json.dumps(meta))
    assert uploaded.status_code == 201, uploaded.text
    return owner, csrf, uploaded.json()["id"]


def test_an_agency_is_public_only_once_verified(app: FastAPI, client: TestClient) -> None:
    csrf = resident(client, "chief@ppb.example")
    agency = apply(client, csrf)
    assert agency["status"] == "applied"
    assert client.get("/api/v1/agencies").json() == []
    assert client.get(f"/api/v1/agencies/{agency['id']}").status_code == 404
    refused = client.post(f"/api/v1/agencies/{agency['id']}/verify", headers={"x-csrf-token": csrf})
    assert refused.status_code == 403
    admin, admin_csrf = staff(app, "admin@doorstep.example", Role.ADMIN)
    pending = admin.get("/api/v1/agencies/applications").json()
    assert [a["id"] for a in pending] == [agency["id"]]
    admin.post(f"/api/v1/agencies/{agency['id']}/verify", headers={"x-csrf-token": admin_csrf})
    directory = client.get("/api/v1/agencies").json()
    assert [a["name"] for a in directory] == ["Portland Police Bureau"]
    assert directory[0]["jurisdiction"] == JURISDICTION
    nothing = {"at_least": 0, "at_most": 4, "label": "fewer than 5"}
    assert directory[0]["stats"] == {
        "requests": 0,
        "asked": nothing,
        "shared": nothing,
        "clips_shared": nothing,
        "k": 5,
    }
    assert client.get("/api/v1/me").json()["role"] == "agency_admin"


def test_a_rejected_agency_cannot_post(app: FastAPI, client: TestClient) -> None:
    csrf = resident(client, "chief@ppb.example")
    agency = apply(client, csrf)
    admin, admin_csrf = staff(app, "admin@doorstep.example", Role.REVIEWER)
    admin.post(f"/api/v1/agencies/{agency['id']}/reject", headers={"x-csrf-token": admin_csrf})
    assert client.get("/api/v1/agencies").json() == []
    response = client.get(f"/api/v1/agencies/{agency['id']}/camera-map")
    assert response.status_code == 403


def test_a_bad_jurisdiction_or_duplicate_is_refused(client: TestClient) -> None:
    csrf = resident(client, "chief@ppb.example")
    body = {"name": "X", "kind": "fire", "jurisdiction": {"type": "Point"}, "contact": "x@y.z"}
    response = client.post("/api/v1/agencies", json=body, headers={"x-csrf-token": csrf})
    assert response.status_code == 422
    assert "Polygon" in response.json()["detail"]
    apply(client, csrf)
    again = client.post(
        "/api/v1/agencies",
        json={**body, "jurisdiction": JURISDICTION},
        headers={"x-csrf-token": csrf},
    )
    assert again.status_code == 409


@pytest.mark.usefixtures("client")
def test_admins_invite_members_who_join_by_accepting(app: FastAPI) -> None:
    agency_client, csrf, agency_id = verified_agency(app)
    officer = TestClient(app)
    officer_csrf = resident(officer, "officer@ppb.example", display_name="Officer")
    invited = agency_client.post(
        f"/api/v1/agencies/{agency_id}/members",
        json={"email": "Officer@PPB.example"},
        headers={"x-csrf-token": csrf},
    )
    assert invited.status_code == 202, invited.text
    sent = invited.json()
    assert re.fullmatch(r"[A-Z2-9]{4}(-[A-Z2-9]{4}){3}", sent.pop("code"))
    assert sent == {
        "id": sent["id"],
        "email": "officer@ppb.example",
        "status": "invited",
        "expires_in_days": 7,
    }
    # Invited is not joined: nothing changes until the officer accepts.
    assert officer.get("/api/v1/me").json()["role"] == "resident"
    pending = agency_client.get(f"/api/v1/agencies/{agency_id}/invitations").json()
    assert [p["email"] for p in pending] == ["officer@ppb.example"]
    [waiting] = officer.get("/api/v1/invitations").json()
    assert (waiting["kind"], waiting["agency_name"]) == ("agency", "Portland Police Bureau")
    assert waiting["invited_by"] == "Chief"
    assert waiting["id"] == sent["id"]
    accepted = officer.post(
        f"/api/v1/invitations/{waiting['id']}/accept",
        json={"code": invited.json()["code"].lower()},
        headers={"x-csrf-token": officer_csrf},
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "accepted"
    assert officer.get("/api/v1/me").json()["role"] == "agency_member"
    assert agency_client.get(f"/api/v1/agencies/{agency_id}/invitations").json() == []
    members = agency_client.get(f"/api/v1/agencies/{agency_id}/members").json()
    assert sorted(m["role"] for m in members) == ["admin", "member"]
    again = officer.post(
        f"/api/v1/invitations/{waiting['id']}/accept",
        json={"code": invited.json()["code"]},
        headers={"x-csrf-token": officer_csrf},
    )
    assert again.status_code == 409
    refused = officer.post(
        f"/api/v1/agencies/{agency_id}/members",
        json={"email": "chief@ppb.example"},
        headers={"x-csrf-token": officer_csrf},
    )
    assert refused.status_code == 403


@pytest.mark.usefixtures("client")
def test_an_admin_can_withdraw_an_invitation_before_it_is_answered(app: FastAPI) -> None:
    agency_client, csrf, agency_id = verified_agency(app)
    officer = TestClient(app)
    officer_csrf = resident(officer, "officer@ppb.example")
    sent = agency_client.post(
        f"/api/v1/agencies/{agency_id}/members",
        json={"email": "officer@ppb.example"},
        headers={"x-csrf-token": csrf},
    ).json()
    [pending] = agency_client.get(f"/api/v1/agencies/{agency_id}/invitations").json()
    url = f"/api/v1/agencies/{agency_id}/invitations/{pending['id']}"
    assert agency_client.delete(url, headers={"x-csrf-token": csrf}).status_code == 204
    assert agency_client.delete(url, headers={"x-csrf-token": csrf}).status_code == 409
    assert officer.get("/api/v1/invitations").json() == []
    accepted = officer.post(
        f"/api/v1/invitations/{pending['id']}/accept",
        json={"code": sent["code"]},
        headers={"x-csrf-token": officer_csrf},
    )
    assert accepted.status_code == 409
    assert officer.get("/api/v1/me").json()["role"] == "resident"


@pytest.mark.usefixtures("client")
def test_the_camera_map_suppresses_small_cells(app: FastAPI) -> None:
    agency_client, _csrf, agency_id = verified_agency(app)
    busy = h3.latlng_to_cell(45.5236, -122.6771, 8)
    quiet = h3.latlng_to_cell(45.5450, -122.6400, 8)
    positions = [(45.5236 + i * 0.0002, -122.6771) for i in range(5)]
    positions += [(45.5450 + i * 0.0002, -122.6400) for i in range(4)]
    positions += [(45.5238, -122.6773)]
    opt_ins = [True] * 9 + [False]
    owner = TestClient(app)
    csrf = resident(owner, "many@example.org", home=HOME)
    for (lat, lon), opt_in in zip(positions, opt_ins, strict=True):
        _camera(owner, csrf, position={"lat": lat, "lon": lon}, requests_opt_in=opt_in)
    response = agency_client.get(f"/api/v1/agencies/{agency_id}/camera-map")
    assert response.status_code == 200
    body = response.json()
    counts = {c["cell"]: c["count"] for c in body["cells"]}
    assert h3.latlng_to_cell(45.5236 + 0.0008, -122.6771, 8) == busy
    assert counts == {busy: 5}
    assert quiet not in counts
    assert body["k"] == 5
    text = response.text
    for lat, lon in positions:
        assert str(lat) not in text
        assert str(lon) not in text
    assert "many@example.org" not in text


def test_the_camera_map_is_for_the_agency_only(app: FastAPI, client: TestClient) -> None:
    _agency_client, _csrf, agency_id = verified_agency(app)
    other_client, _other_csrf, _other_id = verified_agency(
        app, name="Fire District 9", email="fire@fd9.example"
    )
    resident(client, "neighbour@example.org")
    assert client.get(f"/api/v1/agencies/{agency_id}/camera-map").status_code == 403
    assert other_client.get(f"/api/v1/agencies/{agency_id}/camera-map").status_code == 404
    anonymous = TestClient(app)
    assert anonymous.get(f"/api/v1/agencies/{agency_id}/camera-map").status_code == 401


@pytest.mark.usefixtures("client")
def test_no_live_view_route_exists_for_agencies(app: FastAPI) -> None:
    paths = list(app.openapi()["paths"])
    agency_paths = [p for p in paths if p.startswith(("/api/v1/agencies", "/api/v1/evidence"))]
    assert agency_paths
    assert not [p for p in agency_paths if "live" in p or "clips" in p or "cameras" in p]
