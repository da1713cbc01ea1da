"""Camera and clip pages over plain HTTP: forms, errors kept in the form, filters."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.factories import resident


def _csrf(client: TestClient, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match is not None
    return match.group(1)


def _add(client: TestClient, **fields: str) -> str:
    form = {"csrf_token": _csrf(client, "/cameras"), "name": "Porch", **fields}
    response = client.post("/cameras", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    location: str = response.headers["location"]
    return location.split("?")[0]


def test_pages_need_a_login(client: TestClient) -> None:
    for path in ("/cameras", "/clips"):
        response = client.get(path, follow_redirects=False)
        assert response.headers["location"] == f"/login?next={path}"


def test_add_a_camera_and_make_a_pairing_code(client: TestClient) -> None:
    resident(client, home={"lat": 45.5, "lon": -122.6})
    page = _add(client, requests_opt_in="on")
    shown = client.get(page)
    assert "offline" in shown.text
    code = client.post(page + "/pairing-code", data={"csrf_token": _csrf(client, page)})
    match = re.search(r'data-testid="pairing-code">([A-Z0-9-]+)<', code.text)
    assert match is not None
    paired = client.post("/api/v1/devices/pair", json={"code": match.group(1)})
    assert paired.status_code == 201
    assert client.get("/api/v1/cameras").json()[0]["requests_opt_in"] is True


def test_a_bad_position_is_a_form_error(client: TestClient) -> None:
    resident(client)
    response = client.post(
        "/cameras",
        data={"csrf_token": _csrf(client, "/cameras"), "name": "Porch", "position": "100, 0"},
    )
    assert response.status_code == 422
    assert "between -90 and 90" in response.text
    assert client.get("/api/v1/cameras").json() == []


def test_bad_zones_keep_the_old_settings(client: TestClient) -> None:
    resident(client)
    page = _add(client)
    form = {
        "csrf_token": _csrf(client, page),
        "name": "Renamed",
        "privacy_zones": "0,0 2,0 1,1",
        "retention_days": "7",
    }
    response = client.post(page + "/settings", data=form)
    assert response.status_code == 422
    assert "fractions of the frame" in response.text
    assert 'name="name" required maxlength="80" value="Renamed"' in response.text
    assert "0,0 2,0 1,1</textarea>" in response.text
    assert '<option value="7" selected>' in response.text
    camera = client.get("/api/v1/cameras").json()[0]
    assert camera["name"] == "Porch"
    assert camera["retention_days"] == 30


def test_settings_are_saved(client: TestClient) -> None:
    resident(client)
    page = _add(client)
    form = {
        "csrf_token": _csrf(client, page),
        "name": "Porch",
        "privacy_zones": "0,0 0.3,0 0.3,1 0,1",
        "motion_zones": "",
        "audio_enabled": "on",
        "alert_mode": "objects",
        "quiet_start": "22:00",
        "quiet_end": "06:00",
        "retention_days": "90",
    }
    saved = client.post(page + "/settings", data=form, follow_redirects=False)
    assert saved.status_code == 303
    assert saved.headers["location"] == page + "?saved=1"
    assert 'role="status">Settings saved.' in client.get(saved.headers["location"]).text
    assert "Settings saved." not in client.get(page).text
    camera = client.get("/api/v1/cameras").json()[0]
    assert camera["privacy_zones"] == [[[0, 0], [0.3, 0], [0.3, 1], [0, 1]]]
    assert camera["audio_enabled"] is True
    assert camera["alert_mode"] == "objects"
    assert camera["retention_days"] == 90
    assert camera["requests_opt_in"] is False


def test_the_settings_address_reloaded_is_the_camera_page(client: TestClient) -> None:
    resident(client)
    page = _add(client)
    response = client.get(page + "/settings", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == page


def test_quiet_hours_are_read_in_the_browser_s_time_zone(client: TestClient) -> None:
    resident(client)
    page = _add(client)
    assert "Quiet hours, in UTC" in client.get(page).text
    form = {
        "csrf_token": _csrf(client, page),
        "name": "Porch",
        "quiet_start": "22:00",
        "quiet_end": "07:00",
        "time_zone": "America/Los_Angeles",
    }
    client.post(page + "/settings", data=form)
    shown = client.get(page).text
    assert "Quiet hours, in America/Los_Angeles" in shown
    assert 'name="time_zone" value="America/Los_Angeles"' in shown
    bad = client.post(page + "/settings", data={**form, "time_zone": "Mars/Olympus"})
    assert bad.status_code == 422
    assert "Mars/Olympus" in bad.text
    assert client.get("/api/v1/cameras").json()[0]["time_zone"] == "America/Los_Angeles"


def test_clip_filters_reject_bad_dates(client: TestClient) -> None:
    resident(client)
    assert "No clips" in client.get("/clips").text
    bad = client.get("/clips?day=yesterday")
    assert bad.status_code == 422
    assert "2026-11-23" in bad.text
