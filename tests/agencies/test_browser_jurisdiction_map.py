"""A jurisdiction drawn on the street map, or read from a file, in a browser."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.agencies.test_api import JURISDICTION
from tests.browser import LiveServer, TrackedPage
from tests.factories import PASSWORD
from tests.requests.test_browser_rfa_map import log_in

pytestmark = pytest.mark.browser


def _resident(server: LiveServer, email: str) -> None:
    body = {"email": email, "password": PASSWORD, "display_name": "Chief"}
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert client.post("/api/v1/accounts", json=body).status_code == 201


def test_a_jurisdiction_drawn_on_the_map_is_the_one_applied_for(
    live_server: LiveServer, tracked_page: TrackedPage
) -> None:
    _resident(live_server, "chief@ppb.example")
    page = tracked_page.page
    log_in(page, live_server, "chief@ppb.example")
    page.goto(live_server.url + "/agencies/apply")
    drawing = page.get_by_test_id("jurisdiction-map")
    expect(drawing).to_be_visible()
    drawing.scroll_into_view_if_needed()
    page.evaluate(
        "() => DoorstepMap.registry['jurisdiction-map']"
        ".setView([45.53, -122.66], 12, {animate: false})"
    )
    page.get_by_role("button", name="Draw Rectangle").click()
    drawing.click(position={"x": 100, "y": 80})
    drawing.click(position={"x": 400, "y": 300})
    expect(page.get_by_test_id("jurisdiction-status")).to_contain_text("1 area drawn")
    text = page.get_by_label("…or the outline as GeoJSON text").input_value()
    drawn = json.loads(text)
    assert drawn["type"] == "Polygon"
    assert len(drawn["coordinates"][0]) == 5
    page.get_by_label("Agency name").fill("Portland Police Bureau")
    page.get_by_label("Public contact").fill("records@ppb.example")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_test_id("application-status")).to_contain_text("application")
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        session = client.post(
            "/api/v1/session", json={"email": "chief@ppb.example", "password": PASSWORD}
        )
        assert session.status_code == 201
        assert client.get("/api/v1/agencies/mine").json()["jurisdiction"] == drawn
    assert tracked_page.foreign_requests(live_server.url) == []


def test_a_geojson_file_chosen_is_drawn_for_checking(
    live_server: LiveServer, tracked_page: TrackedPage, tmp_path: Path
) -> None:
    _resident(live_server, "chief@ppb.example")
    page = tracked_page.page
    log_in(page, live_server, "chief@ppb.example")
    page.goto(live_server.url + "/agencies/apply")
    file = tmp_path / "portland.geojson"
    feature = {"type": "Feature", "properties": {}, "geometry": JURISDICTION}
    file.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    page.get_by_label("GeoJSON file").set_input_files(str(file))
    expect(page.get_by_test_id("jurisdiction-status")).to_contain_text("Read portland.geojson")
    expect(page.locator("#jurisdiction-map path.map-drawn")).to_have_count(1)
    shown = page.get_by_label("…or the outline as GeoJSON text").input_value()
    assert json.loads(shown) == JURISDICTION
    assert tracked_page.policy_violations() == []
