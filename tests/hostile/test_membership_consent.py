"""Nobody's role changes without their consent, and nobody learns who has an account.

The attack: an agency admin added any resident by email as a member, and the resident (or
whoever held the account) could read that agency's evidence locker at once; the answer also
told the admin whether the email had an account and its display name. Sign-up said "an account
with that email already exists". Membership is now an invitation its holder accepts, and
inviting and signing up answer the same for a taken email and a free one.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api.test_agencies import owner_with_clip, verified_agency
from tests.api.test_requests import _answer, _created, post_rfa
from tests.factories import PASSWORD, log_in, resident, sign_up


def _locker_with_one_share(app: FastAPI) -> tuple[TestClient, str, str]:
    """A verified agency whose locker holds one shared clip: (admin client, csrf, agency id)."""
    owner, owner_csrf, clip_id = owner_with_clip(app, "owner@example.org")
    chief, csrf, agency_id = verified_agency(app)
    rfa = _created(post_rfa(chief, csrf))
    shared = _answer(owner, owner_csrf, rfa["id"], decision="share", clip_ids=[clip_id])
    assert shared.status_code == 200, shared.text
    assert len(chief.get("/api/v1/evidence").json()) == 1
    return chief, csrf, agency_id


def _invite(chief: TestClient, csrf: str, agency_id: str, email: str) -> Any:
    return chief.post(
        f"/api/v1/agencies/{agency_id}/members",
        json={"email": email},
        headers={"x-csrf-token": csrf},
    )


def _waiting(client: TestClient) -> list[dict[str, Any]]:
    waiting: list[dict[str, Any]] = client.get("/api/v1/invitations").json()
    return waiting


def _answer_invitation(client: TestClient, csrf: str, invitation_id: str, how: str) -> Any:
    return client.post(f"/api/v1/invitations/{invitation_id}/{how}", headers={"x-csrf-token": csrf})


@pytest.mark.usefixtures("client")
def test_an_invited_resident_reads_no_evidence_until_they_accept(app: FastAPI) -> None:
    chief, csrf, agency_id = _locker_with_one_share(app)
    victim = TestClient(app)
    victim_csrf = resident(victim, "neighbour@example.org", display_name="Neighbour")

    assert _invite(chief, csrf, agency_id, "neighbour@example.org").status_code == 202
    # Invited, not joined: no role, no agency, no locker.
    assert victim.get("/api/v1/me").json()["role"] == "resident"
    assert victim.get("/api/v1/evidence").status_code == 403
    assert victim.get("/api/v1/agencies/mine").status_code == 404
    assert victim.get("/agency/evidence").status_code == 403
    members = chief.get(f"/api/v1/agencies/{agency_id}/members").json()
    assert "neighbour@example.org" not in str(members)

    # Only the person's own yes makes them a member.
    [invitation] = _waiting(victim)
    accepted = _answer_invitation(victim, victim_csrf, invitation["id"], "accept")
    assert accepted.status_code == 200, accepted.text
    assert victim.get("/api/v1/me").json()["role"] == "agency_member"
    assert len(victim.get("/api/v1/evidence").json()) == 1


@pytest.mark.usefixtures("client")
def test_a_declined_invitation_gives_nothing_and_cannot_be_taken_back(app: FastAPI) -> None:
    chief, csrf, agency_id = _locker_with_one_share(app)
    victim = TestClient(app)
    victim_csrf = resident(victim, "neighbour@example.org")
    _invite(chief, csrf, agency_id, "neighbour@example.org")
    [invitation] = _waiting(victim)

    declined = _answer_invitation(victim, victim_csrf, invitation["id"], "decline")
    assert declined.status_code == 200, declined.text
    assert declined.json()["state"] == "declined"
    assert victim.get("/api/v1/evidence").status_code == 403
    assert victim.get("/api/v1/me").json()["role"] == "resident"
    assert _waiting(victim) == []
    assert _answer_invitation(victim, victim_csrf, invitation["id"], "accept").status_code == 409
    assert victim.get("/api/v1/evidence").status_code == 403
    assert chief.get(f"/api/v1/agencies/{agency_id}/invitations").json() == []


@pytest.mark.usefixtures("client")
def test_nobody_else_can_answer_an_invitation(app: FastAPI) -> None:
    chief, csrf, agency_id = _locker_with_one_share(app)
    victim, intruder = TestClient(app), TestClient(app)
    resident(victim, "neighbour@example.org")
    intruder_csrf = resident(intruder, "intruder@example.org")
    _invite(chief, csrf, agency_id, "neighbour@example.org")
    [invitation] = _waiting(victim)
    assert _waiting(intruder) == []
    taken = _answer_invitation(intruder, intruder_csrf, invitation["id"], "accept")
    assert taken.status_code == 404
    assert intruder.get("/api/v1/evidence").status_code == 403
    # The admin cannot answer for the invited person either.
    for_them = _answer_invitation(chief, csrf, invitation["id"], "accept")
    assert for_them.status_code == 404


def _same_but_email(responses: list[Any], emails: tuple[str, str]) -> None:
    first, second = responses
    assert first.status_code == second.status_code
    a, b = first.content, second.content
    assert a.replace(emails[0].encode(), b"EMAIL") == b.replace(emails[1].encode(), b"EMAIL")
    skip = {"date", "content-length"}
    assert {k: v for k, v in first.headers.items() if k not in skip} == {
        k: v for k, v in second.headers.items() if k not in skip
    }


@pytest.mark.usefixtures("client")
def test_inviting_tells_nothing_about_whether_an_account_exists(app: FastAPI) -> None:
    chief, csrf, agency_id = verified_agency(app)
    holder = TestClient(app)
    resident(holder, "taken@example.org", display_name="Secret Name")
    pair = ("taken@example.org", "free@example.org")

    invited = [_invite(chief, csrf, agency_id, email) for email in pair]
    _same_but_email(invited, pair)
    assert "Secret Name" not in invited[0].text
    assert invited[0].status_code == 202
    # Nor does the list of invitations waiting for an answer.
    pending = chief.get(f"/api/v1/agencies/{agency_id}/invitations").json()
    assert sorted(p["email"] for p in pending) == sorted(pair)
    assert sorted(pending[0]) == sorted(pending[1]) == ["created_at", "email", "expires_at", "id"]
    # Inviting again, or inviting a member, answers the same too.
    again = _invite(chief, csrf, agency_id, "taken@example.org")
    member = _invite(chief, csrf, agency_id, "chief@ppb.example")
    _same_but_email([again, member], ("taken@example.org", "chief@ppb.example"))

    # A household invitation from an owner, likewise.
    owner, owner_csrf, _clip = owner_with_clip(app, "owner@example.org")
    camera_id = owner.get("/api/v1/cameras").json()[0]["id"]
    household = [
        owner.post(
            f"/api/v1/cameras/{camera_id}/household",
            json={"email": email},
            headers={"x-csrf-token": owner_csrf},
        )
        for email in pair
    ]
    _same_but_email(household, pair)
    assert household[0].status_code == 202

    # And the agency page's form.
    page = chief.get("/agency").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    forms = [
        chief.post(
            "/agency/members",
            data={"csrf_token": token.group(1), "email": email},
            follow_redirects=False,
        )
        for email in pair
    ]
    _same_but_email(forms, pair)


@pytest.mark.usefixtures("client")
def test_an_invitation_waits_for_whoever_signs_up_with_the_email(app: FastAPI) -> None:
    chief, csrf, agency_id = verified_agency(app)
    assert _invite(chief, csrf, agency_id, "later@example.org").status_code == 202
    newcomer = TestClient(app)
    newcomer_csrf = resident(newcomer, "later@example.org")
    [invitation] = _waiting(newcomer)
    assert invitation["agency_name"] == "Portland Police Bureau"
    assert newcomer.get("/api/v1/me").json()["role"] == "resident"
    accepted = _answer_invitation(newcomer, newcomer_csrf, invitation["id"], "accept")
    assert accepted.status_code == 200, accepted.text
    assert newcomer.get("/api/v1/me").json()["role"] == "agency_member"


def test_signing_up_with_a_taken_email_looks_like_signing_up_with_a_free_one(
    client: TestClient, app: FastAPI
) -> None:
    sign_up(client, "taken@example.org", display_name="Owner")
    body = {"password": "quiet-harbour-42", "display_name": "Mallory"}
    taken = TestClient(app).post("/api/v1/accounts", json={**body, "email": "taken@example.org"})
    free = TestClient(app).post("/api/v1/accounts", json={**body, "email": "free@example.org"})
    assert taken.status_code == free.status_code == 201
    one, other = taken.json(), free.json()
    assert sorted(one) == sorted(other)
    volatile = {"id", "created_at", "email"}
    assert {k: v for k, v in one.items() if k not in volatile} == {
        k: v for k, v in other.items() if k not in volatile
    }
    skip = {"date", "content-length"}
    assert {k: v for k, v in taken.headers.items() if k not in skip} == {
        k: v for k, v in free.headers.items() if k not in skip
    }
    # Nothing was created or changed for the taken address.
    log_in(client, "taken@example.org", PASSWORD)
    assert client.get("/api/v1/me").json()["display_name"] == "Owner"
    stolen = client.post(
        "/api/v1/session", json={"email": "taken@example.org", "password": body["password"]}
    )
    assert stolen.status_code == 401
