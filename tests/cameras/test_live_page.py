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
