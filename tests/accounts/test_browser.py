"""Sign up, log out and log in again in a real browser, and nothing loaded from another origin."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser import SCREENSHOTS, LiveServer, TrackedPage
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_sign_up_log_out_log_in(live_server: LiveServer, tracked_page: TrackedPage) -> None:
    page = tracked_page.page
    page.goto(live_server.url + "/")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "landing.png"), full_page=True)
    page.get_by_role("link", name="Create an account").click()

    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_label("Display name").fill("Ada")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_contain_text(re.compile("at least 10 characters", re.I))

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Home location").fill("45.5236, -122.6771")
    page.get_by_role("button", name="Create account").click()
    # Sign-up never logs in (it would tell a new email from a taken one): log in next.
    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/account\?welcome=1$"))
    expect(page.get_by_text("Welcome to Doorstep, Ada.")).to_be_visible()
    expect(
        page.get_by_label("Home location (latitude, longitude), visible only to you")
    ).to_have_value("45.5236, -122.6771")
    page.screenshot(path=str(SCREENSHOTS / "account.png"), full_page=True)

    page.get_by_test_id("logout").click()
    expect(page.get_by_role("navigation").get_by_role("link", name="Log in")).to_be_visible()
    page.goto(live_server.url + "/account")
    expect(page).to_have_url(re.compile(r"/login\?next=/account$"))

    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_label("Password").fill("not-my-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text(re.compile("wrong email or password", re.I))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()

    page.get_by_test_id("logout").click()
    expect(page.get_by_role("navigation").get_by_role("link", name="Sign up")).to_be_visible()

    assert tracked_page.requests
    assert tracked_page.foreign_requests(live_server.url) == []
    assert tracked_page.policy_violations() == []


def test_api_docs_render_from_our_own_origin(
    live_server: LiveServer, tracked_page: TrackedPage
) -> None:
    page = tracked_page.page
    page.goto(live_server.url + "/docs")
    expect(page.get_by_text("/api/v1/accounts").first).to_be_visible()
    assert tracked_page.foreign_requests(live_server.url) == []
    assert tracked_page.policy_violations() == []
