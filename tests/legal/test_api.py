"""Legal demands: scope enforced by the code, copies via the locker, owners told (I2, I4, I5)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from doorstep.accounts.roles import Role
from doorstep.legal.service_disclose import send_due_notices
from doorstep.platform.types import utcnow
from tests.agencies.test_api import app_state, owner_with_clip, staff, verified_agency
from tests.cameras.test_api_devices import _camera

# The client runs the app's lifespan, which closes its database connections at the end.
pytestmark = pytest.mark.usefixtures("client")

DOCUMENT = hashlib.sha256(b"signed warrant, case 2026-CR-118").hexdigest()


@dataclass
class Scene:
    """An owner with one clip, a verified agency and a reviewer, all logged in."""

    owner: TestClient
    owner_csrf: str
    owner_id: str
    clip_id: str
    camera_id: str
    clip_started_at: datetime
    agency: TestClient
    agency_csrf: str
    agency_id: str
    reviewer: TestClient
    reviewer_csrf: str


def scene(app: FastAPI, email: str = "owner@example.org") -> Scene:
    """Build the usual cast through the API."""
    owner, owner_csrf, clip_id = owner_with_clip(app, email)
    clip = owner.get(f"/api/v1/clips/{clip_id}").json()
    agency, agency_csrf, agency_id = verified_agency(app)
    reviewer, reviewer_csrf = staff(app, "reviewer@doorstep.example", Role.REVIEWER)
    return Scene(
        owner=owner,
        owner_csrf=owner_csrf,
        owner_id=owner.get("/api/v1/me").json()["id"],
        clip_id=clip_id,
        camera_id=clip["camera_id"],
        clip_started_at=datetime.fromisoformat(clip["started_at"]),
        agency=agency,
        agency_csrf=agency_csrf,
        agency_id=agency_id,
        reviewer=reviewer,
        reviewer_csrf=reviewer_csrf,
    )


def demand_body(s: Scene, **overrides: Any) -> dict[str, Any]:
    """A warrant for the owner's camera over the last hour."""
    now = utcnow()
    body: dict[str, Any] = {
        "kind": "warrant",
        "agency_id": s.agency_id,
        "court": "Multnomah County Circuit Court",
        "reference": "2026-CR-118",
        "document_sha256": DOCUMENT,
        "account_id": s.owner_id,
        "device_ids": [s.camera_id],
        "window_start": (now - timedelta(hours=1)).isoformat(),
        "window_end": now.isoformat(),
    }
    body.update(overrides)
    return body


def record(s: Scene, **overrides: Any) -> dict[str, Any]:
    """Record a demand as the reviewer; it must be accepted."""
    response = s.reviewer.post(
        "/api/v1/legal/demands",
        json=demand_body(s, **overrides),
        headers={"x-csrf-token": s.reviewer_csrf},
    )
    assert response.status_code == 201, response.text
    demand: dict[str, Any] = response.json()
    return demand


def disclose(s: Scene, demand_id: str, **body: Any) -> Any:
    """Ask to disclose footage under a demand."""
    return s.reviewer.post(
        f"/api/v1/legal/demands/{demand_id}/disclose",
        json=body,
        headers={"x-csrf-token": s.reviewer_csrf},
    )


def test_a_subpoena_yields_account_information_never_footage(app: FastAPI) -> None:
    s = scene(app)
    demand = record(s, kind="subpoena", device_ids=[], window_start=None, window_end=None)
    refused = disclose(s, demand["id"], clip_ids=[s.clip_id])
    assert refused.status_code == 422
    assert refused.json()["reason"] == "subpoena"
    info = s.reviewer.post(
        f"/api/v1/legal/demands/{demand['id']}/disclose-account",
        headers={"x-csrf-token": s.reviewer_csrf},
    )
    assert info.status_code == 200, info.text
    assert info.json()["account_info"] == {
        "name": "Owner",
        "email": "owner@example.org",
        "cameras": 1,
    }
    assert info.json()["video_url"] is None
    received = s.agency.get("/api/v1/evidence/disclosures").json()
    assert [d["what"] for d in received] == ["account"]
    told = s.owner.get("/api/v1/me/disclosures/legal").json()
    assert [(d["what"], d["legal_kind"]) for d in told] == [("account", "subpoena")]


def test_a_subpoena_cannot_claim_footage_or_unredacted_copies(app: FastAPI) -> None:
    s = scene(app)
    response = s.reviewer.post(
        "/api/v1/legal/demands",
        json=demand_body(s, kind="subpoena", allows_unredacted=True),
        headers={"x-csrf-token": s.reviewer_csrf},
    )
    assert response.status_code == 422


def test_a_warrant_within_scope_is_honoured_through_the_locker(app: FastAPI) -> None:
    s = scene(app)
    demand = record(s)
    made = disclose(s, demand["id"], clip_ids=[s.clip_id])
    assert made.status_code == 200, made.text
    [item] = made.json()
    assert item["unredacted"] is False
    assert item["basis"] == "legal_demand"
    locker = s.agency.get("/api/v1/evidence/disclosures").json()
    assert [d["id"] for d in locker] == [item["id"]]
    download = s.agency.post(locker[0]["download_url"], headers={"x-csrf-token": s.agency_csrf})
    assert download.status_code == 200
    assert download.headers["content-type"] == "video/mp4"
    assert hashlib.sha256(download.content).hexdigest() == item["sha256"]
    told = s.owner.get("/api/v1/me/disclosures/legal").json()
    assert [(d["id"], d["court"], d["delayed_until"]) for d in told] == [
        (item["id"], "Multnomah County Circuit Court", None)
    ]
    actions = [entry["action"] for entry in s.owner.get("/api/v1/me/audit").json()]
    assert "legal_demand.disclose" in actions
    assert "disclosure.download" in actions
    assert "disclosure.notice" in actions


