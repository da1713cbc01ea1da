"""The agency's camera map over streets, in a browser: the same k-anonymous cells as the SVG."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser import SCREENSHOTS, LiveServer, TrackedPage
from tests.factories import PASSWORD
from tests.requests.test_browser_rfa_map import HOME, log_in, verified_agency
from tests.streets import lay_streets, wait_for_streets

pytestmark = pytest.mark.browser


def _street_of_cameras(server: LiveServer, opened: list[httpx.Client]) -> None:
    """Eighteen opted-in cameras in three cells (six each), and one alone in a fourth."""
    client = httpx.Client(base_url=server.url, timeout=30)
    opened.append(client)
    body = {"email": "street@example.org", "password": PASSWORD, "display_name": "Street"}
    assert client.post("/api/v1/accounts", json={**body, "home": HOME}).status_code == 201
    session = client.post("/api/v1/session", json={"email": body["email"], "password": PASSWORD})
    client.headers["x-csrf-token"] = session.json()["csrf_token"]
    positions = [
        (45.516 + (index % 3) * 0.007, -122.676 + (index // 3) * 0.0003) for index in range(18)
    ]
    positions.append((45.505, -122.700))
    for index, (lat, lon) in enumerate(positions):
        made = client.post(
            "/api/v1/cameras",
            json={
                "name": f"Cam {index}",
                "position": {"lat": lat, "lon": lon},
                "requests_opt_in": True,
            },
        )
        assert made.status_code == 201, made.text


def test_the_camera_map_shows_the_same_cells_over_streets(
    live_server: LiveServer, tracked_page: TrackedPage, api_clients: list[httpx.Client]
) -> None:
    lay_streets(live_server.settings)
    verified_agency(live_server, api_clients)
    _street_of_cameras(live_server, api_clients)
    page = tracked_page.page
    log_in(page, live_server, "chief@ppb.example")
    page.goto(live_server.url + "/agency")
    street_map = page.locator("#camera-street-map")
    expect(street_map).to_be_visible()
    expect(page.locator("#camera-map-svg")).to_be_hidden()
    expect(page.get_by_test_id("map-cells")).to_have_text("3 area(s) shown.")
    # The lone camera's cell is under k: neither map has it.
    expect(street_map.locator("path.map-cell")).to_have_count(3)
    expect(page.locator("#camera-map-svg polygon[data-count]")).to_have_count(3)
    street_map.locator("path.map-cell").first.hover()
    expect(page.locator(".leaflet-tooltip")).to_have_text("6 cameras")
    wait_for_streets(page, "camera-street-map")
    page.locator("section[aria-labelledby=map-title]").screenshot(
        path=str(SCREENSHOTS / "agency-camera-map.png")
    )
    assert tracked_page.foreign_requests(live_server.url) == []
    assert tracked_page.policy_violations() == []
