"""Requests for footage near the owner's cameras and every disclosure notice are pushed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI

from doorstep.legal.service_disclose import send_due_notices
from doorstep.platform.types import utcnow
from doorstep.settings import Settings
from tests.agencies.test_api import app_state
from tests.legal.test_api import disclose, record, scene
from tests.notify.devices import subscribe, with_loopback
from tests.notify.push_service import PushService
from tests.requests.test_api import post_rfa

pytestmark = pytest.mark.usefixtures("client")


@pytest.fixture
def database_url(engine_database_url: str) -> str:
    """One database: the devices' storage is tested on both in test_push_api.py."""
    return engine_database_url


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return with_loopback(settings)


def test_a_request_nearby_and_a_delayed_disclosure_notice_reach_the_phone(
    app: FastAPI, push_service: PushService
) -> None:
    s = scene(app)
    phone = subscribe(s.owner, s.owner_csrf, push_service.subscription())
    assert phone.status_code == 201, phone.text

    posted = post_rfa(s.agency, s.agency_csrf)
    assert posted.status_code == 201, posted.text
    (asked,) = push_service.wait_for(1)
    assert asked.payload["type"] == "rfa"
    assert asked.payload["url"] == f"/requests/{posted.json()['id']}"
    assert asked.headers["ttl"] == "3600"

    demand = record(s)
    ends = utcnow() + timedelta(days=3)
    ordered = s.reviewer.post(
        f"/api/v1/legal/demands/{demand['id']}/non-disclosure-order",
        json={"ends_at": ends.isoformat()},
        headers={"x-csrf-token": s.reviewer_csrf},
    )
    assert ordered.status_code == 200, ordered.text
    assert disclose(s, demand["id"], clip_ids=[s.clip_id]).status_code == 200
    # The order ends: the periodic job tells the owner, on the phone too.
    assert send_due_notices(app_state(app), now=ends + timedelta(minutes=1)) == 1
    pushed = push_service.wait_for(2)
    told = pushed[1].payload
    assert told["type"] == "disclosure"
    assert told["url"] == "/disclosures/legal"
    assert pushed[1].headers["ttl"] == "86400"
    # Only these two: the disclosure under the order said nothing until it ended.
    assert [r.payload["type"] for r in push_service.received] == ["rfa", "disclosure"]
