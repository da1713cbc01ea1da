"""Emergency requests: two different reviewers, a short scope, no e2e clips, owners told."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from doorstep.accounts.roles import Role
from doorstep.legal.service_disclose import send_due_notices
from doorstep.platform.types import utcnow
from tests.agencies.test_api import app_state, staff
from tests.cameras.test_api_devices import _camera, _pair
from tests.clips.test_api_e2e import _enable, _sealed_upload
from tests.legal.test_api import Scene, scene
from tests.samples import tiny_clip

# The client runs the app's lifespan, which closes its database connections at the end.
pytestmark = pytest.mark.usefixtures("client")

ATTESTATION = "A child is missing and was last seen at this door; we fear for her life."


def emergency_body(s: Scene, **overrides: Any) -> dict[str, Any]:
    """An emergency request for the owner's camera over the last hour."""
    now = utcnow()
    body: dict[str, Any] = {
        "case_number": "PPB-2026-0911",
        "device_ids": [s.camera_id],
        "window_start": (now - timedelta(hours=1)).isoformat(),
        "window_end": now.isoformat(),
        "attestation": ATTESTATION,
    }
    body.update(overrides)
    return body


def file(s: Scene, **overrides: Any) -> Any:
    """File an emergency request as the agency."""
    return s.agency.post(
        "/api/v1/emergencies",
        json=emergency_body(s, **overrides),
        headers={"x-csrf-token": s.agency_csrf},
    )


def decide(client: TestClient, csrf: str, request_id: str, what: str, **body: Any) -> Any:
    """Approve, refuse or end an emergency request."""
    return client.post(
        f"/api/v1/emergencies/{request_id}/{what}", json=body, headers={"x-csrf-token": csrf}
    )


def test_two_different_reviewers_approve_and_the_owner_hears_when_it_is_over(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = scene(app)
    published: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(
        app_state(app).bus, "publish", lambda who, event: published.append((who, event))
    )
    second, second_csrf = staff(app, "second@doorstep.example", Role.REVIEWER)
    filed = file(s)
    assert filed.status_code == 201, filed.text
    request_id = filed.json()["id"]
    first = decide(s.reviewer, s.reviewer_csrf, request_id, "approve")
    assert (first.json()["state"], first.json()["approvals"]) == ("pending", 1)
    assert s.agency.get("/api/v1/evidence/disclosures").json() == []
    again = decide(s.reviewer, s.reviewer_csrf, request_id, "approve")
    assert again.status_code == 409
    approved = decide(second, second_csrf, request_id, "approve")
    assert approved.json()["state"] == "approved"
    assert approved.json()["disclosed"] == 1
    locker = s.agency.get("/api/v1/evidence/disclosures").json()
    assert [(d["basis"], d["unredacted"]) for d in locker] == [("emergency", False)]
    assert s.agency.get(locker[0]["video_url"]).status_code == 200
    assert s.owner.get("/api/v1/me/disclosures/legal").json() == []
    assert published == []
    ended = decide(s.agency, s.agency_csrf, request_id, "over")
    assert ended.status_code == 200, ended.text
    assert ended.json()["state"] == "over"
    told = s.owner.get("/api/v1/me/disclosures/legal").json()
    assert [(d["basis"], d["case"]) for d in told] == [("emergency", "PPB-2026-0911")]
    assert [(who, event["type"]) for who, event in published] == [(s.owner_id, "disclosure")]


def test_either_reviewer_can_refuse_with_a_reason(app: FastAPI) -> None:
    s = scene(app)
    second, second_csrf = staff(app, "second@doorstep.example", Role.REVIEWER)
    request_id = file(s).json()["id"]
    decide(s.reviewer, s.reviewer_csrf, request_id, "approve")
    without = decide(second, second_csrf, request_id, "refuse", reason="")
    assert without.status_code == 422
    refused = decide(second, second_csrf, request_id, "refuse", reason="No danger to life shown.")
    assert refused.json()["state"] == "refused"
    assert refused.json()["refusal_reason"] == "No danger to life shown."
    assert decide(second, second_csrf, request_id, "approve").status_code == 409
    seen = s.agency.get(f"/api/v1/emergencies/{request_id}").json()
    assert seen["refusal_reason"] == "No danger to life shown."
    assert s.agency.get("/api/v1/evidence/disclosures").json() == []


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"window_start": (utcnow() - timedelta(hours=8)).isoformat()}, "window_too_long"),
        ({"attestation": "urgent"}, "attestation_missing"),
    ],
)
def test_requests_beyond_the_rules_are_refused(
    app: FastAPI, overrides: dict[str, Any], reason: str
) -> None:
    s = scene(app)
    refused = file(s, **overrides)
    assert refused.status_code == 422
    assert refused.json()["reason"] == reason


