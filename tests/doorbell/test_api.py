"""The owner answers the door: ring, alert, offer, the agent's answer, hang up, over HTTP."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from doorstep.doorbell import api, device_api
from doorstep.doorbell.models import Ring
from doorstep.platform.http.admission import Admission
from doorstep.platform.http.state import AppState
from tests.cameras.test_api_devices import _camera, _pair
from tests.clips.test_api_e2e import _enable
from tests.doorbell.sdp import GOOD_ANSWER, GOOD_OFFER
from tests.factories import resident
from tests.samples import tiny_jpeg

LIVE_SESSIONS = "/api/v1/devices/live-sessions"


def state_of(app: FastAPI) -> AppState:
    """The app's state."""
    state: AppState = app.state.doorstep
    return state


def device(token: str) -> dict[str, str]:
    """A camera's Authorization header."""
    return {"authorization": f"Bearer {token}"}


def press(agent: TestClient, token: str, *, snapshot: bytes | None = None) -> dict[str, Any]:
    """Press the camera's button through the device API."""
    files = {"snapshot": ("ring.jpg", snapshot, "image/jpeg")} if snapshot is not None else None
    pressed = agent.post(
        "/api/v1/devices/ring", data={"source": "button"}, files=files, headers=device(token)
    )
    assert pressed.status_code == 202, pressed.text
    body: dict[str, Any] = pressed.json()
    return body


def offer_body(ring_id: str | None = None, sdp: str = GOOD_OFFER) -> dict[str, Any]:
    """A live session's request body."""
    return {"offer": {"type": "offer", "sdp": sdp}, "ring_id": ring_id}


def open_session(viewer: TestClient, csrf: str, camera_id: str, ring_id: str | None = None) -> Any:
    """Offer the camera a live session as ``viewer``."""
    return viewer.post(
        f"/api/v1/cameras/{camera_id}/live-sessions",
        json=offer_body(ring_id),
        headers={"x-csrf-token": csrf},
    )


def until_waiting(app: FastAPI, key: str) -> None:
    """Return once a long-poll follows ``key`` on the bus (so what comes next must wake it)."""
    for _ in range(2000):
        if state_of(app).bus.listeners(key):
            return
        time.sleep(0.005)
    raise AssertionError(f"nobody waits on {key}")


@pytest.fixture
def no_recheck(monkeypatch: pytest.MonkeyPatch) -> None:
    """Long-polls look at the database only when woken: a wake-up that never came fails."""
    monkeypatch.setattr(api, "RECHECK_SECONDS", 600.0)
    monkeypatch.setattr(device_api, "RECHECK_SECONDS", 600.0)


@pytest.fixture
def owner(client: TestClient) -> dict[str, str]:
    """Ada's camera, paired: her CSRF token, the camera id and its device token."""
    csrf = resident(client)
    camera = _camera(client, csrf)
    return {"csrf": csrf, "camera": camera["id"], "token": _pair(client, csrf, camera["id"])}


