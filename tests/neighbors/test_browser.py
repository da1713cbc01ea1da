"""Neighbors in a real browser: post, read, comment, report and moderate; nothing from elsewhere."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from doorstep.accounts.roles import Role
from doorstep.accounts.store import create_user
from doorstep.geo.cells import Coordinates
from doorstep.platform.db import Database
from tests.browser import SCREENSHOTS, LiveServer, TrackedPage
from tests.factories import PASSWORD
from tests.streets import lay_streets, wait_for_streets

pytestmark = pytest.mark.browser

PEOPLE = (
    ("ada@example.org", "Ada", Role.RESIDENT, Coordinates(45.523612, -122.677144)),
    ("bob@example.org", "Bob", Role.RESIDENT, Coordinates(45.526431, -122.681937)),
    ("rita@example.org", "Rita", Role.REVIEWER, Coordinates(45.520001, -122.670001)),
)


def _accounts(server: LiveServer) -> None:
    database = Database(server.settings.resolved_database_url)
    with database.session() as db:
        for email, name, role, home in PEOPLE:
            create_user(
                db,
                email=email,
                password=PASSWORD,
                display_name=name,
                home=home,
                cell_resolution=server.settings.public_cell_resolution,
                role=role,
            )
    database.dispose()


def _log_in(page: Page, server: LiveServer, email: str) -> None:
    page.goto(server.url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()


def test_post_read_comment_report_and_moderate(
    live_server: LiveServer, tracked_page: TrackedPage
) -> None:
    _accounts(live_server)
    lay_streets(live_server.settings)
    page = tracked_page.page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    _log_in(page, live_server, "ada@example.org")
    page.get_by_role("navigation").get_by_role("link", name="Neighbors").click()
    page.get_by_role("link", name="New post").click()
    page.get_by_label("Category").select_option("crime")
    page.get_by_label("What happened?").fill("Suspicious black man in the neighborhood")
    page.get_by_role("button", name="Post to Neighbors").click()
    expect(page.get_by_role("alert")).to_contain_text("only by race or ethnicity")
    expect(page.get_by_label("What happened?")).to_have_value(
        "Suspicious black man in the neighborhood"
    )
    page.get_by_label("What happened?").fill(
        "Man in a red hoodie took a bike from the rack on Elm St at 3pm"
    )
    page.get_by_role("button", name="Post to Neighbors").click()
    expect(page.get_by_text("Posted. Neighbours nearby can see it now.")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "feed-post.png"), full_page=True)
    page.get_by_test_id("logout").click()

    _log_in(page, live_server, "bob@example.org")
    page.goto(live_server.url + "/feed")
    card = page.get_by_test_id("post-card")
    expect(card).to_contain_text("took a bike from the rack")
    expect(card).to_contain_text("Neighbor")
    page.screenshot(path=str(SCREENSHOTS / "feed.png"), full_page=True)
    card.get_by_role("link", name=re.compile("Open post")).click()
    page.get_by_label("Add a comment").fill("I saw him ride toward the river")
    page.get_by_role("button", name="Comment", exact=True).click()
    expect(page.get_by_test_id("comment")).to_contain_text("ride toward the river")
    page.locator("#report-reason").fill("Could be a neighbour's teenager; please check")
    page.get_by_role("button", name="Report post").click()
    expect(page.get_by_text("A reviewer will look at this post.")).to_be_visible()
    page.goto(live_server.url + "/feed/map")
    expect(page.get_by_test_id("feed-map")).to_be_visible()
    expect(page.locator("#feed-street-map path.map-cell")).not_to_have_count(0)
    wait_for_streets(page, "feed-street-map")
    page.screenshot(path=str(SCREENSHOTS / "feed-map.png"), full_page=True)
    page.get_by_test_id("logout").click()

    _log_in(page, live_server, "rita@example.org")
    page.goto(live_server.url + "/moderation")
    item = page.get_by_test_id("queue-item")
    expect(item).to_contain_text("Could be a neighbour's teenager")
    item.get_by_label("Remove").check()
    item.get_by_label("Reason (shown to the author)").fill("Points at one family's child.")
    item.get_by_role("button", name="Record decision").click()
    expect(page.get_by_text("Decision recorded: remove.")).to_be_visible()
    expect(page.get_by_text("The queue is empty.")).to_be_visible()
    page.get_by_test_id("logout").click()

    _log_in(page, live_server, "ada@example.org")
    page.goto(live_server.url + "/feed")
    expect(page.get_by_test_id("post-card")).to_have_count(0)

    assert tracked_page.requests
    assert tracked_page.foreign_requests(live_server.url) == []
    assert tracked_page.policy_violations() == []
