"""Request policy: only local agencies ask, every request names an offence category (I10)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from markupsafe import escape

from doorstep.accounts.roles import Role
from doorstep.errors import InvalidInput, PolicyRefused
from doorstep.requests.models import Share
from doorstep.requests.rules import check_agency_may_request, check_rfa
from doorstep.requests.rules_policy import OFFENCE_CATEGORIES, REQUESTING_LEVELS
from doorstep.requests.rules_terms import ONWARD_USE_TERMS, TERMS_VERSION
from tests.agencies.test_api import JURISDICTION, app_state, owner_with_clip, staff, verified_agency
from tests.factories import resident
from tests.requests.test_api import _answer, post_rfa
from tests.requests.test_rules import JURISDICTION as RULES_JURISDICTION
from tests.requests.test_rules import NOW, draft


def test_only_local_agencies_may_request_by_rule() -> None:
    assert {"local"} == REQUESTING_LEVELS
    check_agency_may_request("local")
    for level in ("state", "federal", "", "LOCAL"):
        with pytest.raises(PolicyRefused) as refused:
            check_agency_may_request(level)
        assert refused.value.extra["reason"] == "agency_level"


@pytest.mark.parametrize("category", ["", "  ", "jaywalking", "immigration", "Burglary"])
def test_a_request_outside_the_public_categories_is_refused(category: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_rfa(
            draft(offence_category=category),
            jurisdiction=RULES_JURISDICTION,
            existing_for_case=0,
            now=NOW,
        )
    assert refused.value.field == "offence_category"


def test_every_public_category_is_accepted_and_kept() -> None:
    for key, _label in OFFENCE_CATEGORIES:
        checked = check_rfa(
            draft(offence_category=key),
            jurisdiction=RULES_JURISDICTION,
            existing_for_case=0,
            now=NOW,
        )
        assert checked.offence_category == key


def _agency(app: FastAPI, email: str, name: str, *, applied: str, verified: str | None) -> Any:
    """An agency applied for at ``applied`` and verified at ``verified``: (client, csrf, id)."""
    client = TestClient(app)
    csrf = resident(client, email, display_name="Chief")
    body = {
        "name": name,
        "kind": "law_enforcement",
        "level": applied,
        "jurisdiction": JURISDICTION,
        "contact": "records@example.org",
    }
    response = client.post("/api/v1/agencies", json=body, headers={"x-csrf-token": csrf})
    assert response.status_code == 201, response.text
    agency = response.json()
    assert agency["level"] == applied
    admin, admin_csrf = staff(app, f"admin-{agency['id']}@doorstep.example", Role.ADMIN)
    done = admin.post(
        f"/api/v1/agencies/{agency['id']}/verify",
        json={"level": verified} if verified else None,
        headers={"x-csrf-token": admin_csrf},
    )
    assert done.status_code == 200, done.text
    return client, csrf, done.json()


def test_a_state_agency_is_refused_with_its_reason(app: FastAPI) -> None:
    client, csrf, agency = _agency(
        app, "trooper@state.example", "Oregon State Police", applied="state", verified=None
    )
    assert agency["level"] == "state"
    refused = post_rfa(client, csrf)
    assert refused.status_code == 422, refused.text
    assert refused.json()["reason"] == "agency_level"
    assert "only local agencies" in refused.json()["detail"]
    assert client.get("/api/v1/requests").json() == []
    page = client.get("/agency")
    assert 'data-testid="level-refusal"' in page.text


def test_the_reviewer_s_level_is_the_one_that_counts(app: FastAPI) -> None:
    """An applicant claiming "local" for a state agency is corrected at verification."""
    client, csrf, agency = _agency(
        app, "trooper@state.example", "Oregon State Patrol", applied="local", verified="state"
    )
    assert agency["level"] == "state"
    assert post_rfa(client, csrf).json()["reason"] == "agency_level"


def test_a_federal_level_is_refused_at_application(app: FastAPI) -> None:
    client = TestClient(app)
    csrf = resident(client, "agent@example.org", display_name="Agent")
    body = {
        "name": "Northwest Task Force",
        "kind": "law_enforcement",
        "level": "federal",
        "jurisdiction": JURISDICTION,
        "contact": "records@example.org",
    }
    response = client.post("/api/v1/agencies", json=body, headers={"x-csrf-token": csrf})
    assert response.status_code == 422, response.text
    assert response.json()["reason"] == "federal_agency"
    bogus = client.post(
        "/api/v1/agencies", json={**body, "level": "galactic"}, headers={"x-csrf-token": csrf}
    )
    assert bogus.status_code == 422


def test_a_local_agency_s_request_shows_and_counts_its_category(app: FastAPI) -> None:
    client, csrf, agency = _agency(
        app, "chief@ppb.example", "Portland Police Bureau", applied="local", verified="local"
    )
    assert agency["level"] == "local"
    missing = post_rfa(client, csrf, offence_category=None)
    assert missing.status_code == 422
    unlisted = post_rfa(client, csrf, offence_category="loitering")
    assert unlisted.status_code == 422
    assert unlisted.json()["field"] == "offence_category"
    created = post_rfa(client, csrf, offence_category="vehicle_crime")
    assert created.status_code == 201, created.text
    rfa = created.json()
    assert rfa["offence_category"] == "vehicle_crime"
    assert rfa["offence_label"] == "Vehicle theft or break-in"
    page = TestClient(app).get(f"/rfa/{rfa['id']}")
    assert "Vehicle theft or break-in" in page.text
    policy = TestClient(app).get("/request-policy")
    assert policy.status_code == 200
    assert 'data-testid="count-vehicle_crime">1<' in policy.text
    assert 'data-testid="count-burglary">0<' in policy.text
    assert all(str(escape(term)) in policy.text for term in ONWARD_USE_TERMS)


def test_every_share_carries_its_onward_use_terms(app: FastAPI) -> None:
    owner, owner_csrf, clip_id = owner_with_clip(app, "sharer@example.org")
    agency, csrf, _agency_id = verified_agency(app)
    rfa = post_rfa(agency, csrf).json()
    # The owner reads the terms before sharing, on the page they share from.
    before = owner.get(f"/requests/{rfa['id']}")
    assert 'data-testid="share-terms"' in before.text
    assert all(str(escape(term)) in before.text for term in ONWARD_USE_TERMS)
    shared = _answer(owner, owner_csrf, rfa["id"], decision="share", clip_ids=[clip_id])
    assert shared.status_code == 200, shared.text
    (mine,) = shared.json()["shares"]
    assert mine["terms_version"] == TERMS_VERSION
    assert mine["terms"] == list(ONWARD_USE_TERMS)
    with app_state(app).db.session() as db:
        row = db.get(Share, mine["id"])
        assert row is not None
        assert row.terms_version == TERMS_VERSION
    (item,) = agency.get("/api/v1/evidence").json()
    assert item["terms_version"] == TERMS_VERSION
    assert item["terms"] == list(ONWARD_USE_TERMS)
    locker = agency.get("/agency/evidence")
    assert 'data-testid="onward-terms"' in locker.text
    assert f"version {TERMS_VERSION}" in locker.text
