"""A browser whose event stream drops resumes it with Last-Event-ID and shows what it missed."""

from __future__ import annotations

import pytest
from playwright.sync_api import Route, expect

from doorstep.clips.models import AccountEvent
from doorstep.platform.bus.memory import notify_after_commit, take_pending
from tests.browser import LiveServer, TrackedPage
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def _publish(server: LiveServer, account_id: str, event: dict[str, object]) -> int:
    state = server.state
    with state.db.session() as db:
        notify_after_commit(db, account_id, event)
    for account, told in take_pending(db):
        state.bus.publish(account, told)
    with state.db.session() as db:
        return max(row.id for row in db.query(AccountEvent).all())


def test_a_dropped_stream_resumes_and_shows_the_alert_it_missed(
    live_server: LiveServer, tracked_page: TrackedPage
) -> None:
    page = tracked_page.page
    page.goto(live_server.url + "/signup")
    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_label("Display name").fill("Ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    me = page.request.get(live_server.url + "/api/v1/me").json()["id"]
    seen = _publish(live_server, me, {"type": "note"})
    # While the page was away, a clip alerted.
    clip = {
        "id": "c1",
        "labels": ["person"],
        "camera_name": "Front door",
        "snapshot_url": "/static/favicon.svg",
    }
    _publish(live_server, me, {"type": "clip", "alert": True, "clip": clip})

    opened: list[str] = []

    def drop_the_first(route: Route) -> None:
        # Chromium adds Last-Event-ID below the interception: the server's replay shows it came.
        opened.append(route.request.url)
        if len(opened) == 1:
            # The stream the page had: it saw ``seen`` last, then the connection ended.
            body = f"retry: 100\nid: {seen}\ndata: {{}}\n\n"
            route.fulfill(status=200, content_type="text/event-stream", body=body)
        else:
            route.continue_()

    page.route("**/api/v1/events*", drop_the_first)
    page.reload()
    alert = page.get_by_test_id("alerts").get_by_role("link")
    expect(alert).to_contain_text("Person at Front door", timeout=10_000)
    # The browser reconnected by itself (not the page's script, which would add a parameter).
    assert opened[:2] == [live_server.url + "/api/v1/events"] * 2
