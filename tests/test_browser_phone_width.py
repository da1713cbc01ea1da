"""On a phone (390 px wide) no page scrolls sideways: a wide table scrolls in its own box."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser, ViewportSize

from tests.browser import LiveServer
from tests.requests.test_api import rfa_body
from tests.requests.test_browser_rfa_map import log_in, verified_agency

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 390, "height": 844}


def test_pages_with_wide_tables_fit_a_phone(
    live_server: LiveServer, browser: Browser, api_clients: list[httpx.Client]
) -> None:
    chief = verified_agency(live_server, api_clients)
    sent = chief.post("/api/v1/requests", json=rfa_body())
    assert sent.status_code == 201, sent.text
    token = chief.post("/api/v1/me/tokens", json={"name": "a script", "scopes": ["account:read"]})
    assert token.status_code == 201, token.text
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        log_in(page, live_server, "chief@ppb.example")
        page.goto(live_server.url + "/agencies")
        link = page.locator("a[href^='/agencies/']").filter(has_text="Portland Police Bureau").first
        href = link.get_attribute("href")
        assert href is not None
        for path in ("/agency", "/transparency", href, "/account"):
            page.goto(live_server.url + path)
            page.wait_for_load_state("load")
            assert page.locator("table.table").count() >= 1, path
            width = page.evaluate("() => document.documentElement.scrollWidth")
            # What sticks out, past the scrolling boxes and the maps (which clip what they hold).
            wide = page.evaluate(
                """() => [...document.querySelectorAll('body *')]
                    .filter(e => e.getBoundingClientRect().right > innerWidth + 1)
                    .filter(e => !e.parentElement.closest('.table-scroll, .leaflet-container'))
                    .slice(0, 3).map(e => e.tagName + '.' + e.className)"""
            )
            assert width <= PHONE["width"], (path, width, wide)
            # Each wide table is in a region a keyboard can reach and scroll, that says what it is.
            for region in page.locator("table.table:visible").all():
                box = region.locator("xpath=..")
                assert box.get_attribute("tabindex") == "0", path
                assert box.get_attribute("role") == "region", path
                assert box.get_attribute("aria-label") or box.get_attribute("aria-labelledby")
    finally:
        context.close()
