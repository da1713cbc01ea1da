"""The installed app in Debian chromium: its service worker, pushes, a click, the offline page.

Pushes reach the service worker through the DevTools protocol (``deliverPushMessage``), as a push
service's would after the browser decrypted them. A click is dispatched in the worker as a
``notificationclick`` for the notification it showed: headless chromium has no notification on
screen to click, and the worker's own listener is what a click runs.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, CDPSession, Page, Worker, expect

from tests.browser import LiveServer

pytestmark = pytest.mark.browser

RING = {
    "type": "ring",
    "title": "Someone is at the Front door",
    "body": "Answer to see who it is.",
    "camera": "Front door",
    "at": "2026-12-06T03:00:00+00:00",
    "url": "/cameras/cam-1/live?ring=ring-1",
    "tag": "ring-cam-1",
}
GENERIC = "Something happened in Doorstep. Open it to see what."
NOTIFICATIONS = """async () => (await self.registration.getNotifications()).map((n) => ({
  title: n.title, body: n.body, tag: n.tag, requireInteraction: n.requireInteraction,
  renotify: n.renotify, icon: n.icon, url: n.data && n.data.url }))"""
CLICK = """async (tag) => {
  const [notification] = await self.registration.getNotifications({ tag });
  self.dispatchEvent(new NotificationEvent("notificationclick", { notification }));
}"""


@dataclass
class InstalledApp:
    """A page controlled by Doorstep's service worker, with DevTools on the worker."""

    origin: str
    context: BrowserContext
    page: Page
    worker: Worker
    devtools: CDPSession
    registration_id: str
    requests: list[str]

    def push(self, data: str, tag: str, body: str) -> None:
        """Deliver ``data`` to the worker as a push message; wait for its notification to show.

        Headless chromium now and then drops a message DevTools hands to a worker it is still
        attaching to: the same message is delivered again (as a push service retries) if no
        notification came of it within a few seconds.
        """
        for _attempt in range(3):
            self.devtools.send(
                "ServiceWorker.deliverPushMessage",
                {"origin": self.origin + "/", "registrationId": self.registration_id, "data": data},
            )
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                if any(n["tag"] == tag and n["body"] == body for n in self.notifications()):
                    return
                time.sleep(0.05)
        raise AssertionError(f"no notification tagged {tag!r} saying {body!r}")

    def notifications(self) -> list[dict[str, Any]]:
        """The notifications shown now."""
        shown: list[dict[str, Any]] = self.worker.evaluate(NOTIFICATIONS)
        return shown


@pytest.fixture
def installed(live_server: LiveServer, browser: Browser) -> Iterator[InstalledApp]:
    """A fresh browser context that opened a Doorstep page and is controlled by its worker."""
    origin = live_server.url
    context = browser.new_context()
    context.grant_permissions(["notifications"], origin=origin)
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    devtools = context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    devtools.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(event["registrations"]),
    )
    devtools.send("ServiceWorker.enable")
    with context.expect_event("serviceworker") as started:
        page.goto(origin + "/transparency")
    # Controlled on the first visit, without a reload: the worker claims its pages on activation.
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    # Claimed while activating: pushes are for an activated worker.
    page.wait_for_function("() => navigator.serviceWorker.controller.state === 'activated'")
    ours = [r for r in registrations if r["scopeURL"] == origin + "/" and not r["isDeleted"]]
    assert ours, registrations
    yield InstalledApp(
        origin, context, page, started.value, devtools, ours[-1]["registrationId"], requests
    )
    context.close()


def test_a_ring_push_shows_a_notification_whose_click_opens_the_ring_page(
    installed: InstalledApp,
) -> None:
    assert installed.worker.url == installed.origin + "/sw.js"
    installed.push(json.dumps(RING), RING["tag"], RING["body"])
    [shown] = installed.notifications()
    assert shown == {
        "title": RING["title"],
        "body": RING["body"],
        "tag": RING["tag"],
        "requireInteraction": True,
        "renotify": True,
        "icon": installed.origin + "/static/icons/icon-192.png",
        "url": RING["url"],
    }
    # A newer ring at the same door replaces the one shown.
    installed.push(json.dumps({**RING, "body": "Again."}), RING["tag"], "Again.")
    assert [n["body"] for n in installed.notifications()] == ["Again."]
    # Answered on another device: the ring is replaced, quietly, and no longer waits.
    answered = {**RING, "type": "answered", "title": "Someone answered the door"}
    body = "Front door: answered"
    installed.push(json.dumps({**answered, "body": body}), RING["tag"], body)
    [replaced] = installed.notifications()
    assert (replaced["body"], replaced["renotify"], replaced["requireInteraction"]) == (
        "Front door: answered",
        False,
        False,
    )
    installed.push(json.dumps({**RING, "body": "Again."}), RING["tag"], "Again.")

    with installed.page.expect_request(installed.origin + RING["url"]):
        installed.worker.evaluate(CLICK, RING["tag"])
    # The click takes the open Doorstep window to the ring's page (signing in first).
    expect(installed.page).to_have_url(re.compile(r"/login\?next=/cameras/cam-1/live$"))
    assert installed.worker.evaluate(NOTIFICATIONS) == []
    assert [url for url in installed.requests if not url.startswith(installed.origin + "/")] == []


def test_a_malformed_push_still_shows_a_notice_and_no_other_site_is_opened(
    installed: InstalledApp,
) -> None:
    installed.push("{not json", "doorstep-notice", GENERIC)
    [generic] = installed.notifications()
    assert generic["title"] == "Doorstep"
    assert generic["url"] == "/"
    # A payload naming another site opens Doorstep's home page instead.
    urls = ("https://elsewhere.example/phish", "//elsewhere.example/phish", "javascript:1")
    for url in urls:
        installed.push(
            json.dumps({**RING, "type": "alert", "tag": url, "url": url}), url, RING["body"]
        )
    shown = installed.notifications()
    assert sorted(n["url"] for n in shown) == ["/", "/", "/", "/"]
    assert [n["requireInteraction"] for n in shown if n["tag"] != "doorstep-notice"] == [False] * 3

    with installed.page.expect_request(installed.origin + "/"):
        installed.worker.evaluate(CLICK, "https://elsewhere.example/phish")
    expect(installed.page).to_have_url(installed.origin + "/")
    assert [url for url in installed.requests if not url.startswith(installed.origin + "/")] == []


def test_offline_a_page_is_the_offline_page_and_nothing_else_is_kept(
    installed: InstalledApp,
) -> None:
    # An API answer passes through the worker; it must not be kept.
    assert installed.page.evaluate("fetch('/healthz').then((r) => r.status)") == 200
    kept = installed.page.evaluate(
        """async () => {
          const urls = [];
          for (const name of await caches.keys()) {
            for (const request of await (await caches.open(name)).keys()) {
              urls.push(new URL(request.url).pathname);
            }
          }
          return urls.sort();
        }"""
    )
    assert kept == ["/offline", "/static/css/doorstep.css", "/static/icons/icon-192.png"]

    installed.context.set_offline(True)
    installed.page.goto(installed.origin + "/clips")
    expect(installed.page.get_by_role("heading", name="You are offline")).to_be_visible()
    # Its stylesheet came from the cache too.
    background = installed.page.evaluate(
        "getComputedStyle(document.documentElement).backgroundColor"
    )
    assert background == "rgb(247, 245, 240)"
    installed.context.set_offline(False)
    installed.page.get_by_test_id("offline-retry").click()
    expect(installed.page).to_have_url(re.compile(r"/login\?next=/clips$"))
