"""Events become pushes that a real push service on loopback checks, decrypts and answers."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from doorstep.app import create_app
from doorstep.notify import rules
from doorstep.notify.service_outbox import Delivery, Outbox
from doorstep.platform.http.state import AppState
from doorstep.settings import Settings
from tests.cameras.test_api_devices import _camera, _meta, _pair, _upload
from tests.doorbell.test_api import press
from tests.factories import resident
from tests.notify.devices import subscribe, until, with_loopback
from tests.notify.push_service import PushService
from tests.platform.logs_capture import captured_logs
from tests.samples import tiny_clip, tiny_jpeg


@pytest.fixture
def database_url(engine_database_url: str) -> str:
    """One database: the devices' storage is tested on both in test_push_api.py."""
    return engine_database_url


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return with_loopback(settings)


@pytest.fixture
def owner(client: TestClient, push_service: PushService) -> dict[str, Any]:
    """Ada with a paired camera and her phone subscribed; the push service expects our key."""
    csrf = resident(client)
    push_service.expected_key = client.get("/api/v1/push/key").json()["public_key"]
    camera = _camera(client, csrf)
    subscription = push_service.subscription(name="phone")
    device = subscribe(client, csrf, subscription, name="Phone")
    assert device.status_code == 201, device.text
    return {
        "csrf": csrf,
        "camera": camera["id"],
        "token": _pair(client, csrf, camera["id"]),
        "device": device.json()["id"],
        "sub": PushService.subscription_id(subscription["endpoint"]),
    }


def _devices(client: TestClient) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = client.get("/api/v1/push/devices").json()
    return listed


def test_a_ring_pushes_an_urgent_minimal_message_that_opens_the_answer_page(
    app: FastAPI, client: TestClient, owner: dict[str, Any], push_service: PushService
) -> None:
    with TestClient(app) as agent:
        pressed = press(agent, owner["token"], snapshot=tiny_jpeg())
    (received,) = push_service.wait_for(1)
    assert push_service.rejected == []
    payload = received.payload
    assert payload["type"] == "ring"
    assert payload["url"] == f"/cameras/{owner['camera']}/live?ring={pressed['ring_id']}"
    assert payload["camera"] == "Front door"
    # The minimum: no snapshot, no location, nothing but these fields.
    assert set(payload) == {"type", "title", "body", "camera", "at", "url", "tag"}
    assert "snapshot" not in json.dumps(payload)
    headers = received.headers
    assert headers["urgency"] == "high"
    assert headers["ttl"] == "60"
    assert rules.TOPIC_CHARS.fullmatch(headers["topic"])
    until(lambda: _devices(client)[0]["last_success_at"] is not None)


def test_an_alert_clip_pushes_and_a_clip_that_does_not_alert_does_not(
    client: TestClient, owner: dict[str, Any], push_service: PushService, tmp_path: Path
) -> None:
    changed = client.patch(
        f"/api/v1/cameras/{owner['camera']}",
        json={"alert_mode": "people"},
        headers={"x-csrf-token": owner["csrf"]},
    )
    assert changed.status_code == 200, changed.text
    quiet = tiny_clip(tmp_path / "motion.mp4", frames=14).read_bytes()
    stored = _upload(client, owner["token"], quiet, meta=_meta(labels=["motion"]))
    assert stored.status_code == 201, stored.text
    person = tiny_clip(tmp_path / "person.mp4", frames=16).read_bytes()
    clip = _upload(client, owner["token"], person, meta=_meta(labels=["person"]))
    assert clip.status_code == 201, clip.text
    (received,) = push_service.wait_for(1)
    # The one push is the person's clip: the motion-only clip sent none (stored first).
    assert received.payload["type"] == "alert"
    assert received.payload["url"] == f"/clips/{clip.json()['id']}"
    assert received.payload["title"] == "A person at Front door"
    assert received.headers["urgency"] == "normal"
    assert received.headers["ttl"] == "3600"


def test_a_gone_subscription_is_forgotten(
    app: FastAPI, client: TestClient, owner: dict[str, Any], push_service: PushService
) -> None:
    push_service.respond(owner["sub"], 410)
    with TestClient(app) as agent:
        press(agent, owner["token"])
    push_service.wait_for(1)
    until(lambda: _devices(client) == [])


