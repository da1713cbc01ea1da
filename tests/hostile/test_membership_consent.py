"""Nobody's role changes without their consent, and nobody learns who has an account.

The attack: an agency admin added any resident by email as a member, and the resident (or
whoever held the account) could read that agency's evidence locker at once; the answer also
told the admin whether the email had an account and its display name. Sign-up said "an account
with that email already exists". Membership is now an invitation its holder accepts, and
inviting and signing up answer the same for a taken email and a free one.

The second attack: emails are not verified, so a stranger who signed up with the invited
address (before or after the invitation) could accept it and read the locker. Accepting now
takes the invitation's one-time code, which only the inviter is shown; wrong codes void it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.agencies.test_api import owner_with_clip, verified_agency
from tests.factories import PASSWORD, log_in, resident, sign_up
from tests.requests.test_api import _answer, _created, post_rfa


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


def _answer_invitation(
    client: TestClient, csrf: str, invitation_id: str, how: str, code: str = ""
) -> Any:
    return client.post(
        f"/api/v1/invitations/{invitation_id}/{how}",
        json={"code": code} if how == "accept" else None,
        headers={"x-csrf-token": csrf},
    )


@pytest.mark.usefixtures("client")
def test_an_invited_resident_reads_no_evidence_until_they_accept(app: FastAPI) -> None:
    chief, csrf, agency_id = _locker_with_one_share(app)
    victim = TestClient(app)
    victim_csrf = resident(victim, "neighbour@example.org", display_name="Neighbour")

    sent = _invite(chief, csrf, agency_id, "neighbour@example.org")
    assert sent.status_code == 202
    # Invited, not joined: no role, no agency, no locker.
    assert victim.get("/api/v1/me").json()["role"] == "resident"
    assert victim.get("/api/v1/evidence").status_code == 403
    assert victim.get("/api/v1/agencies/mine").status_code == 404
    assert victim.get("/agency/evidence").status_code == 403
    members = chief.get(f"/api/v1/agencies/{agency_id}/members").json()
    assert "neighbour@example.org" not in str(members)

    # Only the person's own yes makes them a member.
    [invitation] = _waiting(victim)
    code = sent.json()["code"]
    accepted = _answer_invitation(victim, victim_csrf, invitation["id"], "accept", code)
    assert accepted.status_code == 200, accepted.text
    assert victim.get("/api/v1/me").json()["role"] == "agency_member"
    assert len(victim.get("/api/v1/evidence").json()) == 1


@pytest.mark.usefixtures("client")
def test_a_declined_invitation_gives_nothing_and_cannot_be_taken_back(app: FastAPI) -> None:
    chief, csrf, agency_id = _locker_with_one_share(app)
    victim = TestClient(app)
    victim_csrf = resident(victim, "neighbour@example.org")
    code = _invite(chief, csrf, agency_id, "neighbour@example.org").json()["code"]
    [invitation] = _waiting(victim)

    declined = _answer_invitation(victim, victim_csrf, invitation["id"], "decline")
    assert declined.status_code == 200, declined.text
    assert declined.json()["state"] == "declined"
    assert victim.get("/api/v1/evidence").status_code == 403
    assert victim.get("/api/v1/me").json()["role"] == "resident"
    assert _waiting(victim) == []
    late = _answer_invitation(victim, victim_csrf, invitation["id"], "accept", code)
    assert late.status_code == 409
    assert victim.get("/api/v1/evidence").status_code == 403
    assert chief.get(f"/api/v1/agencies/{agency_id}/invitations").json() == []


@pytest.mark.usefixtures("client")
def test_nobody_else_can_answer_an_invitation(app: FastAPI) -> None:
    chief, csrf, agency_id = _locker_with_one_share(app)
    victim, intruder = TestClient(app), TestClient(app)
    resident(victim, "neighbour@example.org")
    intruder_csrf = resident(intruder, "intruder@example.org")
    code = _invite(chief, csrf, agency_id, "neighbour@example.org").json()["code"]
    [invitation] = _waiting(victim)
    assert _waiting(intruder) == []
    # Even with the code (it leaked): the invitation is for the account holding the email.
    taken = _answer_invitation(intruder, intruder_csrf, invitation["id"], "accept", code)
    assert taken.status_code == 404
    assert intruder.get("/api/v1/evidence").status_code == 403
    # The admin cannot answer for the invited person either.
    for_them = _answer_invitation(chief, csrf, invitation["id"], "accept", code)
    assert for_them.status_code == 404


CODE = re.compile(rb"[A-Z2-9]{4}(?:-[A-Z2-9]{4}){3}")
ID = re.compile(rb'"id":"[0-9a-f]{32}"')


def _same_but_email(responses: list[Any], emails: tuple[str, str]) -> None:
    """The answers differ only by the email typed, and the fresh code and id each one gets."""
    first, second = responses
    assert first.status_code == second.status_code
    # Both addresses stand for EMAIL in both: a page lists every pending one, newest first.
    a, b = (
        ID.sub(
            b'"id":"ID"',
            CODE.sub(
                b"CODE",
                r.content.replace(emails[0].encode(), b"EMAIL").replace(
                    emails[1].encode(), b"EMAIL"
                ),
            ),
        )
        for r in responses
    )
    assert a == b
    codes = [found.group() for r in responses if (found := CODE.search(r.content))]
    assert len(codes) == len(set(codes)) == 2
    # The request id differs per request by design; it says nothing about the account.
    skip = {"date", "content-length", "x-request-id"}
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


def _stranger_cannot_take(stranger: TestClient, csrf: str) -> str:
    """A stranger holding the invited email tries without the code; the invitation's id."""
    [invitation] = _waiting(stranger)
    for code in ("", "AAAA-AAAA-AAAA-AAAA"):
        refused = _answer_invitation(stranger, csrf, invitation["id"], "accept", code)
        assert refused.status_code == 422, refused.text
        assert stranger.get("/api/v1/me").json()["role"] == "resident"
        assert stranger.get("/api/v1/evidence").status_code == 403
    # Nor by the page's form, code or none.
    page = stranger.get("/invitations")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    form = stranger.post(
        f"/invitations/{invitation['id']}/accept",
        data={"csrf_token": token.group(1), "code": "BBBB-BBBB-BBBB-BBBB"},
        follow_redirects=False,
    )
    assert form.status_code == 422
    assert stranger.get("/api/v1/evidence").status_code == 403
    invitation_id: str = invitation["id"]
    return invitation_id


