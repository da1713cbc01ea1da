"""Partnership programmes: published with full terms, refused when a benefit buys footage."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.agencies.test_api import verified_agency
from tests.factories import resident

FAIR_TERMS = (
    "Fifty doorbells for households in the Lents neighbourhood, one per household. "
    "Sharing footage is never required."
)


def publish(client: TestClient, csrf: str, **overrides: Any) -> Any:
    """Submit a programme as an agency admin."""
    body: dict[str, Any] = {
        "name": "Lents doorbell donation",
        "kind": "donated_devices",
        "terms_text": FAIR_TERMS,
        "conditions": ["one_per_household"],
    }
    body.update(overrides)
    return client.post("/api/v1/partnerships", json=body, headers={"x-csrf-token": csrf})


def test_a_fair_programme_is_published_with_its_terms(app: FastAPI, client: TestClient) -> None:
    agency, csrf, agency_id = verified_agency(app)
    published = publish(agency, csrf)
    assert published.status_code == 201, published.text
    assert published.json()["status"] == "published"
    listed = client.get(f"/api/v1/agencies/{agency_id}/partnerships").json()
    assert [(p["name"], p["terms_text"]) for p in listed] == [
        ("Lents doorbell donation", FAIR_TERMS)
    ]
    page = client.get(f"/agencies/{agency_id}/partnerships")
    assert page.status_code == 200
    assert "Sharing footage is never required." in page.text


@pytest.mark.parametrize(
    "overrides",
    [
        {"conditions": ["share_footage"]},
        {"conditions": ["paid_plan"]},
        {"conditions": ["join_request_programme"]},
        {
            "conditions": [],
            "terms_text": "Residents must agree to share footage with police to get a doorbell.",
        },
        {
            "kind": "discount_codes",
            "conditions": [],
            "terms_text": "The discount is only for residents who subscribe to a paid plan.",
        },
    ],
)
def test_a_programme_that_buys_footage_or_money_is_refused(
    app: FastAPI, client: TestClient, overrides: dict[str, Any]
) -> None:
    agency, csrf, agency_id = verified_agency(app)
    refused = publish(agency, csrf, **overrides)
    assert refused.status_code == 422
    assert refused.json()["reason"] == "conditional_benefit"
    assert "may not depend on" in refused.json()["detail"]
    assert client.get(f"/api/v1/agencies/{agency_id}/partnerships").json() == []
    actions = [e["body"] for e in client.get("/api/v1/audit/entries").json()]
    assert any('"action":"partnership.refuse"' in body for body in actions)


def test_only_agency_admins_publish(client: TestClient) -> None:
    csrf = resident(client, "neighbour@example.org")
    assert publish(client, csrf).status_code == 403
