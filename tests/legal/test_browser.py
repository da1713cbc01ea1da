"""The accountability journey in a browser: a warrant recorded, footage disclosed, owner told."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from doorstep.accounts.roles import Role
from doorstep.accounts.store import create_user
from doorstep.geo.cells import Coordinates
from doorstep.platform.types import utcnow
from tests.browser import LiveServer, TrackedPage
from tests.factories import PASSWORD
from tests.requests.test_browser import (
    JURISDICTION,
    SHARER_HOME,
    _log_in,
    _owner_with_clip,
    _session,
)

pytestmark = pytest.mark.browser

DOCUMENT = "ab" * 32


def _staff(server: LiveServer, email: str, role: Role) -> None:
    with server.state.db.session() as db:
        create_user(
            db,
            email=email,
            password=PASSWORD,
            display_name=role.value.title(),
            home=Coordinates(45.5, -122.6),
            cell_resolution=server.settings.public_cell_resolution,
            role=role,
        )


@pytest.fixture
def opened() -> Iterator[list[httpx.Client]]:
    """HTTP clients the test opens, closed afterwards whatever happens."""
    clients: list[httpx.Client] = []
    yield clients
    for client in clients:
        client.close()


def test_warrant_disclosure_reaches_the_owners_history(
    live_server: LiveServer, tracked_page: TrackedPage, tmp_path: Path, opened: list[httpx.Client]
) -> None:
    server = live_server
    owner = _owner_with_clip(server, "owner@example.org", "Owner", SHARER_HOME, tmp_path, opened)
    camera_id = owner.get("/api/v1/clips").json()["clips"][0]["camera_id"]
    chief = _session(server, "chief@ppb.example", "Chief", SHARER_HOME, opened)
    applied = chief.post(
        "/api/v1/agencies",
        json={
            "name": "Portland Police Bureau",
            "kind": "law_enforcement",
            "jurisdiction": JURISDICTION,
            "contact": "records@ppb.example",
        },
    )
    _staff(server, "admin@doorstep.example", Role.ADMIN)
    _staff(server, "reviewer@doorstep.example", Role.REVIEWER)
    admin = httpx.Client(base_url=server.url, timeout=30)
    opened.append(admin)
    session = admin.post(
        "/api/v1/session", json={"email": "admin@doorstep.example", "password": PASSWORD}
    )
    admin.headers["x-csrf-token"] = session.json()["csrf_token"]
    assert admin.post(f"/api/v1/agencies/{applied.json()['id']}/verify").status_code == 200

    # A reviewer records the warrant in the console and discloses what is in its scope.
    page = tracked_page.page
    _log_in(tracked_page, server, "reviewer@doorstep.example")
    page.get_by_test_id("nav-review").click()
    now = utcnow()
    fields = {
        "Court": "Multnomah County Circuit Court",
        "Reference": "2026-CR-118",
        "SHA-256 of the document": DOCUMENT,
        "Account (email)": "owner@example.org",
        "Camera ids (comma separated; not for a subpoena)": camera_id,
        # Typed in the browser's zone (the fixtures' browsers run in UTC), to the minute.
        "Window start (UTC)": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "Window end (UTC)": (now + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"),
    }
    for label, value in fields.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Record demand").click()
    expect(page.get_by_test_id("demand")).to_have_count(1)
    page.get_by_test_id("disclose-footage").click()
    expect(page.get_by_test_id("demand-disclosed")).to_have_text("1")

    # The same form refuses a demand without a document hash, in the form.
    page.get_by_label("SHA-256 of the document", exact=True).fill("not-a-hash")
    for label in ("Court", "Reference", "Account (email)"):
        page.get_by_label(label, exact=True).fill(fields[label])
    page.get_by_role("button", name="Record demand").click()
    expect(page.get_by_role("alert")).to_contain_text("SHA-256")
    page.get_by_test_id("logout").click()

    # The owner sees the disclosure in their history; the public sees it counted and logged.
    _log_in(tracked_page, server, "owner@example.org")
    page.goto(server.url + "/disclosures/legal")
    expect(page.get_by_test_id("legal-disclosure")).to_have_count(1)
    expect(page.get_by_test_id("legal-disclosure")).to_contain_text("Multnomah County")
    page.get_by_test_id("footer-transparency").click()
    expect(page.get_by_test_id("warrants")).to_have_text("1 / 0 / 0 / 0")
    page.goto(server.url + "/audit")
    expect(page.get_by_test_id("verify-command")).to_contain_text("doorstep audit verify")
    expect(page.get_by_test_id("audit-entries")).to_contain_text("legal_demand.disclose")
    assert tracked_page.foreign_requests(server.url) == []
    assert tracked_page.policy_violations() == []
