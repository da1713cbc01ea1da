"""The public-safety journey in browsers: verify, request, preview, share, download, disclose."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from doorstep.accounts.roles import Role
from doorstep.accounts.store import create_user
from doorstep.geo.cells import Coordinates
from doorstep.platform.types import utcnow
from tests.browser import SCREENSHOTS, LiveServer, TrackedPage
from tests.factories import PASSWORD
from tests.samples import tiny_clip, tiny_jpeg

pytestmark = pytest.mark.browser

JURISDICTION = {
    "type": "Polygon",
    "coordinates": [
        [[-122.72, 45.49], [-122.60, 45.49], [-122.60, 45.57], [-122.72, 45.57], [-122.72, 45.49]]
    ],
}
SHARER_HOME = {"lat": 45.52417, "lon": -122.67583}
DECLINER_HOME = {"lat": 45.52389, "lon": -122.67639}


def _session(
    server: LiveServer, email: str, name: str, home: dict[str, float], opened: list[httpx.Client]
) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=30)
    opened.append(client)
    body = {"email": email, "password": PASSWORD, "display_name": name, "home": home}
    assert client.post("/api/v1/accounts", json=body).status_code == 201
    session = client.post("/api/v1/session", json={"email": email, "password": PASSWORD})
    client.headers["x-csrf-token"] = session.json()["csrf_token"]
    return client


def _owner_with_clip(
    server: LiveServer,
    email: str,
    name: str,
    home: dict[str, float],
    folder: Path,
    opened: list[httpx.Client],
) -> httpx.Client:
    client = _session(server, email, name, home, opened)
    camera = client.post("/api/v1/cameras", json={"name": "Porch", "requests_opt_in": True})
    code = client.post(f"/api/v1/cameras/{camera.json()['id']}/pairing-code").json()["code"]
    token = client.post("/api/v1/devices/pair", json={"code": code}).json()["token"]
    start = utcnow() - timedelta(minutes=5)
    meta = {
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(seconds=2)).isoformat(),
        "peak_motion": 0.3,
        "labels": ["person"],
    }
    clip = tiny_clip(folder / f"{name}.mp4", frames=36)
    uploaded = client.post(
        "/api/v1/devices/clips",
        headers={"authorization": f"Bearer {token}"},
        data={"meta": json.dumps(meta)},
        files={"video": ("c.mp4", clip.read_bytes()), "snapshot": ("s.jpg", tiny_jpeg())},
    )
    assert uploaded.status_code == 201, uploaded.text
    return client


def _log_in(tracked: TrackedPage, server: LiveServer, email: str) -> None:
    page = tracked.page
    page.goto(server.url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"^(?!.*/login)"))


def _fill_request(tracked: TrackedPage, **fields: str) -> None:
    page = tracked.page
    now = utcnow()
    values = {
        "Case number": "PPB-2026-0042",
        "Incident type": "Burglary",
        "Description": "A side door was forced; anyone carrying a toolbox?",
        "Centre (latitude, longitude)": "45.5236, -122.6771",
        "Radius in metres": "300",
        "Footage from (UTC)": (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "Footage until (UTC)": (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"),
        **fields,
    }
    for label, value in values.items():
        page.get_by_label(label, exact=True).fill(value)
    page.locator("#offence_category").select_option("burglary")
    page.get_by_role("button", name="Send request").click()


def _refused(tracked: TrackedPage, reason: str, **fields: str) -> None:
    _fill_request(tracked, **fields)
    expect(tracked.page.get_by_test_id("refusal-reason")).to_have_text(f"Reason: {reason}")
    expect(tracked.page.get_by_role("alert")).to_be_visible()


def test_request_share_download_disclose(
    live_server: LiveServer,
    pages: dict[str, TrackedPage],
    api_clients: list[httpx.Client],
    tmp_path: Path,
) -> None:
    server = live_server
    sharer_api = _owner_with_clip(
        server, "sharer@example.org", "Sharer", SHARER_HOME, tmp_path, api_clients
    )
    decliner_api = _owner_with_clip(
        server, "decliner@example.org", "Decliner", DECLINER_HOME, tmp_path, api_clients
    )
    chief = _session(server, "chief@ppb.example", "Chief", SHARER_HOME, api_clients)
    # A street of opted-in cameras elsewhere in town, so the camera map has cells to show.
    street = _session(server, "street@example.org", "Street", SHARER_HOME, api_clients)
    for index in range(18):
        lat, lon = 45.540 + (index % 3) * 0.008, -122.650 + (index // 3) * 0.0003
        street.post(
            "/api/v1/cameras",
            json={
                "name": f"Cam {index}",
                "position": {"lat": lat, "lon": lon},
                "requests_opt_in": True,
            },
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

    # An admin verifies the agency.
    admin = pages["admin"]
    _log_in(admin, server, "admin@doorstep.example")
    admin.page.goto(server.url + "/admin/agencies")
    admin.page.get_by_role("button", name="Verify Portland Police Bureau").click()
    expect(admin.page.get_by_test_id("no-applications")).to_be_visible()

    # The agency sees its camera map and has three requests refused, with the reason.
    agency = pages["agency"]
    _log_in(agency, server, "chief@ppb.example")
    agency.page.get_by_role("link", name="Agency", exact=True).click()
    expect(agency.page.get_by_test_id("camera-map")).to_be_visible()
    expect(agency.page.get_by_test_id("map-cells")).to_have_text("3 area(s) shown.")
    _refused(agency, "area_too_large", **{"Radius in metres": "1000"})
    now = utcnow()
    _refused(
        agency,
        "window_too_long",
        **{"Footage from (UTC)": (now - timedelta(hours=14)).strftime("%Y-%m-%dT%H:%M")},
    )
    _refused(agency, "protest", Description="Footage of the protest march downtown")
    agency.page.screenshot(path=str(SCREENSHOTS / "agency-dashboard.png"), full_page=True)
    _fill_request(agency)
    expect(agency.page).to_have_url(re.compile(r"/rfa/[0-9a-f]+$"))
    rfa_id = agency.page.url.rsplit("/", 1)[1]
    # Two owners asked: fewer than k, so the number is withheld (I3).
    expect(agency.page.get_by_test_id("asked")).to_have_text("fewer than 5")
    agency.page.screenshot(path=str(SCREENSHOTS / "rfa.png"), full_page=True)

    # The owner finds the request in their inbox, previews the redacted clip, shares anonymously.
    sharer = pages["sharer"]
    _log_in(sharer, server, "sharer@example.org")
    sharer.page.get_by_role("link", name="Requests", exact=True).click()
    expect(sharer.page.get_by_test_id("request-item")).to_have_count(1)
    expect(sharer.page.locator("#inbox-map path.map-area")).to_have_count(1)
    sharer.page.get_by_role("link", name="Portland Police Bureau: Burglary").click()
    sharer.page.wait_for_function(
        "() => document.querySelector('[data-testid=preview]').readyState >= 1", timeout=30000
    )
    sharer.page.screenshot(path=str(SCREENSHOTS / "owner-inbox.png"), full_page=True)
    sharer.page.get_by_role("checkbox").check()
    sharer.page.get_by_role("button", name="Share selected clips").click()
    expect(sharer.page.get_by_test_id("answer-state")).to_have_text("shared", timeout=30000)

    # Another owner declines.
    decliner = pages["decliner"]
    _log_in(decliner, server, "decliner@example.org")
    decliner.page.goto(server.url + f"/requests/{rfa_id}")
    decliner.page.get_by_role("button", name="Decline").click()
    expect(decliner.page.get_by_test_id("answer-state")).to_have_text("declined")

    # The agency sees one anonymous share, downloads it, and cannot tell who declined.
    agency.page.goto(server.url + "/agency/evidence")
    expect(agency.page.get_by_test_id("evidence-item")).to_have_count(1)
    expect(agency.page.get_by_test_id("shared-by")).to_have_text("Shared anonymously")
    with agency.page.expect_download() as download_info:
        agency.page.get_by_test_id("download").click()
    saved = tmp_path / "evidence.mp4"
    download_info.value.save_as(saved)
    digest = hashlib.sha256(saved.read_bytes()).hexdigest()
    record = chief.get(f"/api/v1/evidence/hash/{digest}")
    assert record.status_code == 200
    agency.page.goto(server.url + f"/rfa/{rfa_id}")
    # One owner shared: below k, so the record says only that (I3).
    expect(agency.page.get_by_test_id("shared")).to_have_text("fewer than 5")
    seen = agency.page.content()
    agency.page.goto(server.url + "/agency/evidence")
    seen += agency.page.content()
    for person in (sharer_api.get("/api/v1/me").json(), decliner_api.get("/api/v1/me").json()):
        for value in (person["id"], person["email"], person["display_name"]):
            assert value not in seen
    # Only the two aggregate numbers: nothing splits "declined" from "did not answer".
    assert re.findall(r'data-testid="(asked|shared|declined|pending)"', seen) == ["asked", "shared"]

    # The owner sees the download in their disclosure history and can no longer withdraw.
    sharer.page.goto(server.url + "/disclosures")
    expect(sharer.page.get_by_test_id("share-state")).to_have_text("downloaded")
    expect(sharer.page.get_by_test_id("accesses")).to_contain_text(
        "Portland Police Bureau downloaded it"
    )
    expect(sharer.page.get_by_role("button", name="Withdraw this share")).to_have_count(0)

    for tracked in pages.values():
        assert tracked.foreign_requests(server.url) == []
        assert tracked.policy_violations() == []