@pytest.mark.usefixtures("no_recheck")
def test_the_owner_answers_a_ring_and_hangs_up(
    app: FastAPI, client: TestClient, owner: dict[str, str]
) -> None:
    camera_id, token = owner["camera"], owner["token"]
    with TestClient(app) as agent, ThreadPoolExecutor(2) as pool:
        with client.stream("GET", "/api/v1/events") as events:
            lines = (line for line in events.iter_lines() if line)
            assert next(lines) == ": connected"
            assert next(lines) == "retry: 3000"
            pressed = press(agent, token, snapshot=tiny_jpeg())
            assert pressed["rang"] is True
            assert next(lines) == "event: ring"
            event = json.loads(next(lines).removeprefix("data: "))
        ring_id = pressed["ring_id"]
        assert event == {
            "type": "ring",
            "ring_id": ring_id,
            "camera_id": camera_id,
            "camera_name": "Front door",
            "at": event["at"],
            "snapshot": f"/api/v1/rings/{ring_id}/snapshot",
            "e2e": False,
        }
        snapshot = client.get(event["snapshot"])
        assert snapshot.status_code == 200
        assert (snapshot.headers["content-type"], snapshot.content) == ("image/jpeg", tiny_jpeg())

        # The agent waits; the owner's offer reaches it at once.
        polled = pool.submit(agent.get, LIVE_SESSIONS, params={"wait": 40}, headers=device(token))
        until_waiting(app, f"camera:{camera_id}")
        created = open_session(client, owner["csrf"], camera_id, ring_id)
        assert created.status_code == 201, created.text
        session = created.json()
        assert (session["state"], session["audio"], session["e2e"]) == ("offered", False, False)
        feed = polled.result(timeout=30)
        assert feed.status_code == 200, feed.text
        assert feed.json() == {
            "sessions": [
                {
                    "id": session["id"],
                    "offer": {"type": "offer", "sdp": GOOD_OFFER},
                    "audio": False,
                    "ice_servers": [],
                }
            ],
            "ended": [],
            "mjpeg": False,
        }

        # The page waits for the answer; the agent's answer reaches it at once.
        path = f"/api/v1/live-sessions/{session['id']}"
        waiting = pool.submit(client.get, path, params={"wait": 40})
        until_waiting(app, f"live-session:{session['id']}")
        answered = agent.post(
            f"{LIVE_SESSIONS}/{session['id']}/answer",
            json={"type": "answer", "sdp": GOOD_ANSWER},
            headers=device(token),
        )
        assert answered.status_code == 204, answered.text
        heard = waiting.result(timeout=30)
        assert heard.json() == {
            "id": session["id"],
            "state": "answered",
            "answer": {"type": "answer", "sdp": GOOD_ANSWER},
        }

        # The agent keeps the session in `active`; hanging up reaches it at once.
        polled = pool.submit(
            agent.get,
            LIVE_SESSIONS,
            params={"wait": 40, "active": [session["id"]]},
            headers=device(token),
        )
        until_waiting(app, f"camera:{camera_id}")
        hung_up = client.delete(path, headers={"x-csrf-token": owner["csrf"]})
        assert hung_up.status_code == 204
        assert polled.result(timeout=30).json() == {
            "sessions": [],
            "ended": [session["id"]],
            "mjpeg": False,
        }
    assert client.get(path, params={"wait": 0}).json()["state"] == "ended"
    with state_of(app).db.session() as db:
        ring = db.scalars(select(Ring)).one()
        assert ring.answered_by == client.get("/api/v1/me").json()["id"]
        assert ring.answered_at is not None


