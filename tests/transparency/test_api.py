"""The public transparency report and audit log: counts equal the events; tampering shows."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from doorstep.accounts.roles import Role
from doorstep.platform.types import utcnow
from doorstep.transparency.merkle import verify_consistency
from doorstep.transparency.models import AuditEntry
from doorstep.transparency.rules import half_year
from doorstep.transparency.verify import verify_server
from tests.agencies.test_api import app_state, owner_with_clip, staff
from tests.legal.test_api import disclose, record, scene
from tests.legal.test_api_emergency import decide, file
from tests.requests.test_api import DECLINER, SHARER, _answer, _created, post_rfa


def overall(client: TestClient) -> dict[str, Any]:
    """This half-year's overall row of the JSON report, read with no login."""
    report = client.get("/api/v1/transparency").json()
    row: dict[str, Any]
    [row] = [r for r in report["periods"] if r["agency_id"] == "*"]
    assert row["period"] == half_year(utcnow())
    return row


def test_report_counts_equal_the_recorded_events(app: FastAPI, client: TestClient) -> None:
    s = scene(app)
    sharer, sharer_csrf, sharer_clip = owner_with_clip(app, "sharer@example.org", position=SHARER)
    owner_with_clip(app, "decliner@example.org", position=DECLINER)
    rfa = _created(post_rfa(s.agency, s.agency_csrf))
    shared = _answer(sharer, sharer_csrf, rfa["id"], decision="share", clip_ids=[sharer_clip])
    assert shared.status_code == 200, shared.text
    warrant = record(s)
    assert disclose(s, warrant["id"], clip_ids=[s.clip_id]).status_code == 200
    s.reviewer.post(
        f"/api/v1/legal/demands/{warrant['id']}/close",
        json={"outcome": "complied_full"},
        headers={"x-csrf-token": s.reviewer_csrf},
    )
    subpoena = record(s, kind="subpoena", device_ids=[], window_start=None, window_end=None)
    s.reviewer.post(
        f"/api/v1/legal/demands/{subpoena['id']}/close",
        json={"outcome": "rejected"},
        headers={"x-csrf-token": s.reviewer_csrf},
    )
    second, second_csrf = staff(app, "second@doorstep.example", Role.REVIEWER)
    granted = file(s).json()["id"]
    decide(s.reviewer, s.reviewer_csrf, granted, "approve")
    decide(second, second_csrf, granted, "approve")
    refused = file(s).json()["id"]
    decide(second, second_csrf, refused, "refuse", reason="Not an emergency.")

    row = overall(client)
    # The request reached 3 owners, fewer than k = 5: it is not summed, only counted (I3); its
    # one share is withheld as the request's own page withholds it.
    withheld = {"at_least": 0, "at_most": 4, "label": "fewer than 5"}
    assert (row["rfas"], row["owners_reached"], row["clips_shared"]) == (1, 0, withheld)
    assert row["owners_shared"] == withheld
    assert row["rfas_reach_withheld"] == 1
    assert row["share_rate"] == 0.0
    assert (row["warrants_received"], row["warrants_complied_full"]) == (1, 1)
    assert (row["subpoenas_received"], row["subpoenas_rejected"]) == (1, 1)
    assert row["court_orders_received"] == 0
    assert (row["emergency_received"], row["emergency_granted"], row["emergency_refused"]) == (
        2,
        1,
        1,
    )
    assert row["owners_affected"] == {"warrant": 1, "emergency": 1}
    assert row["agencies_onboarded"] == 1
    agencies = client.get("/api/v1/transparency").json()["agencies"]
    assert agencies[s.agency_id] == "Portland Police Bureau"

    table = list(csv.DictReader(io.StringIO(client.get("/api/v1/transparency.csv").text)))
    [csv_row] = [r for r in table if r["agency_id"] == "*"]
    assert (csv_row["rfas"], csv_row["warrants_received"], csv_row["emergency_granted"]) == (
        "1",
        "1",
        "1",
    )
    assert csv_row["owners_affected_emergency"] == "1"
    assert (csv_row["clips_shared"], csv_row["owners_shared"]) == ("fewer than 5", "fewer than 5")
    [agency_row] = [r for r in table if r["agency_id"] == s.agency_id]
    assert agency_row["agency_name"] == "Portland Police Bureau"

    page = client.get("/transparency")
    assert page.status_code == 200
    assert "<svg" in page.text
    assert 'data-testid="warrants">1 / 1 / 0 / 0<' in page.text
    assert 'data-testid="emergencies">2 / 1 / 1<' in page.text
    assert 'data-testid="clips-shared">fewer than 5<' in page.text


def test_an_empty_report_is_still_public(client: TestClient) -> None:
    assert client.get("/api/v1/transparency").json() == {
        "periods": [],
        "agencies": {"*": "All agencies"},
        "emergencies_published": [],
        "emergencies_awaiting": 0,
        "emergency_publication_delay_days": 30,
    }
    assert client.get("/transparency").status_code == 200


def test_audit_verify_passes_and_published_heads_stay_consistent(
    app: FastAPI, client: TestClient
) -> None:
    s = scene(app)
    demand = record(s)
    first = client.get("/api/v1/audit/heads").json()
    disclose(s, demand["id"], clip_ids=[s.clip_id])
    history = client.get("/api/v1/audit/heads").json()
    sizes = [head["size"] for head in history["heads"]]
    assert sizes == sorted(set(sizes))
    [earlier] = [h for h in history["heads"] if h["size"] == first["heads"][-1]["size"]]
    latest = history["heads"][-1]
    assert latest["size"] > earlier["size"] > 0
    proof = client.get(earlier["consistency_url"]).json()["proof"]
    assert verify_consistency(
        earlier["size"],
        latest["size"],
        bytes.fromhex(earlier["root"]),
        bytes.fromhex(latest["root"]),
        [bytes.fromhex(h) for h in proof],
    )
    report = verify_server(client)
    assert report.ok, report.problem
    actions = [e["body"] for e in client.get("/api/v1/audit/entries").json()]
    for action in ("legal_demand.record", "legal_demand.disclose"):
        assert any(f'"action":"{action}"' in body for body in actions)
    page = client.get("/audit")
    assert "doorstep audit verify --server" in page.text
    assert latest["root"] in page.text
    assert s.owner_id not in page.text


def test_audit_verify_catches_an_edited_disclosure_entry(app: FastAPI, client: TestClient) -> None:
    s = scene(app)
    demand = record(s)
    disclose(s, demand["id"], clip_ids=[s.clip_id])
    with app_state(app).db.session() as db:
        entry = db.scalars(
            select(AuditEntry).where(AuditEntry.action == "legal_demand.disclose")
        ).one()
        entry.body = entry.body.replace('"redacted":true', '"redacted":false')
    report = verify_server(client)
    assert not report.ok
    assert "does not match its leaf hash" in report.problem
