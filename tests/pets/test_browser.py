"""A lost-pet notice drawn on the map, in a browser; a neighbour shares one animal clip by click."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from doorstep.platform.types import utcnow
from tests.browser import LiveServer, TrackedPage
from tests.factories import PASSWORD
from tests.requests.test_browser_rfa_map import log_in
from tests.samples import tiny_clip, tiny_jpeg
from tests.streets import lay_streets

pytestmark = pytest.mark.browser

HOME = {"lat": 45.5236, "lon": -122.6771}
#: Where the drawing happens: the demo's streets; 1 px is ~3.35 m at this zoom.
VIEW = {"lat": 45.5236, "lon": -122.6771, "zoom": 15}


def _account(server: LiveServer, email: str, opened: list[httpx.Client]) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=30)
    opened.append(client)
    body = {"email": email, "password": PASSWORD, "display_name": email.split("@")[0].title()}
    created = client.post("/api/v1/accounts", json={**body, "home": HOME})
    assert created.status_code == 201, created.text
    session = client.post("/api/v1/session", json={"email": email, "password": PASSWORD})
    assert session.status_code == 201, session.text
    client.headers["x-csrf-token"] = session.json()["csrf_token"]
    return client


def _camera_with_clips(owner: httpx.Client, folder: Path, labels: list[list[str]]) -> None:
    camera = owner.post("/api/v1/cameras", json={"name": "Porch"})
    assert camera.status_code == 201, camera.text
    code = owner.post(f"/api/v1/cameras/{camera.json()['id']}/pairing-code").json()["code"]
    paired = owner.post("/api/v1/devices/pair", json={"code": code, "agent_version": "t"})
    assert paired.status_code == 201, paired.text
    token = paired.json()["token"]
    for n, kept in enumerate(labels):
        # As wide as a real camera's clip, so a phone must shrink the player to fit.
        clip = tiny_clip(folder / f"clip{n}.mp4", frames=12 + n, width=640, height=360)
        video = clip.read_bytes()
        start = utcnow() - timedelta(minutes=30 - n)
        meta = {
            "started_at": start.isoformat(),
            "ended_at": (start + timedelta(seconds=2)).isoformat(),
            "peak_motion": 0.2,
            "labels": kept,
        }
        uploaded = owner.post(
            "/api/v1/devices/clips",
            headers={"authorization": f"Bearer {token}"},
            data={"meta": json.dumps(meta)},
            files={
                "video": ("clip.mp4", video, "video/mp4"),
                "snapshot": ("snap.jpg", tiny_jpeg(), "image/jpeg"),
            },
        )
        assert uploaded.status_code == 201, uploaded.text


def _draw_circle(page: Page) -> None:
    page.evaluate(
        "v => DoorstepMap.registry['pet-map'].setView([v.lat, v.lon], v.zoom, {animate: false})",
        VIEW,
    )
    found = page.evaluate(
        "([lat, lon]) => DoorstepMap.registry['pet-map'].latLngToContainerPoint([lat, lon])",
        [VIEW["lat"], VIEW["lon"]],
    )
    x, y = float(found["x"]), float(found["y"])
    page.get_by_role("button", name="Draw Circle").click()
    page.locator("#pet-map").click(position={"x": x, "y": y})
    # 90 px is about 300 m: well under half a square mile.
    page.locator("#pet-map").click(position={"x": x + 90, "y": y})


def test_a_notice_drawn_on_the_map_gets_only_the_clip_a_neighbour_shares(
    live_server: LiveServer,
    tracked_page: TrackedPage,
    api_clients: list[httpx.Client],
    tmp_path: Path,
) -> None:
    lay_streets(live_server.settings)
    poster = _account(live_server, "pat@example.org", api_clients)
    owner = _account(live_server, "ann@example.org", api_clients)
    _camera_with_clips(owner, tmp_path, [["animal"], ["person"]])
    photo = tmp_path / "biscuit.jpg"
    photo.write_bytes(tiny_jpeg())

    page = tracked_page.page
    log_in(page, live_server, "pat@example.org")
    page.goto(live_server.url + "/pets")
    drawing = page.get_by_test_id("pet-map")
    expect(drawing).to_be_visible()
    drawing.scroll_into_view_if_needed()
    _draw_circle(page)
    expect(page.get_by_test_id("area-meter")).to_have_attribute("data-area-ok", "yes")
    assert page.get_by_label("Radius in metres").input_value()
    now = utcnow()
    page.get_by_label("Species").select_option("dog")
    page.get_by_label("Name (optional)").fill("Biscuit")
    page.get_by_label("Description").fill("Small brown terrier with a red collar.")
    page.get_by_label(re.compile("^Photo")).set_input_files(str(photo))
    page.get_by_label("Last seen from (UTC)").fill(
        (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    )
    page.get_by_label("Until (UTC)").fill((now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Post notice").click()
    expect(page).to_have_url(re.compile(r"/pets/[0-9a-f]+$"))
    notice_id = page.url.rsplit("/", 1)[1]
    expect(page.get_by_test_id("no-shares")).to_be_visible()
    expect(page.get_by_role("img", name="Photo of the lost dog")).to_be_visible()

    # The neighbour sees their one animal clip (not the one with a person) and shares it.
    page.context.clear_cookies()
    log_in(page, live_server, "ann@example.org")
    page.goto(live_server.url + "/pets")
    page.get_by_test_id("near-notices").get_by_role("link").click()
    clips = page.get_by_test_id("animal-clips").get_by_role("listitem")
    expect(clips).to_have_count(1)
    assert poster.get(f"/api/v1/pets/{notice_id}").json()["shares"] == []
    page.get_by_role("button", name="Share this clip").click()
    expect(page.get_by_test_id("my-shares")).to_contain_text("shared")

    # The poster sees that clip, playable, and nothing else.
    page.context.clear_cookies()
    log_in(page, live_server, "pat@example.org")
    page.goto(live_server.url + f"/pets/{notice_id}")
    shared = page.get_by_test_id("shared-clips").locator("video")
    expect(shared).to_have_count(1)
    video = poster.get(str(shared.get_attribute("src")))
    assert video.status_code == 200
    assert video.content[4:8] == b"ftyp"
    # On a phone the shared clip fits the screen: the page never scrolls sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + f"/pets/{notice_id}")
    shared = page.get_by_test_id("shared-clips").locator("video")
    # Its size is known once its metadata loads (the page asks for none before a click).
    shared.evaluate(
        "v => new Promise(done => { v.preload = 'metadata'; v.onloadedmetadata = done; })"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.goto(live_server.url + "/pets")
    expect(page.get_by_text("open, 1 clip shared")).to_be_visible()
