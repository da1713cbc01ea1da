"""axe-core on every HTML page, as four kinds of visitor, in the light and the dark theme.

The pages are found in the app's router, not listed by hand: a new GET route outside the API fails
here until it is either a page below (checked) or a route that is not a page (with the reason).
axe is injected with ``page.evaluate`` of its source, as the DevTools protocol runs it: the page's
Content-Security-Policy stays exactly as served. Every page must load nothing from another origin.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from playwright.sync_api import Browser, BrowserContext, Page, Request

from tests.browser import LiveServer
from tests.hostile.conftest import World, build_world
from tests.samples import tiny_clip

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

#: Who looks: nobody signed in, a camera owner with clips, an agency's officer, a reviewer.
VISITORS = ("anonymous", "owner", "agent", "reviewer")
SCHEMES: tuple[Literal["light", "dark"], ...] = ("light", "dark")
#: The ids a page's path may need: made by the world, except a secret no email ever sent.
PATH_IDS = (
    "agency_id",
    "bystander_id",
    "bystander_token",
    "camera_id",
    "clip_id",
    "notice_id",
    "post_id",
    "rfa_id",
    "secret",
)
EXTRA_IDS = {"secret": "a-link-that-was-never-sent"}

#: GET routes outside /api/ that are not pages, and why they are not checked.
NOT_PAGES = {
    "/openapi.json": "the API's description, JSON",
    "/healthz": "a health check, JSON",
    "/manifest.webmanifest": "the installable app's manifest, JSON",
    "/sw.js": "the service worker's script",
    "/maps/base.pmtiles": "the base map's tiles, binary",
    "/checkpoint": "the audit log's checkpoint, a C2SP signed note in plain text",
}

#: What the theme can change: every rule runs in light, these again in dark.
COLOUR_RULES = ("color-contrast", "link-in-text-block")

#: Pages drawn by script after they load: what shows they are drawn.
DRAWN = {"/docs": ".swagger-ui .opblock"}

#: Violations at these levels fail the test; moderate and minor ones are left to judgement.
FAILING = ("serious", "critical")

AXE_RUN = """async ([failing, rules]) => {
  const only = rules.length ? { runOnly: { type: "rule", values: rules } } : {};
  const result = await axe.run(document, { resultTypes: ["violations"], ...only });
  return result.violations
    .filter((v) => failing.includes(v.impact))
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + ": " + n.failureSummary),
    }));
}"""


def page_routes(app: FastAPI) -> set[str]:
    """Every GET route outside the JSON API, as its path template."""
    return {
        str(route.path_format)
        for route in iter_route_contexts(app.routes)
        if "GET" in (route.methods or set()) and not str(route.path_format).startswith("/api/")
    }


@dataclass
class Visitor:
    """One person's browser: a context with their session, and every URL it asked for."""

    name: str
    context: BrowserContext
    page: Page
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def world(live_server: LiveServer, tmp_path: Path) -> Iterator[World]:
    """The hostile tests' neighbourhood (owner, cameras, clips, agencies, RFA, demand, posts)."""
    clip = tiny_clip(tmp_path / "clip.mp4").read_bytes()
    built = build_world(live_server.app, clip)
    yield built
    for client in built.clients.values():
        client.close()


def _visitor(browser: Browser, server: LiveServer, world: World, name: str) -> Visitor:
    context = browser.new_context(timezone_id="America/Los_Angeles")
    if name != "anonymous":
        # The session the world made through the API, handed to the browser as its cookies.
        jar = world.clients[name].cookies.jar
        context.add_cookies(
            [{"name": c.name, "value": c.value or "", "url": server.url} for c in jar]
        )
    page = context.new_page()
    visitor = Visitor(name, context, page)

    def on_request(request: Request) -> None:
        visitor.requests.append(request.url)

    page.on("request", on_request)
    return visitor


def _violations(page: Page, axe: str, scheme: str) -> list[dict[str, Any]]:
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.evaluate(axe)
    rules = list(COLOUR_RULES) if scheme == "dark" else []
    found: list[dict[str, Any]] = page.evaluate(AXE_RUN, [list(FAILING), rules])
    return found


def test_every_get_route_is_a_checked_page_or_said_not_to_be_one(app: FastAPI) -> None:
    """A new page cannot be forgotten: it is checked below unless listed here with a reason.

    A page whose path needs an id the world does not make fails here, until PATH_IDS names it.
    """
    routes = page_routes(app)
    pages = routes - set(NOT_PAGES)
    assert {"/", "/login", "/clips", "/agency", "/review"} <= pages
    needed = {name for page in pages for name in re.findall(r"{(\w+)}", page)}
    assert needed <= set(PATH_IDS), f"give the world an id for {needed - set(PATH_IDS)}"
    # A route listed as not a page is a real one (the maps room's tiles arrive with that room).
    assert set(NOT_PAGES) - routes <= {"/maps/base.pmtiles"}


def test_every_page_passes_axe_for_every_visitor_in_both_themes(
    live_server: LiveServer, browser: Browser, world: World
) -> None:
    """No serious or critical axe violation on any page, as anyone, light or dark."""
    server = live_server
    axe = AXE.read_text(encoding="utf-8")
    ids = {**world.ids, **EXTRA_IDS}
    pages = sorted(page_routes(server.app) - set(NOT_PAGES))
    problems: list[str] = []
    checked: list[str] = []
    visitors = [_visitor(browser, server, world, name) for name in VISITORS]
    try:
        for visitor in visitors:
            seen_errors: set[int] = set()
            for template in pages:
                url = server.url + template.format(**ids)
                response = visitor.page.goto(url, wait_until="load")
                assert response is not None, url
                landed = visitor.page.url.split("?")[0]
                if landed != url and landed.endswith("/login"):
                    continue  # the login page is checked as its own route
                if response.status != 200:
                    # An error page is one template: check it once per visitor and status.
                    if response.status in seen_errors:
                        continue
                    seen_errors.add(response.status)
                if template in DRAWN:
                    visitor.page.wait_for_selector(DRAWN[template])
                checked.append(f"{visitor.name} {template} {response.status}")
                for scheme in SCHEMES:
                    visitor.page.emulate_media(color_scheme=scheme)
                    for violation in _violations(visitor.page, axe, scheme):
                        problems.append(
                            f"{visitor.name} {scheme} {template}: {violation['impact']} "
                            f"{violation['id']} ({violation['help']}): "
                            + " | ".join(violation["nodes"])
                        )
                visitor.page.emulate_media(color_scheme="light")
        foreign = [
            f"{visitor.name}: {url}"
            for visitor in visitors
            for url in visitor.requests
            if not url.startswith((server.url + "/", "data:", "blob:"))
        ]
    finally:
        for visitor in visitors:
            visitor.context.close()
    assert problems == [], "\n".join(problems)
    assert foreign == [], "\n".join(foreign)
    # Each visitor saw pages of their own, not only the login page.
    for name in VISITORS:
        assert sum(line.startswith(name + " ") for line in checked) >= 5, checked
