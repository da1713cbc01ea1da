"""A bystander request drawn on the street map by someone with no account: refused, then sent."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from doorstep.platform.types import utcnow
from tests.browser import LiveServer, TrackedPage
from tests.streets import lay_streets

pytestmark = pytest.mark.browser

#: Where the drawing happens: the demo's streets; 1 px is ~3.35 m at this zoom.
VIEW = {"lat": 45.5231, "lon": -122.6765, "zoom": 15}


def _point(page: Page, lat: float, lon: float) -> dict[str, float]:
    found = page.evaluate(
        "([lat, lon]) => DoorstepMap.registry['bystander-map'].latLngToContainerPoint([lat, lon])",
        [lat, lon],
    )
    return {"x": float(found["x"]), "y": float(found["y"])}


def _click(page: Page, x: float, y: float) -> None:
    page.locator("#bystander-map").click(position={"x": x, "y": y})


def test_a_stranger_draws_where_they_were_and_gets_a_link_with_counts_only(
    live_server: LiveServer, tracked_page: TrackedPage
) -> None:
    lay_streets(live_server.settings)
    page = tracked_page.page
    page.goto(live_server.url + "/bystanders")
    drawing = page.get_by_test_id("bystander-map")
    expect(drawing).to_be_visible()
    drawing.scroll_into_view_if_needed()
    page.evaluate(
        "v => DoorstepMap.registry['bystander-map'].setView([v.lat, v.lon], v.zoom, "
        "{animate: false})",
        VIEW,
    )
    now = utcnow()
    page.get_by_label(re.compile("I was there from")).fill(
        (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    )
    page.get_by_label(re.compile("^until")).fill(
        (now - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M")
    )
    page.get_by_label(re.compile("How owners may recognise you")).fill("Red coat, grey dog")

    # A circle of 260 px (about 870 m) is over 0.5 sq mi: the page says so and sends nothing.
    centre = _point(page, VIEW["lat"], VIEW["lon"])
    page.get_by_role("button", name="Draw Circle").click()
    _click(page, centre["x"], centre["y"])
    _click(page, centre["x"] + 260, centre["y"])
    meter = page.get_by_test_id("area-meter")
    expect(meter).to_have_attribute("data-area-ok", "no")
    expect(meter).to_contain_text("too large")
    page.get_by_role("button", name="Send request").click()
    assert page.url == live_server.url + "/bystanders"

    # A small circle (60 px, about 200 m) replaces it and is sent.
    page.get_by_role("button", name="Draw Circle").click()
    _click(page, centre["x"], centre["y"])
    _click(page, centre["x"] + 60, centre["y"])
    expect(meter).to_have_attribute("data-area-ok", "yes")
    page.get_by_role("button", name="Send request").click()
    link = page.get_by_test_id("status-link")
    expect(link).to_be_visible()
    status_url = link.get_attribute("href")
    assert status_url is not None
    assert re.fullmatch(r"/bystanders/status/[A-Za-z0-9_-]{32}", status_url)
    page.goto(live_server.url + status_url)
    expect(page.get_by_test_id("count-asked")).to_have_text("fewer than 5")
    with httpx.Client(base_url=live_server.url, timeout=30) as anonymous:
        token = status_url.rsplit("/", 1)[1]
        shown = anonymous.get(f"/api/v1/bystander-requests/status/{token}").json()
    assert shown["area_sq_mi"] < 0.5
    assert tracked_page.foreign_requests(live_server.url) == []
    assert tracked_page.policy_violations() == []