def test_throttled_and_failing_pushes_are_tried_again_until_they_arrive(
    app: FastAPI, client: TestClient, owner: dict[str, Any], push_service: PushService
) -> None:
    push_service.respond(owner["sub"], 429, retry_after=1)
    push_service.respond(owner["sub"], 500)
    with TestClient(app) as agent:
        press(agent, owner["token"])
    answered = [r.status for r in push_service.wait_for(3, timeout=20)]
    assert answered == [429, 500, 201]
    ring = push_service.received[-1].payload
    assert [r.payload for r in push_service.received] == [ring, ring, ring]
    until(lambda: _devices(client)[0]["last_success_at"] is not None)
    assert _devices(client)[0]["last_failure"] is None


def test_a_refused_push_is_given_up_and_shown_on_the_device(
    client: TestClient, owner: dict[str, Any], push_service: PushService
) -> None:
    push_service.respond(owner["sub"], 400)
    with captured_logs() as logs:
        sent = client.post(
            f"/api/v1/push/devices/{owner['device']}/test",
            headers={"x-csrf-token": owner["csrf"]},
        )
        assert sent.status_code == 202
        push_service.wait_for(1)
        until(lambda: _devices(client)[0]["last_failure"] is not None)
    assert "400" in _devices(client)[0]["last_failure"]
    assert len(push_service.received) == 1
    # The line says what happened, not to whose phone: no device id in a log.
    events = [line["event"] for line in logs.parsed()]
    assert "a push given up: the push service refused the push (400)" in events
    assert owner["device"] not in "\n".join(logs.lines)


class _Stalling:
    """A push service that takes each POST and never answers until told: a sender held by it."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.release = threading.Event()
        self.taken = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/push/stalled"

    def _serve(self) -> None:
        connection, _ = self.listener.accept()
        with connection:
            self.taken.set()
            self.release.wait(30)

    def close(self) -> None:
        self.release.set()
        self.thread.join(30)
        self.listener.close()


def test_a_ring_goes_out_ahead_of_queued_motion_while_every_other_sender_is_held(
    app: FastAPI, owner: dict[str, Any], push_service: PushService
) -> None:
    state: AppState = app.state.doorstep
    subscription = push_service.subscription()
    endpoint, keys = subscription["endpoint"], subscription["keys"]
    stalling = _Stalling()
    motion = [
        rules.Push(rules.Kind.ALERT, "Motion", "m", "Front door", "t", "/clips", f"event-{n}")
        for n in range(40)
    ]
    ring = rules.Push(rules.Kind.RING, "Ring", "r", "Front door", "t", "/cameras", "ring")
    outbox = Outbox(state.db, state.settings.model_copy(update={"push_threads": 1}))
    try:
        # The one general sender is held by a push service that never answers ...
        held = Delivery(owner["device"], stalling.endpoint, keys["p256dh"], keys["auth"], motion[0])
        assert outbox.submit([held]) == 1
        assert stalling.taken.wait(30)
        # ... while 40 motion pushes queue, and then a ring.
        queued = [
            Delivery(owner["device"], endpoint, keys["p256dh"], keys["auth"], push)
            for push in [*motion, ring]
        ]
        assert outbox.submit(queued) == 41
        (first,) = push_service.wait_for(1, timeout=30)
        assert first.payload["type"] == "ring"
        assert not stalling.release.is_set()
        stalling.close()
        received = push_service.wait_for(41, timeout=60)
    finally:
        stalling.close()
        outbox.close()
    kinds = [r.payload["type"] for r in received]
    assert kinds[0] == "ring"
    assert kinds.count("alert") == 40


def _senders() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("doorstep-push")]


def test_the_senders_start_with_the_first_push_and_stop_with_the_app(
    settings: Settings, push_service: PushService
) -> None:
    app = create_app(settings)
    assert _senders() == []
    with TestClient(app) as client:
        csrf = resident(client)
        device = subscribe(client, csrf, push_service.subscription()).json()
        assert _senders() == []
        sent = client.post(
            f"/api/v1/push/devices/{device['id']}/test", headers={"x-csrf-token": csrf}
        )
        assert sent.status_code == 202
        push_service.wait_for(1)
        # The senders, and one for rings alone.
        assert len(_senders()) == settings.push_threads + 1
    assert _senders() == []
