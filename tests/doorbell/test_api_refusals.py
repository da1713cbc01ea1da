"""Who may not answer the door, and what a bad offer or answer changes: nothing."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from doorstep.accounts.roles import Role
from doorstep.doorbell.models import LiveSession, Ring
from doorstep.platform.types import utcnow
from tests.agencies.test_api import staff
from tests.cameras.test_api_devices import _camera, _pair
from tests.doorbell.sdp import GOOD_ANSWER, GOOD_OFFER, HOST, offer
from tests.doorbell.test_api import (
    LIVE_SESSIONS,
    device,
    offer_body,
    open_session,
    press,
    published,
    state_of,
)
from tests.factories import accept_invitations, resident
from tests.samples import tiny_jpeg


@pytest.fixture
def door(app: FastAPI, client: TestClient) -> Iterator[dict[str, Any]]:
    """Ada's paired camera, rung once, and Bob in its household (live view not yet allowed)."""
    csrf = resident(client)
    camera = _camera(client, csrf)["id"]
    token = _pair(client, csrf, camera)
    with TestClient(app) as bob:
        bob_csrf = resident(bob, "bob@example.org", display_name="Bob")
        invited = client.post(
            f"/api/v1/cameras/{camera}/household",
            json={"email": "bob@example.org"},
            headers={"x-csrf-token": csrf},
        )
        accept_invitations(bob, bob_csrf, invited)
        ring = press(client, token, snapshot=tiny_jpeg())["ring_id"]
        yield {
            "csrf": csrf,
            "camera": camera,
            "token": token,
            "ring": ring,
            "bob": bob,
            "bob_csrf": bob_csrf,
            "bob_id": bob.get("/api/v1/me").json()["id"],
        }


def _sessions(app: FastAPI) -> list[tuple[str, str | None]]:
    with state_of(app).db.session() as db:
        return [(row.state, row.answer_sdp) for row in db.scalars(select(LiveSession))]


def _allow(client: TestClient, door: dict[str, Any], live_view: bool) -> Any:
    return client.patch(
        f"/api/v1/cameras/{door['camera']}/household/{door['bob_id']}",
        json={"live_view": live_view},
        headers={"x-csrf-token": door["csrf"]},
    )


def _everything_refused(viewer: TestClient, csrf: str, door: dict[str, Any], status: int) -> None:
    assert open_session(viewer, csrf, door["camera"], door["ring"]).status_code == status
    assert viewer.get(f"/api/v1/rings/{door['ring']}/snapshot").status_code == status


def test_a_neighbour_sees_no_camera_ring_or_session(
    app: FastAPI, client: TestClient, door: dict[str, Any]
) -> None:
    session = open_session(client, door["csrf"], door["camera"]).json()
    with TestClient(app) as cy:
        cy_csrf = resident(cy, "cy@example.org", display_name="Cy")
        _everything_refused(cy, cy_csrf, door, 404)
        path = f"/api/v1/live-sessions/{session['id']}"
        assert cy.get(path, params={"wait": 0}).status_code == 404
        assert cy.delete(path, headers={"x-csrf-token": cy_csrf}).status_code == 404
    assert _sessions(app) == [("offered", None)]


@pytest.mark.parametrize("role", [Role.AGENCY_MEMBER, Role.AGENCY_ADMIN, Role.REVIEWER, Role.ADMIN])
def test_agencies_and_staff_never_answer_a_door(
    app: FastAPI, door: dict[str, Any], role: Role
) -> None:
    other, csrf = staff(app, f"{role.value}@example.org", role)
    with other:
        _everything_refused(other, csrf, door, 404)
        assert other.get("/api/v1/turn").status_code == 403
    assert _sessions(app) == []


