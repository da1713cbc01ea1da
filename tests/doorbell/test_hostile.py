"""The doorbell against a hostile account, a flood of sessions, and time.

Relay credentials only for those who may call a camera, ring alerts only for residents, a cap on
the sessions one account can open, and signalling (with its IP addresses) not kept for ever.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select, update

from doorstep.accounts.models import User
from doorstep.doorbell.jobs import DOORBELL_SWEEP
from doorstep.doorbell.models import LiveSession, Ring
from doorstep.platform.queue.core import JobContext, run_task
from doorstep.platform.types import utcnow
from tests.doorbell.sdp import GOOD_ANSWER, GOOD_OFFER
from tests.doorbell.test_api import (
    LIVE_SESSIONS,
    device,
    open_session,
    press,
    published,
    state_of,
)
from tests.doorbell.test_api_refusals import _allow, door
from tests.factories import resident

__all__ = ["door"]


def _relay(app: FastAPI) -> None:
    state = state_of(app)
    state.settings = state.settings.model_copy(
        update={"turn_urls": "turn:turn.example.org:3478", "turn_secret": SecretStr("s3cret")}
    )


def _pseudonym(viewer: TestClient) -> str:
    reply = viewer.get("/api/v1/turn")
    assert reply.status_code == 200, reply.text
    username: str = reply.json()["ice_servers"][0]["username"]
    return username.split(":")[1]


def test_turn_credentials_only_for_who_may_call_a_camera(
    app: FastAPI, client: TestClient, door: dict[str, Any]
) -> None:
    _relay(app)
    with TestClient(app) as mallory:
        resident(mallory, "mallory@example.org", display_name="Mallory")
        refused = mallory.get("/api/v1/turn")
        assert refused.status_code == 403
        assert "live" in refused.json()["detail"]
    # Bob is household but not yet allowed live view: no relay either.
    assert door["bob"].get("/api/v1/turn").status_code == 403
    assert _allow(client, door, True).status_code == 200
    assert _pseudonym(door["bob"])
    assert _pseudonym(client)


def test_each_turn_credential_has_a_fresh_pseudonym(
    app: FastAPI, client: TestClient, door: dict[str, Any]
) -> None:
    _relay(app)
    assert _pseudonym(client) != _pseudonym(client)
    agent = [client.get("/api/v1/devices/turn", headers=device(door["token"])) for _ in (1, 2)]
    first, second = (reply.json()["ice_servers"][0]["username"] for reply in agent)
    assert first != second


def _becomes_agency_member(app: FastAPI, user_id: str) -> None:
    # What joining an agency does to the account; the household membership stays as it was.
    with state_of(app).db.session() as db:
        db.execute(update(User).where(User.id == user_id).values(role="agency_member"))
        db.commit()


def test_a_member_who_joins_an_agency_hears_no_more_rings(
    app: FastAPI, client: TestClient, door: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _allow(client, door, True).status_code == 200
    _becomes_agency_member(app, door["bob_id"])
    with state_of(app).db.session() as db:
        # The fixture's ring was long ago: the next press is a new ring, not a bounce of it.
        for ring in db.scalars(select(Ring)):
            ring.pressed_at -= timedelta(minutes=5)
        db.commit()
    events = published(app, monkeypatch)
    assert press(client, door["token"])["rang"] is True
    alerted = {key for key, event in events if event["type"] == "ring"}
    owner_id = client.get("/api/v1/me").json()["id"]
    assert alerted == {owner_id}


def test_an_agency_account_cannot_be_allowed_live_view(
    app: FastAPI, client: TestClient, door: dict[str, Any]
) -> None:
    _becomes_agency_member(app, door["bob_id"])
    refused = _allow(client, door, True)
    assert refused.status_code == 409
    assert "only a resident" in refused.json()["detail"]
    listed = client.get(f"/api/v1/cameras/{door['camera']}/household").json()
    assert [member["live_view"] for member in listed] == [False]
    # Taking it back is always possible.
    assert _allow(client, door, False).status_code == 200


def _form(door: dict[str, Any]) -> str:
    return f"/cameras/{door['camera']}/household/{door['bob_id']}/live-view"


def test_unticking_live_view_on_the_camera_page_ends_the_members_call(
    client: TestClient, door: dict[str, Any]
) -> None:
    bob = door["bob"]
    assert _allow(client, door, True).status_code == 200
    sid = open_session(bob, door["bob_csrf"], door["camera"]).json()["id"]
    answered = client.post(
        f"/api/v1/devices/live-sessions/{sid}/answer",
        json={"type": "answer", "sdp": GOOD_ANSWER},
        headers=device(door["token"]),
    )
    assert answered.status_code == 204
    stopped = client.post(_form(door), data={"csrf_token": door["csrf"]})
    assert "Bob can no longer see" in stopped.text
    assert bob.get(f"/api/v1/live-sessions/{sid}", params={"wait": 0}).json()["state"] == "ended"
    feed = client.get(
        LIVE_SESSIONS, params={"wait": 0, "active": [sid]}, headers=device(door["token"])
    ).json()
    assert feed["ended"] == [sid]


def test_the_camera_page_refuses_live_view_for_an_agency_account(
    app: FastAPI, client: TestClient, door: dict[str, Any]
) -> None:
    _becomes_agency_member(app, door["bob_id"])
    refused = client.post(_form(door), data={"csrf_token": door["csrf"], "live_view": "on"})
    assert refused.status_code == 409
    assert "Only a resident can be allowed live view" in refused.text
    listed = client.get(f"/api/v1/cameras/{door['camera']}/household").json()
    assert [member["live_view"] for member in listed] == [False]


def test_a_stranger_cannot_tell_a_real_ring_from_a_made_up_one(
    app: FastAPI, door: dict[str, Any]
) -> None:
    with TestClient(app) as carol:
        resident(carol, "carol@example.org", display_name="Carol")
        real = carol.get(f"/api/v1/rings/{door['ring']}/snapshot")
        made_up = carol.get("/api/v1/rings/" + "0" * 32 + "/snapshot")
    assert real.status_code == made_up.status_code == 404
    different = {"instance"}  # the path asked for, as given
    assert {k: v for k, v in real.json().items() if k not in different} == {
        k: v for k, v in made_up.json().items() if k not in different
    }


def _count_sessions(app: FastAPI) -> int:
    with state_of(app).db.session() as db:
        return len(db.scalars(select(LiveSession)).all())


def test_a_viewer_and_a_camera_have_only_a_few_calls_open(
    app: FastAPI, client: TestClient, door: dict[str, Any]
) -> None:
    bob, bob_csrf = door["bob"], door["bob_csrf"]
    assert _allow(client, door, True).status_code == 200
    bobs = [open_session(bob, bob_csrf, door["camera"]) for _ in range(3)]
    assert [reply.status_code for reply in bobs] == [201, 201, 429]
    assert "hang one up" in bobs[2].json()["detail"]
    assert bobs[2].headers["retry-after"] == "30"
    # Hanging up makes room again.
    first = f"/api/v1/live-sessions/{bobs[0].json()['id']}"
    assert bob.delete(first, headers={"x-csrf-token": bob_csrf}).status_code == 204
    assert open_session(bob, bob_csrf, door["camera"]).status_code == 201
    owners = [open_session(client, door["csrf"], door["camera"]) for _ in range(3)]
    assert [reply.status_code for reply in owners] == [201, 201, 429]
    assert "camera already has 4" in owners[2].json()["detail"]
    assert _count_sessions(app) == 5  # one of them ended; the refused stored nothing
    feed = client.get(LIVE_SESSIONS, params={"wait": 0}, headers=device(door["token"])).json()
    assert len(feed["sessions"]) == 4


def test_the_agent_gets_only_a_few_offers_per_answer(app: FastAPI, door: dict[str, Any]) -> None:
    from doorstep.doorbell import store

    with state_of(app).db.session() as db:
        owner = db.scalars(select(User).where(User.id != door["bob_id"])).one()
        now = utcnow()
        for _ in range(10):
            store.add_session(
                db,
                camera_id=door["camera"],
                user_id=owner.id,
                ring_id=None,
                offer_sdp=GOOD_OFFER,
                audio=False,
                now=now,
            )
        db.commit()
        assert len(store.offered_to(db, door["camera"], now, [])) == 4


def _sweep(app: FastAPI, monkeypatch: pytest.MonkeyPatch, later: timedelta) -> None:
    """Run the doorbell's sweep task, as the queue would, ``later`` from now."""
    state = state_of(app)
    at = utcnow() + later
    monkeypatch.setattr("doorstep.doorbell.service.utcnow", lambda: at)
    run_task(JobContext(state.db, state.keys), None, DOORBELL_SWEEP, ())  # type: ignore[arg-type]


