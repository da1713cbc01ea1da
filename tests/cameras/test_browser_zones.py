"""Drawing zones over the camera's snapshot in a real browser: what is drawn is what is saved."""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import av
import cv2
import httpx
import numpy as np
import pytest
from playwright.sync_api import Browser, Page, expect

from doorstep.agent.cli import main_agent
from doorstep.agent.state import AgentState, save_state
from doorstep.platform.types import utcnow
from tests.agent.conftest import write_footage
from tests.browser import SCREENSHOTS, LiveServer, TrackedPage
from tests.factories import PASSWORD
from tests.samples import SHARED_DATA, shared_data, tiny_clip

pytestmark = pytest.mark.browser

Point = tuple[float, float]


@dataclass
class Camera:
    """A signed-in owner's camera, paired: its id, the agent's token and the page's CSRF token."""

    id: str
    token: str
    csrf: str


def _owner_camera(server: LiveServer, page: Page) -> Camera:
    """Sign Ada up and in (in this page's browser context) with a paired camera, Front door."""
    api = page.request
    account = {"email": "ada@example.org", "password": PASSWORD, "display_name": "Ada"}
    assert api.post(server.url + "/api/v1/accounts", data=account).status == 201
    session = api.post(
        server.url + "/api/v1/session", data={"email": account["email"], "password": PASSWORD}
    )
    assert session.status == 201, session.text()
    csrf: str = session.json()["csrf_token"]
    headers = {"x-csrf-token": csrf}
    made = api.post(server.url + "/api/v1/cameras", data={"name": "Front door"}, headers=headers)
    assert made.status == 201, made.text()
    camera_id: str = made.json()["id"]
    code = api.post(server.url + f"/api/v1/cameras/{camera_id}/pairing-code", headers=headers)
    paired = httpx.post(server.url + "/api/v1/devices/pair", json={"code": code.json()["code"]})
    assert paired.status_code == 201, paired.text
    return Camera(camera_id, paired.json()["token"], csrf)


def _snapshot(width: int, height: int) -> bytes:
    """A street-like still: sky, a house front with a door, a path."""
    image = np.full((height, width, 3), (200, 170, 120), dtype=np.uint8)
    image[height // 2 :, :] = (70, 110, 80)
    image[height // 5 : height * 3 // 4, width // 4 : width * 3 // 4] = (60, 80, 160)
    image[height * 2 // 5 : height * 3 // 4, width * 9 // 20 : width * 11 // 20] = (40, 50, 70)
    ok, encoded = cv2.imencode(".jpg", image)
    assert ok
    return encoded.tobytes()


def _upload(server: LiveServer, camera: Camera, video: Path, snapshot: bytes) -> None:
    start = utcnow() - timedelta(minutes=1)
    meta = {
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(seconds=2)).isoformat(),
        "peak_motion": 0.3,
        "labels": ["person"],
    }
    response = httpx.post(
        server.url + "/api/v1/devices/clips",
        headers={"authorization": f"Bearer {camera.token}"},
        data={"meta": json.dumps(meta)},
        files={"video": ("c.mp4", video.read_bytes()), "snapshot": ("s.jpg", snapshot)},
        timeout=30,
    )
    assert response.status_code == 201, response.text


def _with_snapshot(server: LiveServer, page: Page, tmp_path: Path) -> Camera:
    """An owner's camera with one clip, its page open and its snapshot loaded."""
    camera = _owner_camera(server, page)
    video = tiny_clip(tmp_path / "clip.mp4", frames=12, width=320, height=180)
    _upload(server, camera, video, _snapshot(320, 180))
    page.goto(server.url + f"/cameras/{camera.id}")
    _snapshot_shown(page)
    return camera


def _snapshot_shown(page: Page) -> None:
    picture = page.get_by_test_id("zone-snapshot")
    expect(picture).to_be_visible()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=zone-snapshot]').naturalWidth > 0"
    )


