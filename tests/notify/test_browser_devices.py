"""The account page's "Notifications on this device" in Debian chromium, against the real API.

Chromium here has no push service to subscribe to (its own needs Google's servers), so a device
is added the way the page adds one, with the subscription of the demo's phone: a real receiver
on loopback that decrypts what Doorstep sends it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from doorstep.demo._phone import DemoPhone
from doorstep.settings import Environment, Settings
from tests.browser import LiveServer, free_port, serve
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

EMAIL = "avery@example.org"
#: What the page itself sends: the subscription's JSON and a name, with the CSRF header.
ADD_DEVICE = """async (subscription) => {
  const csrf = document.getElementById("push-devices").dataset.csrf;
  const answer = await fetch("/api/v1/push/devices", {
    method: "POST", headers: { "content-type": "application/json", "x-csrf-token": csrf },
    body: JSON.stringify({ ...subscription, name: "Kitchen tablet" }) });
  return answer.status;
}"""


def _log_in(page: Page, url: str, *, sign_up: bool = True) -> None:
    if sign_up:
        body = {"email": EMAIL, "password": PASSWORD, "display_name": "Avery"}
        assert httpx.post(url + "/api/v1/accounts", json=body).status_code == 201
    page.goto(url + "/login?next=/account")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/account")


def test_a_browser_that_blocks_or_lacks_notifications_is_told_so(
    live_server: LiveServer, browser: Browser
) -> None:
    context = browser.new_context()
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    _log_in(page, live_server.url)
    section = page.get_by_test_id("push-devices")
    expect(section.get_by_role("heading", name="Notifications on this device")).to_be_visible()
    # Headless chromium answers the permission prompt with "denied", as a person blocking it.
    section.get_by_role("button", name="Turn on notifications for this device").click()
    expect(section.get_by_role("status")).to_contain_text("blocked for Doorstep")
    # When the push service renews the subscription, the worker gets the session's CSRF token
    # from this open page to send the new one.
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    [worker] = context.service_workers
    token = page.locator('form[action="/logout"] input[name="csrf_token"]').input_value()
    assert token
    assert worker.evaluate("csrfToken()") == token
    assert [url for url in requests if not url.startswith(live_server.url + "/")] == []
    context.close()

    # Allowed, but the browser gets no subscription (a private window, or a build without a push
    # service): the page says what failed and what to try, not just the browser's words.
    context = browser.new_context()
    context.grant_permissions(["notifications"], origin=live_server.url)
    page = context.new_page()
    _log_in(page, live_server.url, sign_up=False)
    section = page.get_by_test_id("push-devices")
    section.get_by_role("button", name="Turn on notifications for this device").click()
    expect(section.get_by_role("status")).to_contain_text(
        "could not get a subscription from its push service"
    )
    expect(section.get_by_role("status")).to_contain_text("try a normal window")
    context.close()

    # A browser without the Push API (as Safari on an iPhone before the app is installed).
    context = browser.new_context()
    context.add_init_script("delete window.PushManager")
    page = context.new_page()
    _log_in(page, live_server.url, sign_up=False)
    section = page.get_by_test_id("push-devices")
    expect(section.get_by_role("status")).to_contain_text("cannot receive push notifications")
    expect(section.get_by_role("button", name="Turn on notifications")).to_be_hidden()
    context.close()


@pytest.fixture
def loopback_server(tmp_path: Path, engine_database_url: str) -> Iterator[LiveServer]:
    """Doorstep that accepts loopback push endpoints, as `doorstep demo` runs."""
    settings = Settings(
        env=Environment.TEST,
        data_dir=tmp_path / "data",
        database_url=engine_database_url,
        host="127.0.0.1",
        port=free_port(),
        push_allow_loopback=True,
    )
    with serve(settings) as server:
        yield server


def test_the_account_page_lists_renames_tests_and_removes_a_device(
    loopback_server: LiveServer, browser: Browser
) -> None:
    shown: list[dict[str, Any]] = []
    phone = DemoPhone(on_push=shown.append)
    phone.start()
    context = browser.new_context()
    page = context.new_page()
    try:
        _log_in(page, loopback_server.url)
        section = page.get_by_test_id("push-devices")
        expect(section.get_by_text("None yet.")).to_be_visible()
        assert page.evaluate(ADD_DEVICE, phone.subscription()) == 201
        page.reload()
        devices = section.get_by_test_id("push-device-list")
        expect(devices.get_by_label("Name of Kitchen tablet")).to_have_value("Kitchen tablet")
        expect(devices).to_contain_text("127.0.0.1")

        # An empty name is caught on the page, in words, before the API's validation message.
        devices.get_by_label("Name of Kitchen tablet").fill("  ")
        devices.get_by_role("button", name="Save name: Kitchen tablet").click()
        expect(section.get_by_role("status")).to_have_text(
            "Give the device a name first: the list shows it so you know which one it is."
        )
        devices.get_by_label("Name of Kitchen tablet").fill("Hall phone")
        devices.get_by_role("button", name="Save name: Kitchen tablet").click()
        expect(section.get_by_role("status")).to_have_text("Renamed to Hall phone.")
        expect(devices.get_by_label("Name of Hall phone")).to_have_value("Hall phone")

        devices.get_by_role("button", name="Send a test: Hall phone").click()
        expect(section.get_by_role("status")).to_have_text("Test notification sent to Hall phone.")
        deadline = time.monotonic() + 20
        while not shown:
            assert time.monotonic() < deadline, "the test push did not arrive"
            time.sleep(0.05)
        assert shown[0]["type"] == "test"

        devices.get_by_role("button", name="Remove: Hall phone").click()
        expect(section.get_by_role("status")).to_have_text(
            "Hall phone no longer gets notifications."
        )
        expect(section.get_by_text("None yet.")).to_be_visible()
        expect(devices).to_be_hidden()
    finally:
        context.close()
        phone.stop()
