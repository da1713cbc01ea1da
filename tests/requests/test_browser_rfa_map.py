"""A Request for Assistance drawn on the street map, in a browser: measured, refused, or sent."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from doorstep.accounts.roles import Role
from doorstep.accounts.store import create_user
from doorstep.platform.types import utcnow
from tests.browser import SCREENSHOTS, LiveServer, TrackedPage
from tests.factories import PASSWORD
from tests.streets import lay_streets, wait_for_streets

pytestmark = pytest.mark.browser

JURISDICTION = {
    "type": "Polygon",
    "coordinates": [
        [[-122.72, 45.49], [-122.60, 45.49], [-122.60, 45.57], [-122.72, 45.57], [-122.72, 45.49]]
    ],
}
HOME = {"lat": 45.52417, "lon": -122.67583}
#: Where the drawing happens: the demo's streets, inside the jurisdiction; 1 px is ~3.35 m.
VIEW = {"lat": 45.5231, "lon": -122.6765, "zoom": 15}


def _client(server: LiveServer, email: str, opened: list[httpx.Client]) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=30)
    opened.append(client)
    session = client.post("/api/v1/session", json={"email": email, "password": PASSWORD})
    assert session.status_code == 201, session.text
    client.headers["x-csrf-token"] = session.json()["csrf_token"]
    return client


def verified_agency(server: LiveServer, opened: list[httpx.Client]) -> httpx.Client:
    """A verified agency whose admin is chief@ppb.example: the chief's API client."""
    body = {"email": "chief@ppb.example", "password": PASSWORD, "display_name": "Chief"}
    with httpx.Client(base_url=server.url, timeout=30) as anonymous:
        created = anonymous.post("/api/v1/accounts", json={**body, "home": HOME})
        assert created.status_code == 201, created.text
    chief = _client(server, "chief@ppb.example", opened)
    applied = chief.post(
        "/api/v1/agencies",
        json={
            "name": "Portland Police Bureau",
            "kind": "law_enforcement",
            "jurisdiction": JURISDICTION,
            "contact": "records@ppb.example",
        },
    )
    assert applied.status_code == 201, applied.text
    with server.state.db.session() as db:
        create_user(
            db,
            email="admin@doorstep.example",
            password=PASSWORD,
            display_name="Admin",
            home=None,
            cell_resolution=server.settings.public_cell_resolution,
            role=Role.ADMIN,
        )
    admin = _client(server, "admin@doorstep.example", opened)
    verified = admin.post(f"/api/v1/agencies/{applied.json()['id']}/verify")
    assert verified.status_code == 200, verified.text
    return chief


def log_in(page: Page, server: LiveServer, email: str) -> None:
    """Log in through the form."""
    page.goto(server.url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"^(?!.*/login)"))


def _point(page: Page, lat: float, lon: float) -> dict[str, float]:
    """Where (lat, lon) is inside the drawing map, in pixels from its top left."""
    found = page.evaluate(
        "([lat, lon]) => DoorstepMap.registry['rfa-map'].latLngToContainerPoint([lat, lon])",
        [lat, lon],
    )
    return {"x": float(found["x"]), "y": float(found["y"])}


def _click(page: Page, x: float, y: float) -> None:
    page.locator("#rfa-map").click(position={"x": x, "y": y})