def test_a_stranger_gets_nothing(app: FastAPI, door: dict[str, Any]) -> None:
    with TestClient(app) as stranger:
        assert (
            stranger.post(
                f"/api/v1/cameras/{door['camera']}/live-sessions", json=offer_body()
            ).status_code
            == 401
        )
        assert stranger.get(f"/api/v1/rings/{door['ring']}/snapshot").status_code == 401
        assert stranger.get("/api/v1/live-sessions/x", params={"wait": 0}).status_code == 401
        assert stranger.get("/api/v1/turn").status_code == 401
        assert stranger.get(LIVE_SESSIONS, params={"wait": 0}).status_code == 401
        assert stranger.post("/api/v1/devices/ring", data={"source": "button"}).status_code == 401
    assert _sessions(app) == []


def test_a_camera_token_is_only_for_the_device_routes(
    client: TestClient, door: dict[str, Any]
) -> None:
    headers = device(door["token"])
    refused = client.post(
        f"/api/v1/cameras/{door['camera']}/live-sessions", json=offer_body(), headers=headers
    )
    assert refused.status_code == 403
    assert client.get("/api/v1/turn", headers=headers).status_code == 403


def _answered_events(events: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, bool]]:
    return [(key, event["by_you"]) for key, event in events if event["type"] == "ring_answered"]


