"""What the schemathesis run found, pinned down so it stays fixed whatever the fuzzer draws."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import resident
from tests.hostile.conftest import World


def test_nul_characters_in_a_body_are_refused_not_stored(client: TestClient) -> None:
    csrf = resident(client)
    headers = {"x-csrf-token": csrf}
    response = client.post("/api/v1/cameras", json={"name": "Porch\x00"}, headers=headers)
    assert response.status_code == 422
    assert "NUL" in response.json()["detail"]
    nested = client.patch("/api/v1/me", json={"display_name": "A\x00"}, headers=headers)
    assert nested.status_code == 422


def test_nul_characters_in_the_address_are_refused(client: TestClient) -> None:
    resident(client)
    for url in ("/api/v1/clips?camera_id=%00", "/api/v1/cameras/ab%00cd"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert response.headers["content-type"] == "application/problem+json"


def test_audit_positions_beyond_the_database_integer_are_refused(client: TestClient) -> None:
    assert client.get("/api/v1/audit/entries", params={"start": 2**40}).status_code == 422
    assert client.get("/api/v1/audit/entries", params={"end": 2**40}).status_code == 422
    near_the_top = client.get("/api/v1/audit/entries", params={"start": 2**31 - 2})
    assert near_the_top.status_code == 200
    assert near_the_top.json() == []


def test_a_null_camera_setting_leaves_it_as_it_is(client: TestClient) -> None:
    csrf = resident(client)
    headers = {"x-csrf-token": csrf}
    camera = client.post("/api/v1/cameras", json={"name": "Porch"}, headers=headers).json()
    url = f"/api/v1/cameras/{camera['id']}"
    set_quiet = {"quiet_start": "22:00", "quiet_end": "06:00"}
    assert client.patch(url, json=set_quiet, headers=headers).status_code == 200
    body: dict[str, Any] = {"name": None, "audio_enabled": None, "quiet_start": None}
    response = client.patch(url, json=body, headers=headers)
    assert response.status_code == 200, response.text
    after = response.json()
    assert after["name"] == "Porch"
    assert after["audio_enabled"] == camera["audio_enabled"]
    # Quiet hours are the settings null clears.
    assert after["quiet_start"] is None
    assert after["quiet_end"] == "06:00"


def test_disclosing_under_a_pending_emergency_is_refused(world: World) -> None:
    url = f"/api/v1/emergencies/{world.ids['request_id']}/disclose"
    response = world.send("reviewer", "POST", url, json={})
    assert response.status_code == 422, response.text
    assert response.json()["reason"] == "emergency_not_approved"


def test_every_documented_error_is_problem_json(app: FastAPI) -> None:
    schema = app.openapi()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            errors = {code: r for code, r in operation["responses"].items() if int(code) >= 400}
            assert {"400", "413"} <= set(errors), (method, path)
            for response in errors.values():
                content = response["content"]
                assert list(content) == ["application/problem+json"], (method, path)
                assert content["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"
                }