@pytest.mark.usefixtures("client")
@pytest.mark.parametrize("signs_up", ["before", "after"])
def test_a_stranger_who_signs_up_with_the_invited_email_cannot_accept(
    app: FastAPI, signs_up: str
) -> None:
    chief, csrf, agency_id = _locker_with_one_share(app)
    stranger = TestClient(app)
    if signs_up == "before":
        stranger_csrf = resident(stranger, "new.detective@ppb.example")
    sent = _invite(chief, csrf, agency_id, "new.detective@ppb.example")
    assert sent.status_code == 202
    if signs_up == "after":
        stranger_csrf = resident(stranger, "new.detective@ppb.example")
    invitation_id = _stranger_cannot_take(stranger, stranger_csrf)
    # Two wrong codes so far (an empty one is not a try); three more and it is void.
    for code in ("CCCC", "DDDD-DDDD-DDDD-DDDD"):
        wrong = _answer_invitation(stranger, stranger_csrf, invitation_id, "accept", code)
        assert wrong.status_code == 422
    fifth = _answer_invitation(stranger, stranger_csrf, invitation_id, "accept", "EEEE")
    assert fifth.status_code == 422
    assert "code" in fifth.json()["detail"]
    assert sent.json()["code"] not in fifth.text
    # Void: even the right code no longer opens it, and it is gone from both lists.
    right = _answer_invitation(
        stranger, stranger_csrf, invitation_id, "accept", sent.json()["code"]
    )
    assert right.status_code == 409
    assert stranger.get("/api/v1/me").json()["role"] == "resident"
    assert stranger.get("/api/v1/evidence").status_code == 403
    assert _waiting(stranger) == []
    assert chief.get(f"/api/v1/agencies/{agency_id}/invitations").json() == []


@pytest.mark.usefixtures("client")
def test_a_stranger_cannot_take_a_household_invitation_without_its_code(app: FastAPI) -> None:
    owner, owner_csrf, clip_id = owner_with_clip(app, "owner@example.org")
    camera_id = owner.get("/api/v1/cameras").json()[0]["id"]
    sent = owner.post(
        f"/api/v1/cameras/{camera_id}/household",
        json={"email": "cousin@example.org"},
        headers={"x-csrf-token": owner_csrf},
    )
    assert sent.status_code == 202
    stranger = TestClient(app)
    stranger_csrf = resident(stranger, "cousin@example.org")
    invitation_id = _stranger_cannot_take(stranger, stranger_csrf)
    assert stranger.get(f"/api/v1/clips/{clip_id}").status_code == 404
    # The person the owner meant, given the code, is let in (two wrong tries do not void it).
    code = sent.json()["code"]
    accepted = _answer_invitation(stranger, stranger_csrf, invitation_id, "accept", code)
    assert accepted.status_code == 200, accepted.text
    assert stranger.get(f"/api/v1/clips/{clip_id}").status_code == 200


@pytest.mark.usefixtures("client")
def test_the_code_is_shown_once_and_inviting_again_replaces_it(app: FastAPI) -> None:
    chief, csrf, agency_id = verified_agency(app)
    first = _invite(chief, csrf, agency_id, "later@example.org").json()["code"]
    pending = chief.get(f"/api/v1/agencies/{agency_id}/invitations").text
    assert first not in pending
    second = _invite(chief, csrf, agency_id, "later@example.org").json()["code"]
    assert second != first
    newcomer = TestClient(app)
    newcomer_csrf = resident(newcomer, "later@example.org")
    [invitation] = _waiting(newcomer)
    assert first not in str(invitation)
    assert second not in str(invitation)
    assert invitation["agency_name"] == "Portland Police Bureau"
    old = _answer_invitation(newcomer, newcomer_csrf, invitation["id"], "accept", first)
    assert old.status_code == 422
    # Typed by hand: lower case, spaces for dashes.
    typed = second.lower().replace("-", " ")
    accepted = _answer_invitation(newcomer, newcomer_csrf, invitation["id"], "accept", typed)
    assert accepted.status_code == 200, accepted.text
    assert newcomer.get("/api/v1/me").json()["role"] == "agency_member"
    # The agency page shows a code it makes once, with what to do with it.
    page = chief.get("/agency").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    made = chief.post(
        "/agency/members", data={"csrf_token": token.group(1), "email": "third@example.org"}
    )
    assert made.status_code == 200
    shown = CODE.search(made.content)
    assert shown is not None
    assert "in person or by phone" in made.text
    assert shown.group().decode() not in chief.get("/agency").text


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
    # The request id differs per request by design; it says nothing about the account.
    skip = {"date", "content-length", "x-request-id"}
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