def test_two_answers_at_once_make_one_answerer(
    app: FastAPI, client: TestClient, door: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _allow(client, door, True).status_code == 200
    events = published(app, monkeypatch)
    with ThreadPoolExecutor(2) as pool:
        answers = list(
            pool.map(
                lambda viewer: (
                    open_session(viewer[0], viewer[1], door["camera"], door["ring"]).status_code
                ),
                [(client, door["csrf"]), (door["bob"], door["bob_csrf"])],
            )
        )
    assert answers == [201, 201]
    with state_of(app).db.session() as db:
        ring = db.get(Ring, door["ring"])
        assert ring is not None
        first = ring.answered_by
    # Told once each, and what each was told agrees with who is recorded as answering.
    owner_id = client.get("/api/v1/me").json()["id"]
    assert sorted(_answered_events(events)) == sorted(
        [(owner_id, first == owner_id), (door["bob_id"], first == door["bob_id"])]
    )


def test_a_call_from_an_old_rings_link_does_not_answer_it(
    app: FastAPI, client: TestClient, door: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    with state_of(app).db.session() as db:
        ring = db.get(Ring, door["ring"])
        assert ring is not None
        ring.pressed_at = utcnow() - timedelta(days=2)
        db.commit()
    events = published(app, monkeypatch)
    assert open_session(client, door["csrf"], door["camera"], door["ring"]).status_code == 201
    assert _answered_events(events) == []
    with state_of(app).db.session() as db:
        ring = db.get(Ring, door["ring"])
        assert ring is not None
        assert ring.answered_at is None


def test_a_household_member_answers_only_once_allowed_and_is_audited(
    app: FastAPI, client: TestClient, door: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    bob, bob_csrf = door["bob"], door["bob_csrf"]
    _everything_refused(bob, bob_csrf, door, 403)
    assert _sessions(app) == []
    # Only the owner may allow it.
    assert (
        bob.patch(
            f"/api/v1/cameras/{door['camera']}/household/{door['bob_id']}",
            json={"live_view": True},
            headers={"x-csrf-token": bob_csrf},
        ).status_code
        == 404
    )
    allowed = _allow(client, door, True)
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["live_view"] is True
    listed = client.get(f"/api/v1/cameras/{door['camera']}/household").json()
    assert [member["live_view"] for member in listed] == [True]
    assert bob.get(f"/api/v1/rings/{door['ring']}/snapshot").content == tiny_jpeg()
    events = published(app, monkeypatch)
    created = open_session(bob, bob_csrf, door["camera"], door["ring"])
    assert created.status_code == 201, created.text
    # The owner's ringing page closes its dialog, told only that someone else answered.
    # Less its "seq", the stream id a page resumes from, which every account event carries.
    answered = [
        (key, {name: value for name, value in event.items() if name != "seq"})
        for key, event in events
        if event["type"] == "ring_answered"
    ]
    ring_answered = {
        "type": "ring_answered",
        "ring_id": door["ring"],
        "camera_id": door["camera"],
        "camera_name": "Front door",
    }
    owner_id = client.get("/api/v1/me").json()["id"]
    assert answered == [
        (owner_id, {**ring_answered, "by_you": False}),
        (door["bob_id"], {**ring_answered, "by_you": True}),
    ]
    # A second answer to the same ring tells nobody again.
    del events[:]
    assert open_session(client, door["csrf"], door["camera"], door["ring"]).status_code == 201
    assert [event for _, event in events if event["type"] == "ring_answered"] == []
    # The owner's own session is not audited; each of Bob's looks is.
    audit = client.get("/api/v1/me/audit").json()
    assert [entry["action"] for entry in audit] == ["live.view", "ring.snapshot"]
    assert all(entry["detail"] == {"as": "household"} for entry in audit)
    public = " ".join(entry["body"] for entry in client.get("/api/v1/audit/entries").json())
    assert door["bob_id"] not in public
    # Taken back: refused again, and Bob's open session ends (the agent hears it).
    assert _allow(client, door, False).status_code == 200
    _everything_refused(bob, bob_csrf, door, 403)
    bobs = created.json()["id"]
    assert bob.get(f"/api/v1/live-sessions/{bobs}", params={"wait": 0}).json()["state"] == "ended"
    feed = client.get(
        LIVE_SESSIONS, params={"wait": 0, "active": [bobs]}, headers=device(door["token"])
    ).json()
    assert feed["ended"] == [bobs]
    assert [state for state, _ in _sessions(app)].count("offered") == 1


def test_removing_a_household_member_ends_their_live_sessions(
    app: FastAPI, client: TestClient, door: dict[str, Any]
) -> None:
    _allow(client, door, True)
    created = open_session(door["bob"], door["bob_csrf"], door["camera"]).json()
    removed = client.delete(
        f"/api/v1/cameras/{door['camera']}/household/{door['bob_id']}",
        headers={"x-csrf-token": door["csrf"]},
    )
    assert removed.status_code == 204
    assert _sessions(app) == [("ended", None)]
    assert (
        door["bob"]
        .get(f"/api/v1/live-sessions/{created['id']}", params={"wait": 0})
        .json()["state"]
        == "ended"
    )


def test_an_expired_offer_cannot_be_answered_and_shows_ended(
    app: FastAPI, client: TestClient, door: dict[str, Any]
) -> None:
    session = open_session(client, door["csrf"], door["camera"]).json()
    with state_of(app).db.session() as db:
        row = db.get(LiveSession, session["id"])
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
    late = client.post(
        f"{LIVE_SESSIONS}/{session['id']}/answer",
        json={"type": "answer", "sdp": GOOD_ANSWER},
        headers=device(door["token"]),
    )
    assert late.status_code == 409
    shown = client.get(f"/api/v1/live-sessions/{session['id']}", params={"wait": 0}).json()
    assert shown == {"id": session["id"], "state": "ended", "answer": None}
    feed = client.get(
        LIVE_SESSIONS, params={"wait": 0, "active": [session["id"]]}, headers=device(door["token"])
    ).json()
    assert (feed["sessions"], feed["ended"]) == ([], [session["id"]])


def test_another_camera_cannot_answer_or_end_this_ones_session(
    app: FastAPI, client: TestClient, door: dict[str, Any]
) -> None:
    session = open_session(client, door["csrf"], door["camera"]).json()
    other = _camera(client, door["csrf"], name="Garage")["id"]
    token = _pair(client, door["csrf"], other)
    path = f"{LIVE_SESSIONS}/{session['id']}"
    answer = {"type": "answer", "sdp": GOOD_ANSWER}
    assert client.post(f"{path}/answer", json=answer, headers=device(token)).status_code == 404
    assert client.post(f"{path}/end", headers=device(token)).status_code == 404
    assert (
        client.get(LIVE_SESSIONS, params={"wait": 0}, headers=device(token)).json()["sessions"]
        == []
    )
    assert _sessions(app) == [("offered", None)]


BAD_OFFERS = [
    "v=0\r\nm=text 9 RTP/AVP 0\r\n",
    offer("a=candidate:1 1 udp 2122260223 10.0.0.1 70000 typ host"),
    offer("a=candidate:1 1 quic 2122260223 10.0.0.1 5000 typ host"),
    offer("a=candidate:1 1 udp 2122260223 attacker.example 5000 typ host"),
    offer("a=candidate:1 1 udp high 10.0.0.1 5000 typ host"),
    offer("a=candidate:1 1 udp 2122260223 10.0.0.1 5000 typ tunnel"),
    "not a description",
]


@pytest.mark.parametrize("sdp", BAD_OFFERS)
def test_a_malformed_offer_is_refused_and_stores_nothing(
    app: FastAPI, client: TestClient, door: dict[str, Any], sdp: str
) -> None:
    refused = client.post(
        f"/api/v1/cameras/{door['camera']}/live-sessions",
        json=offer_body(sdp=sdp),
        headers={"x-csrf-token": door["csrf"]},
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert _sessions(app) == []
    with state_of(app).db.session() as db:
        assert db.scalars(select(Ring)).one().answered_at is None


@pytest.mark.parametrize("sdp", BAD_OFFERS)
def test_a_malformed_answer_is_refused_and_changes_nothing(
    app: FastAPI, client: TestClient, door: dict[str, Any], sdp: str
) -> None:
    session = open_session(client, door["csrf"], door["camera"]).json()
    refused = client.post(
        f"{LIVE_SESSIONS}/{session['id']}/answer",
        json={"type": "answer", "sdp": sdp},
        headers=device(door["token"]),
    )
    assert refused.status_code == 422, refused.text
    assert _sessions(app) == [("offered", None)]


def test_an_oversize_offer_is_refused(
    app: FastAPI, client: TestClient, door: dict[str, Any]
) -> None:
    big = offer(HOST) + "a=x-padding:" + "p" * (33 * 1024) + "\r\n"
    refused = client.post(
        f"/api/v1/cameras/{door['camera']}/live-sessions",
        json=offer_body(sdp=big),
        headers={"x-csrf-token": door["csrf"]},
    )
    assert refused.status_code in (413, 422)
    assert _sessions(app) == []


def test_a_ring_of_another_camera_or_a_wrong_offer_type_is_refused(
    app: FastAPI, client: TestClient, door: dict[str, Any]
) -> None:
    other = _camera(client, door["csrf"], name="Garage")["id"]
    wrong_ring = open_session(client, door["csrf"], other, door["ring"])
    assert wrong_ring.status_code == 422
    as_answer = client.post(
        f"/api/v1/cameras/{door['camera']}/live-sessions",
        json={"offer": {"type": "answer", "sdp": GOOD_OFFER}},
        headers={"x-csrf-token": door["csrf"]},
    )
    assert as_answer.status_code == 422
    assert _sessions(app) == []


@pytest.mark.parametrize(
    ("data", "files", "status"),
    [
        ({"source": "doorknob"}, None, 422),
        ({"source": "button"}, {"snapshot": ("a.jpg", b"not a jpeg", "image/jpeg")}, 415),
        (
            {"source": "button"},
            {"snapshot": ("a.jpg", b"\xff\xd8" + b"0" * (1 << 20), "image/jpeg")},
            413,
        ),
    ],
)
def test_a_bad_press_is_refused_and_rings_nobody(
    app: FastAPI,
    client: TestClient,
    door: dict[str, Any],
    data: dict[str, str],
    files: Any,
    status: int,
) -> None:
    refused = client.post(
        "/api/v1/devices/ring", data=data, files=files, headers=device(door["token"])
    )
    assert refused.status_code == status, refused.text
    with state_of(app).db.session() as db:
        assert db.scalar(select(func.count()).select_from(Ring)) == 1