def _descriptions(app: FastAPI) -> list[tuple[str, str | None]]:
    with state_of(app).db.session() as db:
        return [(row.offer_sdp, row.answer_sdp) for row in db.scalars(select(LiveSession))]


def test_an_ended_call_keeps_no_description_and_old_calls_and_rings_go(
    app: FastAPI, client: TestClient, door: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    csrf, token = door["csrf"], door["token"]
    ended = open_session(client, csrf, door["camera"], door["ring"]).json()["id"]
    answered = client.post(
        f"/api/v1/devices/live-sessions/{ended}/answer",
        json={"type": "answer", "sdp": GOOD_ANSWER},
        headers=device(token),
    )
    assert answered.status_code == 204
    assert client.delete(f"/api/v1/live-sessions/{ended}", headers={"x-csrf-token": csrf})
    assert _descriptions(app) == [("", None)]
    # An offer nobody answered: its description goes once it expired, its row a day later.
    open_session(client, csrf, door["camera"])
    _sweep(app, monkeypatch, timedelta(minutes=1))
    assert _descriptions(app) == [("", None), ("", None)]
    _sweep(app, monkeypatch, timedelta(hours=23))
    assert _count_sessions(app) == 2
    _sweep(app, monkeypatch, timedelta(days=1, hours=2))
    assert _count_sessions(app) == 0
    # The ring stays as long as the camera's clips (30 days by default), then goes.
    with state_of(app).db.session() as db:
        assert len(db.scalars(select(Ring)).all()) == 1
    _sweep(app, monkeypatch, timedelta(days=31))
    with state_of(app).db.session() as db:
        assert db.scalars(select(Ring)).all() == []