def _saved(server: LiveServer, page: Page, camera: Camera) -> dict[str, Any]:
    response = page.request.get(server.url + f"/api/v1/cameras/{camera.id}")
    assert response.ok, response.text()
    saved: dict[str, Any] = response.json()
    return saved


def _fraction(value: float) -> float:
    """A fraction as the page keeps it: rounded to 4 decimals, as JavaScript's Math.round does."""
    return math.floor(value * 10000 + 0.5) / 10000


def _at(page: Page, fraction: Point) -> tuple[int, int, Point]:
    """The whole viewport pixel nearest ``fraction`` of the picture, and its fraction as drawn."""
    stage = page.get_by_test_id("zone-stage")
    stage.scroll_into_view_if_needed()
    box = stage.bounding_box()
    assert box is not None
    x = round(box["x"] + fraction[0] * box["width"])
    y = round(box["y"] + fraction[1] * box["height"])
    drawn = (_fraction((x - box["x"]) / box["width"]), _fraction((y - box["y"]) / box["height"]))
    return x, y, drawn


def _click(page: Page, fraction: Point) -> Point:
    x, y, drawn = _at(page, fraction)
    page.mouse.click(x, y)
    return drawn


def _draw(page: Page, kind: str, corners: list[Point]) -> list[list[float]]:
    """Draw one zone by clicking ``corners`` and then its first point again; what was drawn."""
    page.get_by_label("New zones are").select_option(kind)
    drawn = [list(_click(page, corner)) for corner in corners]
    _click(page, corners[0])
    expect(page.get_by_role("status").filter(has_text="finished")).to_be_visible()
    return drawn


def _save(page: Page) -> None:
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()


def _close(actual: list[list[list[float]]], expected: list[list[list[float]]]) -> None:
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected, strict=True):
        assert len(got) == len(want)
        for point, wanted in zip(got, want, strict=True):
            assert point == pytest.approx(wanted, abs=1e-4)


def test_clicks_on_the_snapshot_are_saved_as_fractions(
    live_server: LiveServer, tracked_page: TrackedPage, tmp_path: Path
) -> None:
    page = tracked_page.page
    camera = _with_snapshot(live_server, page, tmp_path)
    drawn = _draw(page, "motion", [(0.1, 0.2), (0.6, 0.15), (0.7, 0.8), (0.2, 0.9)])
    second = _draw(page, "motion", [(0.75, 0.1), (0.95, 0.1), (0.9, 0.4)])
    _save(page)
    saved = _saved(live_server, page, camera)
    _close(saved["motion_zones"], [drawn, second])
    assert saved["privacy_zones"] == []
    # The page shows what was saved, and the text field (what the form sends) says the same.
    expect(page.get_by_test_id("zone-list").get_by_role("button")).to_have_count(2)
    assert page.get_by_label("Motion zones").input_value().count("\n") == 1

    x, y, _ = _at(page, (drawn[2][0], drawn[2][1]))
    target = (0.55, 0.6)
    to_x, to_y, moved = _at(page, target)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move((x + to_x) / 2, (y + to_y) / 2)
    page.mouse.move(to_x, to_y, steps=4)
    page.mouse.up()
    _save(page)
    dragged = _saved(live_server, page, camera)["motion_zones"]
    _close(dragged, [[drawn[0], drawn[1], list(moved), drawn[3]], second])

    # A point clicked is the chosen one: "Remove point" removes it.
    _click(page, (drawn[1][0], drawn[1][1]))
    page.get_by_role("button", name="Remove point").click()
    _save(page)
    _close(
        _saved(live_server, page, camera)["motion_zones"],
        [[drawn[0], list(moved), drawn[3]], second],
    )

    assert tracked_page.foreign_requests(live_server.url) == []
    assert tracked_page.policy_violations() == []
    assert tracked_page.console_errors == []


