"""A forgotten password, reset end to end in a real browser through a real SMTP server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from doorstep.settings import Environment, Settings
from tests.browser import LiveServer, TrackedPage, free_port, serve
from tests.factories import PASSWORD
from tests.mailbox import Mailbox, link_in

pytestmark = pytest.mark.browser


@pytest.fixture
def mail_server(tmp_path: Path, engine_database_url: str, mailbox: Mailbox) -> Iterator[LiveServer]:
    """Doorstep on loopback, sending its mail to the test's SMTP server."""
    settings = Settings(
        env=Environment.TEST,
        data_dir=tmp_path / "data",
        database_url=engine_database_url,
        host="127.0.0.1",
        port=free_port(),
        sign_ups_per_address=1000,
        login_failures_per_address=1000,
        **mailbox.settings(),
    )
    with serve(settings) as server:
        yield server


def test_forgot_mail_link_new_password_signed_in_and_the_link_refused_after(
    mail_server: LiveServer, mailbox: Mailbox, tracked_page: TrackedPage
) -> None:
    page = tracked_page.page
    page.goto(mail_server.url + "/signup")
    expect(page.get_by_test_id("email-note")).to_contain_text("send a link to this email")
    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_label("Display name").fill("Ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/login"))
    assert mailbox.wait_for(1)[0]["Subject"] == "Confirm your email for Doorstep"

    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_test_id("forgot-sent")).to_contain_text("ada@example.org")
    link = link_in(mailbox.wait_for(2)[1], "reset")
    assert link.startswith(mail_server.url + "/reset/")

    page.goto(link)
    page.get_by_label("New password").fill("harbour-kettle-77")
    page.get_by_role("button", name="Set the new password").click()
    expect(page).to_have_url(re.compile(r"/account\?reset=1$"))
    expect(page.get_by_test_id("password-reset")).to_be_visible()
    # Following the reset link proved the address as well.
    expect(page.get_by_test_id("email-state")).to_contain_text("is confirmed")

    page.goto(link)
    expect(page.get_by_test_id("link-refused")).to_contain_text("used already")
    page.get_by_test_id("logout").click()
    page.goto(mail_server.url + "/login")
    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_label("Password").fill("harbour-kettle-77")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    assert tracked_page.foreign_requests(mail_server.url) == []
    assert tracked_page.policy_violations() == []
