"""Push devices over the API: subscribe, list, rename, remove, a test push, the VAPID key."""

from __future__ import annotations

import base64
import os
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from doorstep.notify.models import PushDevice
from doorstep.notify.service_vapid import VAPID_KEY_FILE
from doorstep.settings import Settings
from tests.factories import PASSWORD, bearer, resident
from tests.notify.devices import subscribe, until, with_loopback
from tests.notify.push_service import PushService


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return with_loopback(settings)


def test_the_key_is_a_p256_point_made_once_into_the_data_folder(
    app: FastAPI, client: TestClient, settings: Settings
) -> None:
    first = client.get("/api/v1/push/key")
    assert first.status_code == 200
    key = first.json()["public_key"]
    raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    assert "=" not in key
    assert client.get("/api/v1/push/key").json()["public_key"] == key
    path = settings.data_dir / VAPID_KEY_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # Another app on the same data folder (a restart, a second process) keeps the same key.
    with TestClient(app) as again:
        assert again.get("/api/v1/push/key").json()["public_key"] == key


def test_a_device_is_added_listed_renamed_and_removed(
    client: TestClient, push_service: PushService
) -> None:
    csrf = resident(client)
    subscription = push_service.subscription()
    added = subscribe(client, csrf, subscription, name="Ada's phone")
    assert added.status_code == 201, added.text
    device = added.json()
    assert device["name"] == "Ada's phone"
    assert device["service"] == "127.0.0.1"
    assert device["last_success_at"] is None
    assert device["last_failure"] is None
    # Never the endpoint (a capability) or the keys.
    assert set(device) == {"id", "name", "service", "created_at", "last_success_at", "last_failure"}
    assert subscription["endpoint"] not in added.text

    # The browser subscribing again is the same device, its keys updated.
    fresh = push_service.subscription()
    again = subscribe(client, csrf, {**subscription, "keys": fresh["keys"]})
    assert again.status_code == 200, again.text
    assert again.json()["id"] == device["id"]
    assert [d["id"] for d in client.get("/api/v1/push/devices").json()] == [device["id"]]

    renamed = client.patch(
        f"/api/v1/push/devices/{device['id']}",
        json={"name": "Kitchen tablet"},
        headers={"x-csrf-token": csrf},
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Kitchen tablet"
    removed = client.delete(f"/api/v1/push/devices/{device['id']}", headers={"x-csrf-token": csrf})
    assert removed.status_code == 204
    assert client.get("/api/v1/push/devices").json() == []


def test_a_test_push_reaches_the_device_and_shows_in_the_list(
    client: TestClient, push_service: PushService
) -> None:
    csrf = resident(client)
    push_service.expected_key = client.get("/api/v1/push/key").json()["public_key"]
    subscription = push_service.subscription()
    device = subscribe(client, csrf, subscription).json()
    sent = client.post(f"/api/v1/push/devices/{device['id']}/test", headers={"x-csrf-token": csrf})
    assert sent.status_code == 202, sent.text
    (received,) = push_service.wait_for(1)
    assert received.payload["type"] == "test"
    assert received.payload["url"] == "/account"
    until(lambda: client.get("/api/v1/push/devices").json()[0]["last_success_at"] is not None)


def test_a_token_reads_the_devices_but_cannot_change_them(
    client: TestClient, push_service: PushService
) -> None:
    csrf = resident(client)
    device = subscribe(client, csrf, push_service.subscription()).json()
    token = bearer(client, csrf, {"account:read"})
    with TestClient(client.app) as script:
        listed = script.get("/api/v1/push/devices", headers=token)
        assert [d["id"] for d in listed.json()] == [device["id"]]
        added = script.post("/api/v1/push/devices", json=push_service.subscription(), headers=token)
        assert added.status_code == 403
        gone = script.delete(f"/api/v1/push/devices/{device['id']}", headers=token)
        assert gone.status_code == 403


def test_deleting_the_account_forgets_its_devices(
    app: FastAPI, client: TestClient, push_service: PushService
) -> None:
    csrf = resident(client)
    assert subscribe(client, csrf, push_service.subscription()).status_code == 201
    gone = client.request(
        "DELETE", "/api/v1/me", json={"password": PASSWORD}, headers={"x-csrf-token": csrf}
    )
    assert gone.status_code == 200, gone.text
    with app.state.doorstep.db.session() as db:
        assert db.scalar(select(func.count()).select_from(PushDevice)) == 0