def test_the_keyboard_draws_moves_and_deletes_points(
    live_server: LiveServer, tracked_page: TrackedPage, tmp_path: Path
) -> None:
    page = tracked_page.page
    camera = _with_snapshot(live_server, page, tmp_path)
    page.get_by_label("New zones are").select_option("privacy")
    page.get_by_role("button", name="New zone").focus()
    page.keyboard.press("Enter")
    add = page.get_by_role("button", name="Add point")
    add.focus()
    page.keyboard.press("Enter")  # (0.4, 0.4), focused
    page.keyboard.press("Shift+ArrowLeft")
    page.keyboard.press("Shift+ArrowLeft")
    add.focus()
    page.keyboard.press("Enter")  # (0.6, 0.4)
    page.keyboard.press("ArrowUp")
    add.focus()
    page.keyboard.press("Enter")  # (0.6, 0.6)
    add.focus()
    page.keyboard.press("Enter")  # halfway back to the first point: (0.45, 0.5)
    expect(page.get_by_role("button", name="Privacy zone 1, point 4 of 4")).to_be_focused()
    page.keyboard.press("Delete")
    page.keyboard.press("Enter")  # on a point: finish the zone
    _save(page)
    saved = _saved(live_server, page, camera)["privacy_zones"]
    _close(saved, [[[0.3, 0.4], [0.6, 0.39], [0.6, 0.6]]])

    # Tab from the tools reaches the first point; the arrow keys move it, and it saves.
    page.get_by_label("New zones are").focus()
    for _ in range(8):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('zone-point')"):
            break
    expect(page.get_by_role("button", name="Privacy zone 1, point 1 of 3")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    _save(page)
    _close(
        _saved(live_server, page, camera)["privacy_zones"],
        [[[0.31, 0.41], [0.6, 0.39], [0.6, 0.6]]],
    )

    # Typing in the text field (the fallback) redraws; what is typed is what is saved.
    page.get_by_label("Privacy zones").fill("0,0 0.2,0 0.2,0.25\n0.5,0.5 0.7,0.5 0.6,0.7")
    expect(page.get_by_test_id("zone-overlay").locator(".zone-privacy circle")).to_have_count(6)
    expect(page.get_by_test_id("zone-list").get_by_role("button")).to_have_count(2)
    _save(page)
    _close(
        _saved(live_server, page, camera)["privacy_zones"],
        [[[0, 0], [0.2, 0], [0.2, 0.25]], [[0.5, 0.5], [0.7, 0.5], [0.6, 0.7]]],
    )


def test_a_deleted_zone_is_saved_without_it_and_detection_zones_need_a_name(
    live_server: LiveServer, tracked_page: TrackedPage
) -> None:
    page = tracked_page.page
    camera = _owner_camera(live_server, page)
    kept = [[0.5, 0.5], [0.9, 0.5], [0.9, 0.9]]
    changed = page.request.patch(
        live_server.url + f"/api/v1/cameras/{camera.id}",
        data={"motion_zones": [[[0.1, 0.1], [0.3, 0.1], [0.3, 0.3]], kept]},
        headers={"x-csrf-token": camera.csrf},
    )
    assert changed.ok, changed.text()
    page.goto(live_server.url + f"/cameras/{camera.id}")
    # No clip yet: a blank frame, and the page says why.
    expect(page.get_by_test_id("zone-frame-note")).to_contain_text("No snapshot yet")
    expect(page.get_by_test_id("zone-snapshot")).to_have_count(0)

    page.get_by_test_id("zone-list").get_by_role("button", name="Motion zone 1").click()
    page.get_by_role("button", name="Delete zone").click()
    drawn = _draw(page, "detection", [(0.2, 0.5), (0.45, 0.5), (0.45, 0.95), (0.2, 0.95)])
    page.get_by_role("button", name="Save settings").click()
    expect(
        page.get_by_role("status").filter(has_text="Give this detection zone a name")
    ).to_be_visible()
    expect(page.get_by_label("Name of this detection zone")).to_be_focused()
    assert _saved(live_server, page, camera)["detection_zones"] == []
    page.get_by_label("Name of this detection zone").fill("Straße")
    _save(page)
    saved = _saved(live_server, page, camera)
    _close(saved["motion_zones"], [kept])
    assert [zone["name"] for zone in saved["detection_zones"]] == ["Straße"]
    _close([saved["detection_zones"][0]["polygon"]], [drawn])
    # Saved zones can be ticked in the rules at once.
    expect(page.get_by_role("checkbox", name="Straße").first).to_be_visible()
    # The server refuses two zones of one name (case folded, as "Straße" and "STRASSE" are one):
    # the page says so before sending, so the drawing is not lost to a refusal.
    _draw(page, "detection", [(0.6, 0.1), (0.8, 0.1), (0.8, 0.3)])
    page.get_by_label("Name of this detection zone").fill("STRASSE")
    page.get_by_role("button", name="Save settings").click()
    expect(
        page.get_by_role("status").filter(has_text="Two detection zones are named")
    ).to_be_visible()
    assert len(_saved(live_server, page, camera)["detection_zones"]) == 1
    assert tracked_page.console_errors == []


def _frames(video: bytes) -> list[np.ndarray[Any, Any]]:
    with av.open(io.BytesIO(video), mode="r") as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def test_a_privacy_zone_drawn_on_the_page_is_black_in_the_next_clip(
    live_server: LiveServer, tracked_page: TrackedPage, tmp_path: Path
) -> None:
    """The issue's "done when": drawn in the page, blacked out in what the agent records next."""
    page = tracked_page.page
    camera = _owner_camera(live_server, page)
    state_dir = tmp_path / "agent"
    save_state(state_dir, AgentState(live_server.url, camera.id, camera.token))
    footage = write_footage(tmp_path / "door.mp4", frames=80, moving=(30, 45))
    run = ["--state-dir", str(state_dir), "--source", str(footage), "--no-realtime", "--once"]
    assert main_agent(run) == 0
    before = _clips(live_server, page)
    assert len(before) == 1

    page.goto(live_server.url + f"/cameras/{camera.id}")
    _snapshot_shown(page)
    # The top left of the picture, away from the band where the square moves (rows 100..140).
    drawn = _draw(page, "privacy", [(0.05, 0.05), (0.45, 0.05), (0.45, 0.33), (0.05, 0.33)])
    _save(page)
    _close(_saved(live_server, page, camera)["privacy_zones"], [drawn])

    assert main_agent(run) == 0
    after = [clip for clip in _clips(live_server, page) if clip["id"] != before[0]["id"]]
    assert len(after) == 1
    width, height = 320, 240
    inside = (
        slice(math.ceil(drawn[0][1] * height) + 2, math.floor(drawn[2][1] * height) - 2),
        slice(math.ceil(drawn[0][0] * width) + 2, math.floor(drawn[1][0] * width) - 2),
    )
    outside = (slice(150, 235), slice(170, 315))
    for frame in _frames(_video(live_server, page, after[0])):
        assert frame[inside].max() <= 24
        assert frame[outside].mean() > 40
    # The same place was not black before the zone was drawn.
    for frame in _frames(_video(live_server, page, before[0])):
        assert frame[inside].mean() > 40
    still = page.request.get(live_server.url + after[0]["snapshot_url"]).body()
    image = cv2.imdecode(np.frombuffer(still, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    assert image[inside].max() <= 24
    assert image[outside].mean() > 40


def _clips(server: LiveServer, page: Page) -> list[dict[str, Any]]:
    response = page.request.get(server.url + "/api/v1/clips")
    assert response.ok, response.text()
    clips: list[dict[str, Any]] = response.json()["clips"]
    return clips


def _video(server: LiveServer, page: Page, clip: dict[str, Any]) -> bytes:
    return page.request.get(server.url + clip["video_url"]).body()


def _road_still(path: Path) -> bytes:
    """A frame from real street footage, as a doorbell across from a road would see it."""
    with av.open(str(shared_data(SHARED_DATA / "video" / "road.avi"))) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index == 5:
                image = frame.to_ndarray(format="bgr24")
                break
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    path.write_bytes(encoded.tobytes())
    return encoded.tobytes()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshot_of_zones_drawn_over_a_snapshot(
    live_server: LiveServer, browser: Browser, tmp_path: Path, scheme: str
) -> None:
    still = _road_still(tmp_path / "road.jpg")
    context = browser.new_context(
        viewport={"width": 1280, "height": 940},
        color_scheme=scheme,  # type: ignore[arg-type]
    )
    try:
        page = context.new_page()
        camera = _owner_camera(live_server, page)
        video = tiny_clip(tmp_path / "clip.mp4", frames=12, width=640, height=360)
        _upload(live_server, camera, video, still)
        page.goto(live_server.url + f"/cameras/{camera.id}")
        _snapshot_shown(page)
        # Far lanes are someone else's business; the near road and the pavement are ours.
        _draw(page, "privacy", [(0.55, 0.03), (0.97, 0.03), (0.97, 0.22), (0.55, 0.13)])
        _draw(page, "motion", [(0.02, 0.42), (0.98, 0.3), (0.98, 0.5), (0.4, 0.98), (0.02, 0.98)])
        _draw(page, "detection", [(0.45, 0.98), (0.98, 0.56), (0.98, 0.98)])
        page.get_by_label("Name of this detection zone").fill("pavement")
        _save(page)
        page.get_by_test_id("zone-list").get_by_role("button", name="pavement").click()
        page.get_by_role("button", name="Detection zone “pavement”, point 2 of 3").focus()
        assert page.get_by_test_id("zone-overlay").locator("circle").count() == 12
        page.evaluate(
            "window.scrollTo(0, document.getElementById('zone-editor').getBoundingClientRect()"
            ".top + window.scrollY - 16)"
        )
        # Light is the picture in the docs; dark is looked at, not kept.
        folder = SCREENSHOTS if scheme == "light" else SCREENSHOTS.parents[1] / "test-artifacts"
        folder.mkdir(exist_ok=True)
        page.screenshot(
            path=str(folder / f"camera-zones-drawn{'' if scheme == 'light' else '-dark'}.png")
        )
    finally:
        context.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_the_zone_fields_stay_in_their_boxes(
    live_server: LiveServer, browser: Browser, width: int
) -> None:
    """The kind menu stays inside the drawing panel, even on a phone.

    The detection zones' text box is under its label, not beside it.
    """
    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        camera = _owner_camera(live_server, page)
        page.goto(live_server.url + f"/cameras/{camera.id}")
        menu = page.locator("#zone-kind").bounding_box()
        panel = page.locator(".zone-editor").bounding_box()
        assert menu is not None
        assert panel is not None
        assert menu["x"] + menu["width"] <= panel["x"] + panel["width"] + 0.5
        label = page.locator('label[for="detection_zones"]').bounding_box()
        box = page.get_by_label("Detection zones").bounding_box()
        assert label is not None
        assert box is not None
        assert box["y"] >= label["y"] + label["height"] - 0.5
        assert abs(box["x"] - label["x"]) < 1
    finally:
        context.close()


def test_a_zone_whose_edges_cross_is_not_saved(
    live_server: LiveServer, tracked_page: TrackedPage
) -> None:
    """The page says a bow tie's edges cross before sending it; the server refuses it too."""
    page = tracked_page.page
    camera = _owner_camera(live_server, page)
    page.goto(live_server.url + f"/cameras/{camera.id}")
    _draw(page, "motion", [(0.1, 0.1), (0.6, 0.5), (0.6, 0.1), (0.1, 0.3)])
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status").filter(has_text="edges cross; move a point")).to_be_visible()
    assert _saved(live_server, page, camera)["motion_zones"] == []
    refused = page.request.patch(
        live_server.url + f"/api/v1/cameras/{camera.id}",
        data={"motion_zones": [[[0.1, 0.1], [0.6, 0.5], [0.6, 0.1], [0.1, 0.3]]]},
        headers={"x-csrf-token": camera.csrf},
    )
    assert refused.status == 422
    assert "edges cross" in refused.text()
    assert tracked_page.console_errors == []