@pytest.mark.parametrize(
    ("window", "reason"),
    [
        ((-3, -2), "outside_window"),
        ((-1, 0), "device_out_of_scope"),
    ],
)
def test_anything_outside_the_warrant_is_refused(
    app: FastAPI, window: tuple[int, int], reason: str
) -> None:
    s = scene(app)
    other = _camera(s.owner, s.owner_csrf, name="Back door")
    now = utcnow()
    devices = [s.camera_id] if reason == "outside_window" else [other["id"]]
    demand = record(
        s,
        device_ids=devices,
        window_start=(now + timedelta(hours=window[0])).isoformat(),
        window_end=(now + timedelta(hours=window[1])).isoformat(),
    )
    refused = disclose(s, demand["id"], clip_ids=[s.clip_id])
    assert refused.status_code == 422
    assert refused.json()["reason"] == reason
    assert s.agency.get("/api/v1/evidence/disclosures").json() == []
    assert s.owner.get("/api/v1/me/disclosures/legal").json() == []


def test_another_accounts_footage_is_refused(app: FastAPI) -> None:
    s = scene(app)
    _neighbour, _csrf, neighbour_clip = owner_with_clip(app, "neighbour@example.org")
    demand = record(s)
    refused = disclose(s, demand["id"], clip_ids=[neighbour_clip])
    assert refused.status_code == 422
    assert refused.json()["reason"] == "account_out_of_scope"


def test_a_demand_naming_another_accounts_device_is_refused(app: FastAPI) -> None:
    s = scene(app)
    neighbour, neighbour_csrf, _clip = owner_with_clip(app, "neighbour@example.org")
    foreign = _camera(neighbour, neighbour_csrf, name="Porch")
    response = s.reviewer.post(
        "/api/v1/legal/demands",
        json=demand_body(s, device_ids=[foreign["id"]]),
        headers={"x-csrf-token": s.reviewer_csrf},
    )
    assert response.status_code == 422
    assert response.json()["field"] == "device_ids"


def test_unredacted_only_when_the_warrant_says_so(app: FastAPI) -> None:
    s = scene(app)
    plain = record(s)
    refused = disclose(s, plain["id"], clip_ids=[s.clip_id], unredacted=True)
    assert refused.status_code == 422
    assert refused.json()["reason"] == "unredacted_not_allowed"
    ordered = record(s, allows_unredacted=True, reference="2026-CR-119")
    made = disclose(s, ordered["id"], clip_ids=[s.clip_id], unredacted=True)
    assert made.status_code == 200, made.text
    assert [d["unredacted"] for d in made.json()] == [True]


def test_only_reviewers_record_or_disclose(app: FastAPI) -> None:
    s = scene(app)
    for client, csrf in ((s.owner, s.owner_csrf), (s.agency, s.agency_csrf)):
        response = client.post(
            "/api/v1/legal/demands", json=demand_body(s), headers={"x-csrf-token": csrf}
        )
        assert response.status_code == 403
    demand = record(s)
    response = s.agency.post(
        f"/api/v1/legal/demands/{demand['id']}/disclose",
        json={"clip_ids": [s.clip_id]},
        headers={"x-csrf-token": s.agency_csrf},
    )
    assert response.status_code == 403


def test_a_non_disclosure_order_delays_the_notice_until_it_ends(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = scene(app)
    state = app_state(app)
    published: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(state.bus, "publish", lambda who, event: published.append((who, event)))
    demand = record(s)
    path = f"/api/v1/legal/demands/{demand['id']}/non-disclosure-order"
    headers = {"x-csrf-token": s.reviewer_csrf}
    endless = s.reviewer.post(path, json={}, headers=headers)
    assert endless.status_code == 422
    assert endless.json()["field"] == "ends_at"
    ends = utcnow() + timedelta(days=3)
    ordered = s.reviewer.post(path, json={"ends_at": ends.isoformat()}, headers=headers)
    assert ordered.status_code == 200, ordered.text
    assert disclose(s, demand["id"], clip_ids=[s.clip_id]).status_code == 200
    assert s.owner.get("/api/v1/me/disclosures/legal").json() == []
    owner_log = s.owner.get("/api/v1/me/audit").json()
    assert [e["action"] for e in owner_log if "disclos" in e["action"]] == []
    assert published == []
    assert send_due_notices(state, now=ends - timedelta(days=1)) == 0
    assert send_due_notices(state, now=ends + timedelta(minutes=1)) == 1
    told = s.owner.get("/api/v1/me/disclosures/legal").json()
    assert [datetime.fromisoformat(d["delayed_until"]) for d in told] == [ends]
    assert [(who, event["type"]) for who, event in published] == [(s.owner_id, "disclosure")]
    assert send_due_notices(state, now=ends + timedelta(days=1)) == 0


def test_closing_a_demand_records_its_outcome(app: FastAPI) -> None:
    s = scene(app)
    demand = record(s)
    path = f"/api/v1/legal/demands/{demand['id']}/close"
    headers = {"x-csrf-token": s.reviewer_csrf}
    closed = s.reviewer.post(path, json={"outcome": "rejected"}, headers=headers)
    assert closed.json()["outcome"] == "rejected"
    assert s.reviewer.post(path, json={"outcome": "rejected"}, headers=headers).status_code == 409
    assert disclose(s, demand["id"], clip_ids=[s.clip_id]).status_code == 422
