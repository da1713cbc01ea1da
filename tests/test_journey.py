"""The whole journey in real browsers, with a real camera agent, and nothing from another origin.

Owner signs up → pairs a camera → the agent records a clip from a rendered doorstep → it plays →
an agency posts a Request for Assistance → the owner previews the redacted clip and shares it
anonymously → the agency sees it without the owner's identity and downloads it → the owner sees
the download → the public transparency page counts it → `doorstep audit verify` passes.
"""

from __future__ import annotations

import hashlib
import re
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from doorstep.accounts.roles import Role
from doorstep.accounts.store import create_user
from doorstep.agent.cli import main_agent
from doorstep.geo.cells import Coordinates
from doorstep.media.synthetic import render_visit
from doorstep.platform.types import utcnow
from doorstep.transparency.verify import verify_url
from tests.browser import SCREENSHOTS, LiveServer, TrackedPage
from tests.factories import PASSWORD, settle_jobs
from tests.requests.test_browser import JURISDICTION, _fill_request, _log_in, _session

pytestmark = pytest.mark.browser
HOME = "45.5236, -122.6771"


def test_the_whole_journey(
    live_server: LiveServer,
    pages: dict[str, TrackedPage],
    api_clients: list[httpx.Client],
    tmp_path: Path,
) -> None:
    server = live_server
    owner = pages["sharer"]
    started = time.monotonic()

    # The owner signs up and adds a camera that accepts requests.
    owner.page.goto(server.url + "/signup")
    owner.page.get_by_label("Email").fill("owner@example.org")
    owner.page.get_by_label("Display name").fill("Avery")
    owner.page.get_by_label("Password").fill(PASSWORD)
    owner.page.get_by_label("Home location").fill(HOME)
    owner.page.get_by_role("button", name="Create account").click()
    # Sign-up never logs in (it would tell a new email from a taken one): log in next.
    owner.page.get_by_label("Email").fill("owner@example.org")
    owner.page.get_by_label("Password").fill(PASSWORD)
    owner.page.get_by_role("button", name="Log in").click()
    owner.page.get_by_role("link", name="Cameras").click()
    owner.page.get_by_label("Name").fill("Front door")
    owner.page.get_by_label("Let police and fire Requests for Assistance reach me").check()
    owner.page.get_by_role("button", name="Add camera").click()
    owner.page.get_by_role("button", name="Make a pairing code").click()
    code = owner.page.get_by_test_id("pairing-code").inner_text()

    # A real agent pairs with the code and records the rendered doorstep.
    agent_dir = tmp_path / "agent"
    pair = ["pair", "--server", server.url, "--code", code, "--state-dir", str(agent_dir)]
    assert main_agent(pair) == 0
    footage = render_visit(tmp_path / "doorstep.mp4", seconds=14, width=480, height=270)
    run = ["--state-dir", str(agent_dir), "--source", str(footage), "--no-realtime", "--once"]
    assert main_agent(run) == 0
    recorded_at = utcnow()

    owner.page.goto(server.url + "/clips")
    owner.page.get_by_test_id("clip-list").get_by_role("link").first.click()
    owner.page.wait_for_function("() => document.querySelector('video').readyState >= 1")
    assert owner.page.evaluate("document.querySelector('video').duration") > 5
    after_clip = time.monotonic() - started

    # A verified police agency.
    chief = _session(
        server, "chief@ppb.example", "Chief", {"lat": 45.5, "lon": -122.6}, api_clients
    )
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
    admin = pages["admin"]
    _log_in(admin, server, "admin@doorstep.example")
    admin.page.goto(server.url + "/admin/agencies")
    admin.page.get_by_role("button", name="Verify Portland Police Bureau").click()
    expect(admin.page.get_by_test_id("no-applications")).to_be_visible()

    # The request's window is whole minutes and must be over: wait for the clip's minute to end
    # (less the time the agency's verification above already took).
    minute_over = recorded_at.replace(second=0, microsecond=0) + timedelta(minutes=1, seconds=1)
    time.sleep(max(0.0, (minute_over - utcnow()).total_seconds()))
    now = utcnow()
    agency = pages["agency"]
    _log_in(agency, server, "chief@ppb.example")
    agency.page.goto(server.url + "/agency")
    _fill_request(
        agency,
        **{
            "Centre (latitude, longitude)": HOME,
            "Footage until (UTC)": now.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    expect(agency.page).to_have_url(re.compile(r"/rfa/[0-9a-f]+$"))
    rfa_id = agency.page.url.rsplit("/", 1)[1]

    # The owner previews the redacted clip and shares it anonymously.
    owner.page.goto(server.url + "/requests")
    owner.page.get_by_role("link", name="Portland Police Bureau: Burglary").click()
    owner.page.wait_for_function(
        "() => document.querySelector('[data-testid=preview]').readyState >= 1", timeout=60000
    )
    owner.page.get_by_role("checkbox").first.check()
    owner.page.get_by_role("button", name="Share selected clips").click()
    expect(owner.page.get_by_test_id("answer-state")).to_have_text("shared", timeout=60000)
    # With a task queue (the scale-out profile) a worker makes the agency's copy after the answer.
    settle_jobs(server.app)

    # The agency sees the share without the owner's identity, and downloads it.
    agency.page.goto(server.url + "/agency/evidence")
    expect(agency.page.get_by_test_id("shared-by")).to_have_text("Shared anonymously")
    for value in ("owner@example.org", "Avery", HOME.split(",")[0]):
        assert value not in agency.page.content()
    with agency.page.expect_download() as download_info:
        agency.page.get_by_test_id("download").click()
    saved = tmp_path / "evidence.mp4"
    download_info.value.save_as(saved)
    digest = hashlib.sha256(saved.read_bytes()).hexdigest()
    assert chief.get(f"/api/v1/evidence/hash/{digest}").status_code == 200
    agency.page.goto(server.url + f"/rfa/{rfa_id}")
    # One share among a handful of cameras is below k: the agency sees a range, never the count.
    expect(agency.page.get_by_test_id("shared")).to_have_text("fewer than 5")

    # The owner sees the download in their disclosure history.
    owner.page.goto(server.url + "/disclosures")
    expect(owner.page.get_by_test_id("share-state")).to_have_text("downloaded")
    owner.page.screenshot(path=str(SCREENSHOTS / "disclosures.png"), full_page=True)

    # The public transparency page counts it, and the audit log verifies.
    public = pages["decliner"]
    public.page.goto(server.url + "/transparency")
    # One clip shared with a request is below k: the report withholds it as the request does.
    expect(public.page.get_by_test_id("clips-shared").first).to_have_text("fewer than 5")
    expect(public.page.get_by_test_id("rfas").first).to_have_text("1")
    public.page.screenshot(path=str(SCREENSHOTS / "transparency.png"), full_page=True)
    report = verify_url(server.url)
    assert report.ok, report.problem
    assert report.size > 0

    for tracked in pages.values():
        assert tracked.foreign_requests(server.url) == []
        assert tracked.policy_violations() == []
    # For the record in the test log: how long the journey's parts took.
    print(
        f"journey: clip playing after {after_clip:.1f} s, whole journey "
        f"{time.monotonic() - started:.1f} s"
    )