def published(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Every event the app publishes on its bus from now on, in order."""
    bus = state_of(app).bus
    seen: list[tuple[str, dict[str, Any]]] = []
    publish = bus.publish

    def recording(key: str, event: dict[str, Any]) -> int:
        seen.append((key, event))
        return publish(key, event)

    monkeypatch.setattr(bus, "publish", recording)
    return seen


def test_a_bouncing_press_is_one_ring_and_one_alert(
    app: FastAPI, owner: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    events = published(app, monkeypatch)
    with TestClient(app) as agent:
        first = press(agent, owner["token"])
        again = [press(agent, owner["token"]) for _ in range(4)]
    assert first["rang"] is True
    assert again == [{"ring_id": first["ring_id"], "rang": False}] * 4
    assert [event["ring_id"] for _, event in events if event["type"] == "ring"] == [
        first["ring_id"]
    ]
    with state_of(app).db.session() as db:
        assert len(db.scalars(select(Ring)).all()) == 1


def test_the_long_poll_is_the_heartbeat_and_answers_at_once_when_told_nothing_new(
    client: TestClient, owner: dict[str, str]
) -> None:
    assert client.get(f"/api/v1/cameras/{owner['camera']}").json()["online"] is True
    idle = client.get(LIVE_SESSIONS, params={"wait": 0}, headers=device(owner["token"]))
    assert idle.json() == {"sessions": [], "ended": [], "mjpeg": False}
    # A session the agent names that is not the camera's (or gone) is over for it.
    gone = client.get(
        LIVE_SESSIONS, params={"wait": 0, "active": ["nope"]}, headers=device(owner["token"])
    )
    assert gone.json()["ended"] == ["nope"]


@pytest.mark.usefixtures("no_recheck")
def test_opening_the_mjpeg_page_wakes_the_agent(
    app: FastAPI, client: TestClient, owner: dict[str, str]
) -> None:
    with TestClient(app) as agent, ThreadPoolExecutor(1) as pool:
        headers = device(owner["token"])
        polled = pool.submit(
            agent.get, LIVE_SESSIONS, params={"wait": 40, "mjpeg": False}, headers=headers
        )
        until_waiting(app, f"camera:{owner['camera']}")
        with client.stream("GET", f"/api/v1/cameras/{owner['camera']}/live") as page:
            assert page.status_code == 200
            assert polled.result(timeout=30).json()["mjpeg"] is True
            # An agent already sending hears nothing new; one that does not say is told too.
            sending = {"wait": 0, "mjpeg": True}
            assert agent.get(LIVE_SESSIONS, params=sending, headers=headers).json()["mjpeg"]
            assert agent.get(LIVE_SESSIONS, params={"wait": 0}, headers=headers).json()["mjpeg"]


def test_turn_credentials_name_a_pseudonym_and_last_the_ttl(
    app: FastAPI, client: TestClient, owner: dict[str, str]
) -> None:
    assert client.get("/api/v1/turn").json() == {"ice_servers": [], "ttl": 0}
    state = state_of(app)
    state.settings = state.settings.model_copy(
        update={
            "turn_urls": "turn:127.0.0.1:3478?transport=udp, turn:127.0.0.1:3478?transport=tcp",
            "turn_secret": SecretStr("relay-secret"),
        }
    )
    mine = client.get("/api/v1/turn").json()
    assert mine["ttl"] == 600
    (server,) = mine["ice_servers"]
    assert server["urls"] == [
        "turn:127.0.0.1:3478?transport=udp",
        "turn:127.0.0.1:3478?transport=tcp",
    ]
    expiry, pseudonym = server["username"].split(":")
    assert int(expiry) > time.time() + 590
    assert client.get("/api/v1/me").json()["id"] not in server["username"]
    camera = client.get("/api/v1/devices/turn", headers=device(owner["token"])).json()
    assert camera["ice_servers"][0]["username"].split(":")[1] != pseudonym


def test_openapi_documents_the_press_and_the_signalling(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    documented = {
        ("post", "/api/v1/devices/ring"): "202",
        ("get", "/api/v1/devices/live-sessions"): "200",
        ("post", "/api/v1/devices/live-sessions/{session_id}/answer"): "204",
        ("post", "/api/v1/devices/live-sessions/{session_id}/end"): "204",
        ("get", "/api/v1/devices/turn"): "200",
        ("get", "/api/v1/turn"): "200",
        ("post", "/api/v1/cameras/{camera_id}/live-sessions"): "201",
        ("get", "/api/v1/live-sessions/{session_id}"): "200",
        ("delete", "/api/v1/live-sessions/{session_id}"): "204",
        ("get", "/api/v1/rings/{ring_id}/snapshot"): "200",
    }
    for (method, path), ok in documented.items():
        operation = paths[path][method]
        assert operation["summary"], path
        assert ok in operation["responses"], path
        assert "401" in operation["responses"], path
    feed = paths["/api/v1/devices/live-sessions"]["get"]["responses"]["200"]
    assert feed["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/DeviceFeed"
    }


@pytest.mark.usefixtures("no_recheck")
def test_waiting_long_polls_hold_no_database_permit(
    app: FastAPI, client: TestClient, owner: dict[str, str]
) -> None:
    state = state_of(app)
    # One permit, and a request that cannot get it gives up at once: a long-poll that held it
    # while waiting would turn the owner's next request into a 503.
    state.admission = Admission(1, wait_s=0.5)
    session = open_session(client, owner["csrf"], owner["camera"]).json()
    with TestClient(app) as agent, ThreadPoolExecutor(2) as pool:
        polls = [
            pool.submit(
                agent.get,
                LIVE_SESSIONS,
                params={"wait": 40, "active": [session["id"]]},
                headers=device(owner["token"]),
            ),
            pool.submit(client.get, f"/api/v1/live-sessions/{session['id']}", params={"wait": 40}),
        ]
        until_waiting(app, f"camera:{owner['camera']}")
        until_waiting(app, f"live-session:{session['id']}")
        for _ in range(3):
            assert client.get("/api/v1/cameras").status_code == 200
        hung_up = client.delete(
            f"/api/v1/live-sessions/{session['id']}", headers={"x-csrf-token": owner["csrf"]}
        )
        assert hung_up.status_code == 204
        assert polls[0].result(timeout=30).json()["ended"] == [session["id"]]
        agent.post(f"{LIVE_SESSIONS}/{session['id']}/end", headers=device(owner["token"]))
        assert polls[1].result(timeout=30).json()["state"] == "ended"


def test_an_end_to_end_camera_rings_without_a_picture_and_still_answers_live(
    app: FastAPI, client: TestClient, owner: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _enable(client, owner["csrf"], owner["camera"])
    events = published(app, monkeypatch)
    headers = device(owner["token"])
    files = {"snapshot": ("ring.jpg", tiny_jpeg(), "image/jpeg")}
    clear = client.post(
        "/api/v1/devices/ring", data={"source": "button"}, files=files, headers=headers
    )
    # Its pictures never reach the server in the clear, a ring's snapshot neither.
    assert clear.status_code == 422
    assert events == []
    pressed = press(client, owner["token"])
    ((_, event),) = [(key, event) for key, event in events if event["type"] == "ring"]
    assert (event["snapshot"], event["e2e"]) == (None, True)
    assert client.get(f"/api/v1/rings/{pressed['ring_id']}/snapshot").status_code == 404
    created = open_session(client, owner["csrf"], owner["camera"], pressed["ring_id"])
    assert created.status_code == 201, created.text
    assert created.json()["e2e"] is True