def test_only_agencies_file_and_only_reviewers_approve(app: FastAPI) -> None:
    s = scene(app)
    by_owner = s.owner.post(
        "/api/v1/emergencies", json=emergency_body(s), headers={"x-csrf-token": s.owner_csrf}
    )
    assert by_owner.status_code == 403
    request_id = file(s).json()["id"]
    assert decide(s.agency, s.agency_csrf, request_id, "approve").status_code == 403
    assert s.owner.get(f"/api/v1/emergencies/{request_id}").status_code == 403


def test_end_to_end_encrypted_clips_are_never_disclosed(app: FastAPI, tmp_path: Path) -> None:
    s = scene(app)
    second, second_csrf = staff(app, "second@doorstep.example", Role.REVIEWER)
    sealed_camera = _camera(s.owner, s.owner_csrf, name="Sealed porch")
    token = _pair(s.owner, s.owner_csrf, sealed_camera["id"])
    key = _enable(s.owner, s.owner_csrf, sealed_camera["id"])
    uploaded = _sealed_upload(s.owner, token, key, tiny_clip(tmp_path / "c.mp4"), tmp_path)
    assert uploaded.status_code == 201, uploaded.text
    sealed_clip = uploaded.json()["id"]
    request_id = file(s, device_ids=[s.camera_id, sealed_camera["id"]]).json()["id"]
    # How many sealed clips fall in the window is told to nobody, pending or approved: the
    # agency would learn which cameras recorded, and when, without any disclosure.
    pending = s.agency.get(f"/api/v1/emergencies/{request_id}")
    assert pending.status_code == 200
    assert "end_to_end" not in pending.text
    decide(s.reviewer, s.reviewer_csrf, request_id, "approve")
    approved = decide(second, second_csrf, request_id, "approve").json()
    assert approved["disclosed"] == 1
    assert not [key for key in approved if "end_to_end" in key or "withheld" in key]
    named = decide(s.reviewer, s.reviewer_csrf, request_id, "disclose", clip_ids=[sealed_clip])
    assert named.status_code == 422
    assert named.json()["reason"] == "end_to_end_encrypted"
    locker = s.agency.get("/api/v1/evidence/disclosures").json()
    assert [d["clip_started_at"] is not None for d in locker] == [True]
    assert len(locker) == 1


def test_owners_are_told_within_thirty_days_even_if_nobody_ends_it(app: FastAPI) -> None:
    s = scene(app)
    second, second_csrf = staff(app, "second@doorstep.example", Role.REVIEWER)
    request_id = file(s).json()["id"]
    decide(s.reviewer, s.reviewer_csrf, request_id, "approve")
    approved = decide(second, second_csrf, request_id, "approve").json()
    due = datetime.fromisoformat(approved["notice_due_at"])
    assert due - datetime.fromisoformat(approved["approved_at"]) == timedelta(days=30)
    state = app_state(app)
    assert send_due_notices(state, now=due - timedelta(days=1)) == 0
    assert s.owner.get("/api/v1/me/disclosures/legal").json() == []
    assert send_due_notices(state, now=due + timedelta(seconds=1)) == 1
    assert len(s.owner.get("/api/v1/me/disclosures/legal").json()) == 1