def _fill_case(page: Page) -> None:
    now = utcnow()
    page.get_by_label("Case number").fill("PPB-2026-0107")
    page.get_by_label("Incident type").fill("Burglary")
    page.locator("#offence_category").select_option("burglary")
    page.get_by_label("Description").fill("A garage was forced overnight; anyone see a van?")
    start = (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("Footage from (UTC)").fill(start)
    page.get_by_label("Footage until (UTC)").fill(
        (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    )


def test_a_drawn_circle_too_large_is_refused_and_a_drawn_polygon_is_sent(
    live_server: LiveServer, tracked_page: TrackedPage, api_clients: list[httpx.Client]
) -> None:
    lay_streets(live_server.settings)
    chief = verified_agency(live_server, api_clients)
    page = tracked_page.page
    log_in(page, live_server, "chief@ppb.example")
    page.goto(live_server.url + "/agency")
    drawing = page.get_by_test_id("rfa-map")
    expect(drawing).to_be_visible()
    expect(page.locator("#camera-street-map")).to_be_visible()
    drawing.scroll_into_view_if_needed()
    page.evaluate(
        "v => DoorstepMap.registry['rfa-map'].setView([v.lat, v.lon], v.zoom, {animate: false})",
        VIEW,
    )
    _fill_case(page)

    # A circle of 260 px (about 870 m) is over 0.5 sq mi: the page says so and will not send it.
    centre = _point(page, VIEW["lat"], VIEW["lon"])
    page.get_by_role("button", name="Draw Circle").click()
    _click(page, centre["x"], centre["y"])
    _click(page, centre["x"] + 260, centre["y"])
    meter = page.get_by_test_id("area-meter")
    expect(meter).to_have_attribute("data-area-ok", "no")
    expect(meter).to_contain_text("too large")
    centre_text = page.get_by_label("Centre (latitude, longitude)").input_value()
    radius_text = page.get_by_label("Radius in metres").input_value()
    assert float(radius_text) > 600
    page.get_by_role("button", name="Send request").click()
    expect(meter).to_have_attribute("role", "alert")
    assert page.url == live_server.url + "/agency"
    assert chief.get("/api/v1/requests").json() == []

    # The API refuses the very same circle.
    lat, lon = (float(part) for part in centre_text.split(","))
    now = utcnow()
    refused = chief.post(
        "/api/v1/requests",
        json={
            "case_number": "PPB-2026-0107",
            "incident_type": "Burglary",
            "offence_category": "burglary",
            "description": "A garage was forced overnight; anyone see a van?",
            "centre": {"lat": lat, "lon": lon},
            "radius_m": float(radius_text),
            "window_start": (now - timedelta(hours=2)).isoformat(),
            "window_end": (now - timedelta(minutes=1)).isoformat(),
        },
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["reason"] == "area_too_large"

    # A polygon of the right size across the jurisdiction's southern edge is refused in the page.
    corners = [(-80, -80), (80, -80), (95, 65), (-65, 80)]
    page.evaluate(
        "v => DoorstepMap.registry['rfa-map'].setView([45.49, v.lon], v.zoom, {animate: false})",
        VIEW,
    )
    page.get_by_role("button", name="Draw Polygon").click()
    for dx, dy in [*corners, corners[0]]:
        _click(page, centre["x"] + dx, centre["y"] + dy)
    expect(meter).to_contain_text("outside your jurisdiction")
    expect(meter).to_have_attribute("data-area-ok", "no")
    page.evaluate(
        "v => DoorstepMap.registry['rfa-map'].setView([v.lat, v.lon], v.zoom, {animate: false})",
        VIEW,
    )

    # The same polygon inside (about 160 px, 540 m, a side: ~0.11 sq mi) replaces it and is allowed.
    page.get_by_role("button", name="Draw Polygon").click()
    for dx, dy in corners:
        _click(page, centre["x"] + dx, centre["y"] + dy)
    _click(page, centre["x"] + corners[0][0], centre["y"] + corners[0][1])
    expect(meter).to_have_attribute("data-area-ok", "yes")
    expect(page.get_by_label("Centre (latitude, longitude)")).to_have_value("")
    shown = float(re.search(r"Area: ([0-9.]+) sq mi", meter.inner_text()).group(1))  # type: ignore[union-attr]
    polygon = json.loads(page.get_by_label(re.compile("GeoJSON Polygon")).input_value())
    assert polygon["type"] == "Polygon"
    assert len(polygon["coordinates"][0]) == len(corners) + 1
    page.set_viewport_size({"width": 1280, "height": 900})
    wait_for_streets(page, "rfa-map")
    drawing.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "rfa-drawn-on-map.png"), full_page=False)
    page.get_by_role("button", name="Send request").click()
    expect(page).to_have_url(re.compile(r"/rfa/[0-9a-f]+$"))

    # What was stored is the polygon drawn, with the area the page showed.
    rfa_id = page.url.rsplit("/", 1)[1]
    stored = chief.get(f"/api/v1/requests/{rfa_id}").json()
    assert stored["area_sq_mi"] == pytest.approx(shown, abs=0.0015)
    assert stored["area"]["coordinates"] == polygon["coordinates"]
    expect(page.locator(".street-map")).to_be_visible()
    assert tracked_page.foreign_requests(live_server.url) == []
    assert tracked_page.policy_violations() == []


def test_a_drawn_polygon_is_edited_by_dragging_its_corner_and_the_overlays_stay_fixed(
    live_server: LiveServer, tracked_page: TrackedPage, api_clients: list[httpx.Client]
) -> None:
    lay_streets(live_server.settings)
    verified_agency(live_server, api_clients)
    page = tracked_page.page
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server, "chief@ppb.example")
    page.goto(live_server.url + "/agency")
    drawing = page.get_by_test_id("rfa-map")
    expect(drawing).to_be_visible()
    drawing.scroll_into_view_if_needed()
    page.evaluate(
        "v => DoorstepMap.registry['rfa-map'].setView([v.lat, v.lon], v.zoom, {animate: false})",
        VIEW,
    )
    centre = _point(page, VIEW["lat"], VIEW["lon"])
    corners = [(-80, -80), (80, -80), (80, 80), (-80, 80)]
    page.get_by_role("button", name="Draw Polygon").click()
    for dx, dy in [*corners, corners[0]]:
        page.mouse.move(0, 0)  # the live measure runs on each move, and the last one after the end
        _click(page, centre["x"] + dx, centre["y"] + dy)
    meter = page.get_by_test_id("area-meter")
    expect(meter).to_have_attribute("data-area-ok", "yes")
    before_meter = meter.inner_text()
    field = page.get_by_label(re.compile("GeoJSON Polygon"))
    before = field.input_value()

    # Only the drawn shape has handles: the jurisdiction and the cells are never editable.
    editable = page.evaluate(
        """() => { const found = [];
            DoorstepMap.registry['rfa-map'].eachLayer(l => {
                if (l instanceof L.Polygon && l.pm && l.pm.enabled())
                    found.push(l.options.className);
            });
            return found; }"""
    )
    assert editable == ["map-drawn"]

    # Dragging the south-east corner (no tool chosen first) grows the area; the fields follow.
    box = drawing.bounding_box()
    assert box is not None
    start = (box["x"] + centre["x"] + 80, box["y"] + centre["y"] + 80)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] + 30, start[1] + 30, steps=5)
    page.mouse.up()
    expect(meter).not_to_have_text(before_meter)
    assert field.input_value() != before
    assert json.loads(field.input_value())["type"] == "Polygon"
    assert not [e for e in errors if "getLatLngs" in e], errors


