"""Legal policy under attack: indoor cameras and the publication of emergency requests.

An unnamed warrant never reaches an indoor camera, no emergency reaches one at all, and an
emergency disclosure is never published before its delay (nor before its owners are told).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI

from doorstep.accounts.roles import Role
from doorstep.legal import service_published
from doorstep.platform.types import utcnow
from tests.agencies.test_api import app_state, staff
from tests.legal.test_api import Scene, disclose, record, scene
from tests.legal.test_api_emergency import decide, file

pytestmark = pytest.mark.usefixtures("client")


def _nothing_left(s: Scene) -> None:
    assert s.agency.get("/api/v1/evidence/disclosures").json() == []
    assert s.owner.get("/api/v1/me/disclosures/legal").json() == []


def _set_indoor(s: Scene) -> None:
    changed = s.owner.patch(
        f"/api/v1/cameras/{s.camera_id}",
        json={"indoor": True},
        headers={"x-csrf-token": s.owner_csrf},
    )
    assert changed.status_code == 200, changed.text


@pytest.mark.parametrize("kind", ["warrant", "court_order"])
def test_an_unnamed_demand_never_discloses_an_indoor_camera_by_any_path(
    app: FastAPI, kind: str
) -> None:
    s = scene(app)
    _set_indoor(s)
    demand = record(s, kind=kind, covers_footage=True, allows_unredacted=True)
    for body in ({}, {"clip_ids": [s.clip_id]}, {"clip_ids": [s.clip_id], "unredacted": True}):
        answer = disclose(s, demand["id"], **body)
        assert answer.status_code in (200, 422), answer.text
        assert answer.status_code == 422 or answer.json() == []
    # The reviewer console's "disclose everything in scope" button.
    console = s.reviewer.post(
        f"/review/demands/{demand['id']}/disclose",
        data={"csrf_token": s.reviewer_csrf, "unredacted": "true"},
        follow_redirects=False,
    )
    assert console.status_code in (303, 422), console.text
    _nothing_left(s)


def test_a_camera_moved_indoors_after_the_warrant_is_out_of_its_reach(app: FastAPI) -> None:
    s = scene(app)
    demand = record(s)
    _set_indoor(s)
    refused = disclose(s, demand["id"], clip_ids=[s.clip_id])
    assert refused.status_code == 422
    assert refused.json()["reason"] == "indoor_not_named"
    _nothing_left(s)


def test_no_emergency_discloses_an_indoor_camera_by_any_path(app: FastAPI) -> None:
    s = scene(app)
    _set_indoor(s)
    second, second_csrf = staff(app, "second@doorstep.example", Role.REVIEWER)
    # The agency names the indoor camera among its devices; its window covers the clip.
    request_id = file(s).json()["id"]
    decide(s.reviewer, s.reviewer_csrf, request_id, "approve")
    # The second approval releases "everything in scope": the indoor camera is not in it ...
    approved = decide(second, second_csrf, request_id, "approve")
    assert approved.status_code == 200, approved.text
    assert (approved.json()["state"], approved.json()["disclosed"]) == ("approved", 0)
    # ... and naming its clip is refused with the reason.
    named = decide(s.reviewer, s.reviewer_csrf, request_id, "disclose", clip_ids=[s.clip_id])
    assert named.status_code == 422, named.text
    assert named.json()["reason"] == "indoor_not_in_emergency"
    _nothing_left(s)


def test_an_emergency_disclosure_is_not_published_before_its_delay(app: FastAPI) -> None:
    s = scene(app)
    second, second_csrf = staff(app, "second@doorstep.example", Role.REVIEWER)
    request_id = file(s, category="missing_person").json()["id"]
    decide(s.reviewer, s.reviewer_csrf, request_id, "approve")
    approved = decide(second, second_csrf, request_id, "approve")
    assert approved.json()["disclosed"] == 1
    ended = decide(s.agency, s.agency_csrf, request_id, "over")
    assert ended.status_code == 200, ended.text
    # Decided, disclosed and its owner told: still not public while the 30 days run.
    report = s.owner.get("/api/v1/transparency").json()
    assert report["emergencies_published"] == []
    assert report["emergencies_awaiting"] == 1
    assert report["emergency_publication_delay_days"] == 30
    page = s.owner.get("/transparency")
    assert 'data-testid="no-emergencies-published"' in page.text
    assert 'data-testid="emergencies-awaiting">1 more filed' in page.text
    assert 'data-testid="emergency-published"' not in page.text
    approved_at = utcnow()
    with app_state(app).db.session() as db:
        early = approved_at + timedelta(days=29)
        assert service_published.published_emergencies(db, 30, early) == []
        late = approved_at + timedelta(days=30, minutes=5)
        [entry] = service_published.published_emergencies(db, 30, late)
    assert (entry.category, entry.outcome, entry.reviewers) == ("missing_person", "approved", 2)
