"""The public audit log never links an owner's anonymous share to their named one (I2, I3).

Residents appear in the public log only under pseudonyms scoped to one request (or clip, or legal
basis), and public entries carry no share ids: an agency that knows who made its named shares
cannot follow the same owner to their anonymous ones, and nobody can follow one owner over time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from doorstep.accounts.models import User
from doorstep.accounts.roles import Role
from doorstep.transparency import audit_store as audit
from doorstep.transparency.models import AuditEntry
from doorstep.transparency.verify import verify_server
from tests.agencies.test_api import app_state, owner_with_clip, verified_agency
from tests.cameras.test_api_devices import _camera, _pair, _upload
from tests.factories import accept_invitations, resident
from tests.requests.test_api import _answer, _created, post_rfa
from tests.samples import tiny_clip

RESIDENT = Role.RESIDENT.value


def _public_bodies(client: TestClient) -> list[dict[str, Any]]:
    entries = client.get("/api/v1/audit/entries").json()
    return [json.loads(entry["body"]) for entry in entries]


def _about(bodies: list[dict[str, Any]], rfa_id: str) -> list[dict[str, Any]]:
    return [body for body in bodies if body["detail"].get("request") == rfa_id]


def _resident_pseudonyms(bodies: list[dict[str, Any]]) -> set[str]:
    found = {body["owner"] for body in bodies if body["owner"]}
    found |= {body["actor"] for body in bodies if body["actor"] and body["actor_role"] == RESIDENT}
    return found


def test_an_anonymous_share_cannot_be_linked_to_the_same_owners_named_share(
    app: FastAPI, client: TestClient
) -> None:
    owner, owner_csrf, clip_id = owner_with_clip(app, "sharer@example.org")
    agency, csrf, _agency_id = verified_agency(app)
    named_rfa = _created(post_rfa(agency, csrf))
    anonymous_rfa = _created(post_rfa(agency, csrf, case_number="PPB-2026-0077"))
    for rfa, anonymous in ((named_rfa, False), (anonymous_rfa, True)):
        answered = _answer(
            owner, owner_csrf, rfa["id"], decision="share", clip_ids=[clip_id], anonymous=anonymous
        )
        assert answered.status_code == 200, answered.text
    locker = {item["rfa_id"]: item for item in agency.get("/api/v1/evidence").json()}
    assert locker[named_rfa["id"]]["shared_by"] == "Sharer"
    assert locker[anonymous_rfa["id"]]["shared_by"] is None
    # Each share is viewed and downloaded: more public entries about each of them.
    for item in locker.values():
        assert agency.get(item["video_url"], headers={"range": "bytes=1-"}).status_code == 206
        download = agency.post(item["download_url"], headers={"x-csrf-token": csrf})
        assert download.status_code == 200
    me = owner.get("/api/v1/me").json()
    anonymous_share = locker[anonymous_rfa["id"]]["id"]
    named_share = locker[named_rfa["id"]]["id"]

    bodies = _public_bodies(client)
    named = _about(bodies, named_rfa["id"])
    hidden = _about(bodies, anonymous_rfa["id"])
    expected = ["share.create", "evidence.view", "evidence.download"]
    assert [body["action"] for body in named] == expected
    assert [body["action"] for body in hidden] == expected

    # The owner is in the anonymous share's entries under one pseudonym of that request alone.
    hidden_names = _resident_pseudonyms(hidden)
    assert len(hidden_names) == 1
    assert not hidden_names & _resident_pseudonyms(named)
    elsewhere = json.dumps([body for body in bodies if body not in hidden])
    for body in hidden:
        for field in ("actor", "owner"):
            value = body[field]
            if value is None or value not in elsewhere:
                continue
            # Only the agency member who acted keeps one pseudonym across requests.
            assert field == "actor"
            assert body["actor_role"] != RESIDENT
    hidden_text = json.dumps(hidden)
    for value in (me["id"], me["email"], me["display_name"], anonymous_share, named_share):
        assert value not in hidden_text

    # Nor does anything public carry the owner, or a share id that the locker could tie to them.
    page = client.get("/audit")
    assert page.status_code == 200
    public = " ".join([client.get("/api/v1/audit/entries").text, page.text])
    for value in (me["id"], me["email"], me["display_name"], anonymous_share, named_share):
        assert value not in public
    for name in hidden_names | _resident_pseudonyms(named):
        assert name in page.text
    # The owner still finds every entry about them, and the log still verifies.
    mine = [entry["action"] for entry in owner.get("/api/v1/me/audit").json()]
    assert sorted(mine) == sorted(expected * 2)
    report = verify_server(client)
    assert report.ok, report.problem
    assert report.size == len(bodies)


@pytest.mark.usefixtures("client")
def test_residents_are_named_only_inside_a_scope_and_staff_keep_one_pseudonym(
    app: FastAPI,
) -> None:
    state = app_state(app)
    with state.db.session() as db:
        person = User(email="r@example.org", password_hash="x", display_name="R")
        officer = User(
            email="o@example.org",
            password_hash="x",
            display_name="O",
            role=Role.AGENCY_MEMBER.value,
        )
        db.add_all([person, officer])
        db.flush()
        for scope in ("request-1", "request-2", None):
            for actor in (person, officer):
                audit.record(
                    db,
                    state.master_key,
                    "test.entry",
                    actor=actor,
                    owner_id=person.id,
                    scope=scope,
                    detail={"scope": scope},
                )
        resident_id = person.id
        rows = list(db.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
        bodies = [json.loads(row.body) for row in rows]
    first, second, unscoped = bodies[0:2], bodies[2:4], bodies[4:6]
    # Within one scope the owner (and the owner acting) is one pseudonym; across scopes, two.
    assert first[0]["owner"] == first[0]["actor"] == first[1]["owner"]
    assert second[0]["owner"] == second[0]["actor"] == second[1]["owner"]
    assert first[0]["owner"] != second[0]["owner"]
    # Without a scope no resident is named at all, as owner or actor.
    assert [body["owner"] for body in unscoped] == [None, None]
    assert unscoped[0]["actor"] is None
    # The agency member is accountable: one pseudonym everywhere.
    officers = {body["actor"] for body in bodies if body["actor_role"] == "agency_member"}
    assert len(officers) == 1
    assert None not in officers
    # The private column still lets the owner find every entry about them.
    assert all(row.owner_id == resident_id for row in rows)
    assert resident_id not in json.dumps(bodies)


def test_household_viewings_name_neither_the_camera_nor_a_lasting_pseudonym(
    app: FastAPI, client: TestClient, tmp_path: Path
) -> None:
    csrf = resident(client)
    camera = _camera(client, csrf)
    token = _pair(client, csrf, camera["id"])
    clips = [
        _upload(client, token, tiny_clip(tmp_path / f"{n}.mp4", frames=10 + n).read_bytes()).json()
        for n in range(2)
    ]
    with TestClient(app) as bob:
        bob_csrf = resident(bob, "bob@example.org", display_name="Bob")
        invited = client.post(
            f"/api/v1/cameras/{camera['id']}/household",
            json={"email": "bob@example.org"},
            headers={"x-csrf-token": csrf},
        )
        assert invited.status_code == 202, invited.text
        accept_invitations(bob, bob_csrf, invited)
        for clip in clips:
            assert bob.get(clip["video_url"]).status_code == 200
    bodies = _public_bodies(client)
    assert [body["action"] for body in bodies] == ["clip.view", "clip.view"]
    assert [body["detail"]["clip"] for body in bodies] == [clip["id"] for clip in clips]
    assert camera["id"] not in json.dumps(bodies)
    # Bob and the owner each have a different pseudonym for each clip.
    assert len({body["owner"] for body in bodies}) == 2
    assert len({body["actor"] for body in bodies}) == 2
    mine = client.get("/api/v1/me/audit").json()
    assert sorted(entry["detail"]["clip"] for entry in mine) == sorted(c["id"] for c in clips)