def test_a_refused_request_opens_on_its_reason_focused(
    live_server: LiveServer, tracked_page: TrackedPage, api_clients: list[httpx.Client]
) -> None:
    verified_agency(live_server, api_clients)
    page = tracked_page.page
    log_in(page, live_server, "chief@ppb.example")
    page.goto(live_server.url + "/agency")
    _fill_case(page)
    # Typed, not drawn: the page leaves the judgement to the server, which refuses it.
    page.get_by_label("Centre (latitude, longitude)").fill(f"{HOME['lat']}, {HOME['lon']}")
    page.get_by_label("Radius in metres").fill("3000")
    page.get_by_label("Radius in metres").dispatch_event("change")
    page.get_by_role("button", name="Send request").click()
    page.wait_for_load_state("load")
    error = page.locator(".alert.error").first
    expect(error).to_be_visible()
    expect(error).to_be_focused()
    expect(error).to_be_in_viewport()


def test_the_map_controls_take_the_dark_theme(
    live_server: LiveServer, browser: Browser, api_clients: list[httpx.Client]
) -> None:
    verified_agency(live_server, api_clients)
    context = browser.new_context(color_scheme="dark")
    try:
        page = context.new_page()
        log_in(page, live_server, "chief@ppb.example")
        page.goto(live_server.url + "/agency")
        expect(page.get_by_test_id("rfa-map")).to_be_visible()
        expect(page.get_by_role("button", name="Draw Polygon")).to_be_visible()
        panel = page.evaluate(
            "() => getComputedStyle(document.documentElement).getPropertyValue('--panel').trim()"
        )
        assert panel == "#1a2329"
        colours = page.evaluate(
            """() => ['#rfa-map .leaflet-control-zoom-in',
                      '#rfa-map .leaflet-buttons-control-button',
                      '#rfa-map .leaflet-control-attribution']
                .map(s => getComputedStyle(document.querySelector(s)).backgroundColor)"""
        )
        # None is white, nor Leaflet's translucent white: each is dark (every channel low).
        for colour in colours:
            channels = [float(c) for c in re.findall(r"[0-9.]+", colour)[:3]]
            assert max(channels) < 80, colours
    finally:
        context.close()


def test_a_wide_jurisdiction_in_the_directory_is_shown_over_streets(
    live_server: LiveServer, tracked_page: TrackedPage, api_clients: list[httpx.Client]
) -> None:
    lay_streets(live_server.settings)
    verified_agency(live_server, api_clients)
    page = tracked_page.page
    page.goto(live_server.url + "/agencies")
    expect(page.locator("#agency-map-1")).to_be_visible()
    wait_for_streets(page, "agency-map-1")
    # The outline (about 9 km across) in a small map is fitted no further out than the base map
    # has tiles for, so its tiles hold streets: many colours, not one flat grey.
    colours = page.evaluate(
        """() => {
            const seen = new Set();
            document.querySelectorAll('#agency-map-1 canvas.leaflet-tile').forEach(c => {
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                for (let i = 0; i < d.length; i += 4 * 97)
                    seen.add(d[i] + ',' + d[i + 1] + ',' + d[i + 2]);
            });
            return seen.size;
        }"""
    )
    assert colours > 4
