"""Decided emergency requests on the transparency page and in the JSON report, with no resident.

The delay is 0 days here, so what holds publication back is only the rule that owners are told
first; tests/hostile/test_legal_policy.py checks the default delay.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from doorstep.accounts.roles import Role
from doorstep.platform.types import utcnow
from doorstep.settings import Settings
from tests.agencies.test_api import staff
from tests.legal.test_api import Scene, scene
from tests.legal.test_api_emergency import ATTESTATION, decide, file

pytestmark = pytest.mark.usefixtures("client")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The usual test settings, publishing as soon as the rules allow."""
    return settings.model_copy(update={"emergency_publication_delay_days": 0})


def _published(client: TestClient) -> list[dict[str, object]]:
    report = client.get("/api/v1/transparency").json()
    assert report["emergency_publication_delay_days"] == 0
    entries: list[dict[str, object]] = report["emergencies_published"]
    return entries


def test_an_approved_emergency_is_published_once_over_without_any_resident(app: FastAPI) -> None:
    s = scene(app)
    second, second_csrf = staff(app, "second@doorstep.example", Role.REVIEWER)
    request_id = file(s, category="abduction").json()["id"]
    decide(s.reviewer, s.reviewer_csrf, request_id, "approve")
    assert decide(second, second_csrf, request_id, "approve").json()["disclosed"] == 1
    # Approved and disclosed, but the owner has not been told: nothing public yet.
    assert _published(s.owner) == []
    assert decide(s.agency, s.agency_csrf, request_id, "over").status_code == 200
    [entry] = _published(s.owner)
    assert entry["category"] == "abduction"
    assert (entry["outcome"], entry["reviewers"], entry["footage_disclosed"]) == (
        "approved",
        2,
        True,
    )
    agency_name = s.agency.get(f"/api/v1/emergencies/{request_id}").json()["agency_name"]
    assert entry["agency_name"] == agency_name
    text = json.dumps(entry)
    for secret in (s.owner_id, s.camera_id, s.clip_id, "PPB-2026-0911", ATTESTATION, request_id):
        assert secret not in text
    page = s.owner.get("/transparency").text
    assert page.count('data-testid="emergency-published"') == 1
    assert "abduction" in page
    assert "PPB-2026-0911" not in page
    assert s.camera_id not in page


def test_a_refused_emergency_is_published_too(app: FastAPI) -> None:
    s = scene(app)
    request_id = file(s).json()["id"]
    assert _published(s.owner) == []
    refused = decide(s.reviewer, s.reviewer_csrf, request_id, "refuse", reason="No danger shown.")
    assert refused.status_code == 200, refused.text
    [entry] = _published(s.owner)
    assert (entry["category"], entry["outcome"], entry["footage_disclosed"]) == (
        "other",
        "refused",
        False,
    )
    assert "No danger shown." not in json.dumps(entry)


def test_the_public_filing_entry_does_not_say_the_category(app: FastAPI) -> None:
    s = scene(app)
    assert file(s, category="abduction").status_code == 201
    bodies = [json.loads(e["body"]) for e in s.owner.get("/api/v1/audit/entries").json()]
    [filed] = [b for b in bodies if b["action"] == "emergency.file"]
    # Published at once, the category would defeat the delay the published list keeps.
    assert "category" not in filed["detail"]
    assert "abduction" not in json.dumps(bodies)


def test_an_unknown_category_is_refused(app: FastAPI) -> None:
    s = scene(app)
    refused = file(s, category="protest")
    assert refused.status_code == 422
    assert _published(s.owner) == []


def _form(s: Scene, category: str) -> dict[str, str]:
    now = utcnow()
    return {
        "csrf_token": s.agency_csrf,
        "case_number": "PPB-2026-0915",
        "device_ids": s.camera_id,
        "window_start": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "window_end": now.strftime("%Y-%m-%dT%H:%M"),
        "attestation": ATTESTATION,
        "category": category,
    }


def test_the_agency_states_the_kind_of_emergency_on_its_form(app: FastAPI) -> None:
    s = scene(app)
    desk = s.agency.get("/agency/legal").text
    assert '<label for="category">' in desk
    assert '<option value="fire">fire</option>' in desk
    refused = s.agency.post("/agency/emergencies", data=_form(s, "protest"), follow_redirects=False)
    assert refused.status_code == 422
    assert "Choose the kind of emergency" in refused.text
    filed = s.agency.post("/agency/emergencies", data=_form(s, "fire"), follow_redirects=False)
    assert filed.status_code == 303, filed.text
    [row] = s.agency.get("/api/v1/emergencies").json()
    assert row["category"] == "fire"
    assert "fire" in s.reviewer.get("/review").text
