"""The demo's phone: a real Web Push receiver that decrypts what a push sender encrypts for it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from py_vapid import Vapid
from pywebpush import webpush

from doorstep.accounts import service as accounts
from doorstep.app import create_app
from doorstep.demo import run as demo
from doorstep.demo._phone import DemoPhone
from doorstep.platform.db import Database
from doorstep.platform.migrate import migrate
from doorstep.settings import Environment, Settings
from tests.factories import PASSWORD, log_in

RING = {
    "type": "ring",
    "title": "Someone is at the Front door",
    "body": "Answer to see who it is.",
    "camera": "Front door",
    "at": "2026-12-06T03:00:00+00:00",
    "url": "/cameras/cam-1/live?ring=ring-1",
    "tag": "ring-cam-1",
}


@pytest.fixture
def phone() -> Iterator[tuple[DemoPhone, list[dict[str, Any]]]]:
    """A listening demo phone and the payloads it showed."""
    shown: list[dict[str, Any]] = []
    started = DemoPhone(on_push=shown.append)
    started.start()
    yield started, shown
    started.stop()


def _send(subscription: dict[str, Any], payload: object) -> int:
    vapid = Vapid()
    vapid.generate_keys()
    answer = webpush(
        subscription,
        json.dumps(payload),
        vapid_private_key=vapid,
        vapid_claims={"sub": "mailto:operator@doorstep.invalid"},
        content_encoding="aes128gcm",
        ttl=60,
        timeout=5,
    )
    status: int = answer.status_code
    return status


def test_the_demo_phone_decrypts_a_push_encrypted_for_its_subscription(
    phone: tuple[DemoPhone, list[dict[str, Any]]],
) -> None:
    receiver, shown = phone
    assert _send(receiver.subscription(), RING) == 201
    assert receiver.received == shown == [RING]
    # A message for another subscription (other keys) cannot be read: refused, not shown.
    elsewhere = {"endpoint": receiver.endpoint, "keys": DemoPhone().keys()}
    with pytest.raises(Exception, match="400"):
        _send(elsewhere, {**RING, "title": "not for this phone"})
    # Readable but not the JSON object every Doorstep push is: refused too.
    with pytest.raises(Exception, match="400"):
        _send(receiver.subscription(), ["not", "an", "object"])
    assert receiver.refused == 2
    assert shown == [RING]


def test_the_demo_phone_prints_one_line_a_push(capsys: pytest.CaptureFixture[str]) -> None:
    from doorstep.demo._phone import show

    show(RING)
    assert capsys.readouterr().out == "  phone: Someone is at the Front door (ring)\n"
    # A title without the camera's name gets it, so the terminal says which doorbell rang.
    show({**RING, "title": "Someone is at the door", "camera": "Side gate"})
    assert capsys.readouterr().out == "  phone: Someone is at the door: Side gate (ring)\n"


def test_the_demo_owner_phone_is_subscribed_once_and_gets_a_test_push(
    tmp_path: Path, phone: tuple[DemoPhone, list[dict[str, Any]]]
) -> None:
    """Runs with the notify service in the tree: the demo subscribes through it."""
    from doorstep.notify import service as notify

    receiver, shown = phone
    settings = Settings(
        env=Environment.TEST, data_dir=tmp_path / "data", database_url="", blob_store="local"
    )
    owner_email = demo.DEMO_LOGINS[0].email
    db = Database(settings.resolved_database_url)
    migrate(db.engine)
    with db.session() as session:
        accounts.create_user(
            session,
            email=owner_email,
            password=PASSWORD,
            display_name="Avery",
            home=None,
            cell_resolution=settings.public_cell_resolution,
            role=demo.DEMO_LOGINS[0].role,
        )
    # A second start replaces the first start's phone (it listened on another port).
    earlier = {"endpoint": "http://127.0.0.1:9/push/demo-phone", "keys": DemoPhone().keys()}
    demo.subscribe_demo_phone(settings, earlier)
    demo.subscribe_demo_phone(settings, receiver.subscription())
    with db.session() as session:
        owner = accounts.find_user_by_email(session, owner_email)
        assert owner is not None
        devices = notify.list_devices(session, owner)
    db.dispose()
    assert [device.name for device in devices] == [demo.PHONE_NAME]

    loopback = settings.model_copy(update={"push_allow_loopback": True})
    with TestClient(create_app(loopback)) as client:
        csrf = log_in(client, owner_email)
        sent = client.post(
            f"/api/v1/push/devices/{devices[0].id}/test", headers={"x-csrf-token": csrf}
        )
        assert sent.status_code == 202, sent.text
        deadline = time.monotonic() + 20
        while not shown:
            assert time.monotonic() < deadline, "the demo phone got no push"
            time.sleep(0.05)
    assert [push["type"] for push in shown] == ["test"]
