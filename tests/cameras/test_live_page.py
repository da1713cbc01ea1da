"""The live page opens for the owner and for household members the owner allowed, nobody else."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.cameras.test_api_household_audit import clip_bytes, shared
from tests.factories import resident

__all__ = ["clip_bytes", "shared"]


def test_the_owner_answers_a_ring_on_the_live_page(
    shared: tuple[TestClient, dict[str, str]], client: TestClient
) -> None:
    _, ids = shared
    page = client.get(f"/cameras/{ids['camera']}/live?ring=r1")
    assert page.status_code == 200
    assert f'data-camera="{ids["camera"]}"' in page.text
    assert 'data-ring="r1"' in page.text
    assert '<script src="/static/js/live.js" defer></script>' in page.text
    # Only this page may ask for the microphone (Talk); every other page still may not.
    assert "microphone=(self)" in page.headers["permissions-policy"]
    assert "microphone=()" in client.get("/cameras").headers["permissions-policy"]
    # The owner keeps the simple MJPEG picture as a fallback.
    assert f"/cameras/{ids['camera']}/live?mjpeg=1" in page.text
    simple = client.get(f"/cameras/{ids['camera']}/live?mjpeg=1")
    assert f'src="/api/v1/cameras/{ids["camera"]}/live"' in simple.text
    assert "live.js" not in simple.text


def test_a_household_member_needs_the_owners_permission(
    shared: tuple[TestClient, dict[str, str]], client: TestClient
) -> None:
    bob, ids = shared
    path = f"/cameras/{ids['camera']}/live"
    refused = bob.get(path)
    assert refused.status_code == 403
    assert "not allowed you live view" in refused.text
    allowed = client.patch(
        f"/api/v1/cameras/{ids['camera']}/household/{ids['bob']}",
        json={"live_view": True},
        headers={"x-csrf-token": ids["csrf"]},
    )
    assert allowed.status_code == 200, allowed.text
    page = bob.get(path + "?mjpeg=1")
    assert page.status_code == 200
    # The MJPEG picture and the camera's settings stay the owner's.
    assert "live.js" in page.text
    assert "?mjpeg=1" not in page.text
    assert f'href="/cameras/{ids["camera"]}"' not in page.text


def test_anyone_else_finds_no_camera(
    app: FastAPI, shared: tuple[TestClient, dict[str, str]]
) -> None:
    _, ids = shared
    with TestClient(app) as carol:
        resident(carol, "carol@example.org", display_name="Carol")
        assert carol.get(f"/cameras/{ids['camera']}/live").status_code == 404
        assert carol.get("/cameras/nosuchcamera/live").status_code == 404


def test_the_owner_allows_live_view_on_the_camera_page(
    shared: tuple[TestClient, dict[str, str]], client: TestClient
) -> None:
    bob, ids = shared
    camera_page = client.get(f"/cameras/{ids['camera']}")
    assert "Bob (bob@example.org) may see it live and answer its rings" in camera_page.text
    form = f"/cameras/{ids['camera']}/household/{ids['bob']}/live-view"
    assert f'action="{form}"' in camera_page.text
    allowed = client.post(form, data={"csrf_token": ids["csrf"], "live_view": "on"})
    assert allowed.status_code == 200
    assert "Bob can now see Front door live and answer its rings." in allowed.text
    assert bob.get(f"/cameras/{ids['camera']}/live").status_code == 200
    # Bob cannot hand himself (or anyone) the permission.
    assert bob.post(form, data={"csrf_token": ids["bob_csrf"]}).status_code == 404
    stopped = client.post(form, data={"csrf_token": ids["csrf"]})
    assert "Bob can no longer see Front door live." in stopped.text
    assert bob.get(f"/cameras/{ids['camera']}/live").status_code == 403
