"""The home on a street map, in a browser: set by a click, shown to its owner beside its cell."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from doorstep.accounts.store import user_by_email
from doorstep.demo import streets
from doorstep.demo.run import CENTRE
from doorstep.platform.db import Database
from tests.browser import SCREENSHOTS, LiveServer, TrackedPage
from tests.factories import PASSWORD
from tests.streets import lay_streets, wait_for_streets

pytestmark = pytest.mark.browser


def _saved_home(server: LiveServer, email: str) -> tuple[float | None, float | None, str | None]:
    database = Database(server.settings.resolved_database_url)
    with database.session() as db:
        user = user_by_email(db, email)
        assert user is not None
        saved = (user.home_lat, user.home_lon, user.home_cell)
    database.dispose()
    return saved


def _click_map(page: Page, map_id: str, x: float, y: float) -> tuple[float, float]:
    """Click the map at (x, y) inside it; the position Leaflet saw under the pointer."""
    page.evaluate(
        "id => DoorstepMap.registry[id].once('click', e => { window.clicked = e.latlng; })",
        map_id,
    )
    page.locator(f"#{map_id}").click(position={"x": x, "y": y})
    found = page.evaluate("() => [window.clicked.lat, window.clicked.lng]")
    return float(found[0]), float(found[1])


def _log_in(page: Page, server: LiveServer, email: str) -> None:
    page.goto(server.url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"^(?!.*/login)"))


def test_home_set_by_clicking_the_map_is_saved_and_shown_with_its_cell(
    live_server: LiveServer, tracked_page: TrackedPage
) -> None:
    lay_streets(live_server.settings)
    page = tracked_page.page
    response = page.goto(live_server.url + "/signup")
    assert response is not None
    assert "geolocation=(self)" in response.headers["permissions-policy"]
    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_label("Display name").fill("Ada")
    page.get_by_label("Password").fill(PASSWORD)
    expect(page.get_by_test_id("home-map")).to_be_visible()
    page.locator("#home-map").evaluate(
        "el => DoorstepMap.registry[el.id].setView([45.5231, -122.6765], 17, {animate: false})"
    )
    lat, lon = _click_map(page, "home-map", 300, 170)
    expect(page.get_by_label(re.compile("^Home location"))).to_have_value(f"{lat:.6f}, {lon:.6f}")
    expect(page.get_by_test_id("home-status")).to_contain_text("only you see this point")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(re.compile("/login"))

    saved_lat, saved_lon, cell = _saved_home(live_server, "ada@example.org")
    assert saved_lat == pytest.approx(lat, abs=1e-6)
    assert saved_lon == pytest.approx(lon, abs=1e-6)
    assert cell is not None

    # The owner sees the exact point and, beside it, the public cell others see instead.
    _log_in(page, live_server, "ada@example.org")
    response = page.goto(live_server.url + "/account")
    assert response is not None
    assert "geolocation=(self)" in response.headers["permissions-policy"]
    expect(page.locator("#home-map .map-home-point")).to_have_count(1)
    expect(page.locator("#home-map path.map-home-cell")).to_have_count(1)
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.locator("#home-map").scroll_into_view_if_needed()
    wait_for_streets(page, "home-map")
    page.get_by_role("heading", name="Profile and home").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "home-on-map.png"), full_page=False)

    # Another click moves the home; saving keeps it.
    lat2, lon2 = _click_map(page, "home-map", 120, 90)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Profile saved.")).to_be_visible()
    saved_lat, saved_lon, _cell = _saved_home(live_server, "ada@example.org")
    assert saved_lat == pytest.approx(lat2, abs=1e-6)
    assert saved_lon == pytest.approx(lon2, abs=1e-6)
    assert tracked_page.foreign_requests(live_server.url) == []
    assert tracked_page.policy_violations() == []


def test_home_found_by_a_gazetteer_address(
    live_server: LiveServer, tracked_page: TrackedPage
) -> None:
    lay_streets(live_server.settings)
    page = tracked_page.page
    page.goto(live_server.url + "/signup")
    page.get_by_label("Email").fill("bo@example.org")
    page.get_by_label("Display name").fill("Bo")
    page.get_by_label("Password").fill(PASSWORD)
    search = page.get_by_label("Find your address")
    search.fill("Elm St")
    search.press("Enter")
    found = page.get_by_role("list", name="Addresses found").get_by_role("button")
    expect(found).to_have_count(5)
    # Elm St has more addresses than the five sent: the page does not claim only five exist.
    status = page.get_by_test_id("home-status")
    expect(status).to_contain_text("The first 5 addresses found")
    expect(status).to_contain_text("type more of the address")
    label = found.first.inner_text()
    place = next(p for p in streets.gazetteer(CENTRE) if p.label == label)
    found.first.click()
    home = page.get_by_label(re.compile("^Home location"))
    expect(home).to_have_value(f"{place.lat:.6f}, {place.lon:.6f}")
    expect(page.locator("#home-map .map-home-point")).to_have_count(1)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(re.compile("/login"))
    saved_lat, saved_lon, _cell = _saved_home(live_server, "bo@example.org")
    assert saved_lat == pytest.approx(place.lat, abs=1e-6)
    assert saved_lon == pytest.approx(place.lon, abs=1e-6)
    assert tracked_page.foreign_requests(live_server.url) == []
    assert tracked_page.policy_violations() == []


def test_home_from_the_browsers_location(live_server: LiveServer, browser: Browser) -> None:
    # The page's Permissions-Policy lets our origin ask; a policy of geolocation=() would make
    # the browser refuse even with the permission granted, and the field would stay empty.
    context = browser.new_context(
        geolocation={"latitude": 45.524012, "longitude": -122.675431}, permissions=["geolocation"]
    )
    try:
        page = context.new_page()
        page.goto(live_server.url + "/signup")
        page.get_by_role("button", name="Use my location").click()
        home = page.get_by_label(re.compile("^Home location"))
        expect(home).to_have_value("45.524012, -122.675431")
        expect(page.get_by_test_id("home-status")).to_contain_text("Your location:")
    finally:
        context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_signup_form_and_its_map_stay_inside_their_card(
    live_server: LiveServer, tracked_page: TrackedPage, width: int
) -> None:
    lay_streets(live_server.settings)
    page = tracked_page.page
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live_server.url + "/signup")
    expect(page.get_by_test_id("home-map")).to_be_visible()
    outside = page.evaluate(
        """() => {
            const card = document.querySelector('form.form').closest('.panel');
            const pad = parseFloat(getComputedStyle(card).paddingRight);
            const inner = card.getBoundingClientRect().right - pad;
            const parts = 'input:not([type=hidden]), button, .street-map, .inline-fields';
            return [...card.querySelectorAll(parts)]
                .filter(e => e.getBoundingClientRect().right > inner + 1)
                .map(e => e.id || e.className || e.tagName);
        }"""
    )
    assert outside == []
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
