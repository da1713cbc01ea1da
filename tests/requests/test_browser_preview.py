"""The owner's page shows a preview's progress while its job runs, then swaps the video in."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from doorstep.accounts.roles import Role
from doorstep.accounts.store import create_user
from doorstep.geo.cells import Coordinates
from tests.browser import LiveServer, TrackedPage
from tests.factories import PASSWORD
from tests.requests.test_api import rfa_body
from tests.requests.test_browser import (
    JURISDICTION,
    SHARER_HOME,
    _log_in,
    _owner_with_clip,
    _session,
)
from tests.requests.test_previews import _fake_redaction

pytestmark = pytest.mark.browser


def _verified_agency(server: LiveServer, opened: list[httpx.Client]) -> httpx.Client:
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
    assert applied.status_code == 201, applied.text
    with server.state.db.session() as db:
        create_user(
            db,
            email="admin@doorstep.example",
            password=PASSWORD,
            display_name="Admin",
            home=Coordinates(45.5, -122.6),
            cell_resolution=server.settings.public_cell_resolution,
            role=Role.ADMIN,
        )
    admin = httpx.Client(base_url=server.url, timeout=30)
    opened.append(admin)
    session = admin.post(
        "/api/v1/session", json={"email": "admin@doorstep.example", "password": PASSWORD}
    )
    admin.headers["x-csrf-token"] = session.json()["csrf_token"]
    verified = admin.post(f"/api/v1/agencies/{applied.json()['id']}/verify")
    assert verified.status_code == 200, verified.text
    return chief


def test_the_page_shows_the_progress_then_the_video(
    live_server: LiveServer,
    tracked_page: TrackedPage,
    api_clients: list[httpx.Client],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = live_server
    release = threading.Event()

    def halfway(progress: Any) -> None:
        progress(4, 10)
        assert release.wait(60)

    # The server runs in this process: its preview job blurs nothing until the test lets it.
    _fake_redaction(monkeypatch, halfway)
    _owner_with_clip(server, "sharer@example.org", "Sharer", SHARER_HOME, tmp_path, api_clients)
    chief = _verified_agency(server, api_clients)
    posted = chief.post("/api/v1/requests", json=rfa_body(centre=SHARER_HOME))
    assert posted.status_code == 201, posted.text
    try:
        _log_in(tracked_page, server, "sharer@example.org")
        page = tracked_page.page
        page.goto(f"{server.url}/requests/{posted.json()['id']}")
        progress = page.get_by_test_id("preview-progress")
        expect(progress).to_have_text("Preparing the redacted preview… 40%", timeout=30000)
        expect(page.get_by_test_id("preview")).to_be_hidden()
    finally:
        release.set()
    expect(page.get_by_test_id("preview")).to_be_visible(timeout=60000)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=preview]').readyState >= 1", timeout=60000
    )
    expect(progress).to_have_count(0)
    assert tracked_page.policy_violations() == []
    assert tracked_page.foreign_requests(server.url) == []
