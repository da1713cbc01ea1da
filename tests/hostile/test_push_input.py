"""Hostile push subscriptions: bad keys, endpoints that would make the server fetch inside."""

from __future__ import annotations

import base64
import ipaddress
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient

from doorstep.errors import InvalidInput
from doorstep.notify import rules_endpoints
from doorstep.notify.rules import MAX_DEVICES
from tests.factories import resident
from tests.notify.devices import subscribe
from tests.notify.push_service import PushService, b64url, point


@pytest.fixture
def database_url(engine_database_url: str) -> str:
    """One database is enough here: these are refused before anything is stored."""
    return engine_database_url


def _keys() -> dict[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    return {"p256dh": b64url(point(key.public_key())), "auth": b64url(b"a" * 16)}


def _body(endpoint: str = "https://push.invalid/send/abc", **keys: str) -> dict[str, Any]:
    return {"endpoint": endpoint, "keys": {**_keys(), **keys}}


def _off_curve() -> str:
    # An uncompressed point whose coordinates satisfy nothing: x = 1, y = 1.
    return b64url(b"\x04" + (1).to_bytes(32, "big") + (1).to_bytes(32, "big"))


#: Keys no browser would send, and the field each is refused for.
BAD_KEYS: list[tuple[dict[str, str], str]] = [
    ({"p256dh": "not base64 !!"}, "keys.p256dh"),
    ({"p256dh": b64url(b"\x04" + b"\x01" * 30)}, "keys.p256dh"),
    ({"p256dh": _off_curve()}, "keys.p256dh"),
    ({"p256dh": b64url(b"\x02" + b"\x01" * 64)}, "keys.p256dh"),
    ({"p256dh": ""}, "keys.p256dh"),
    ({"auth": b64url(b"a" * 15)}, "keys.auth"),
    ({"auth": b64url(b"a" * 32)}, "keys.auth"),
    ({"auth": "%%%"}, "keys.auth"),
]


def test_malformed_keys_are_refused_clearly(client: TestClient) -> None:
    csrf = resident(client)
    for keys, field in BAD_KEYS:
        refused = subscribe(client, csrf, _body(**keys))
        assert refused.status_code == 422, refused.text
        assert refused.json()["field"] == field, refused.text
    assert client.get("/api/v1/push/devices").json() == []


#: Not https, not public, not a plain URL: each would have the server fetch where it must not.
REFUSED_ENDPOINTS = [
    "http://push.example.org/send/abc",
    "ftp://push.example.org/send/abc",
    "javascript:alert(1)",
    "https://10.0.0.1/send/abc",
    "https://192.168.1.20/send/abc",
    "https://localhost/send/abc",
    "https://127.0.0.1:8443/send/abc",
    "https://[::1]/send/abc",
    "https://169.254.169.254/latest/meta-data",
    "https://100.64.0.1/send/abc",
    "https://[::ffff:10.0.0.1]/send/abc",
    "https://[fd00::1]/send/abc",
    "https://224.0.0.1/send/abc",
    "https://0.0.0.0/send/abc",
    "https://user:secret@push.example.org/send/abc",
    "https:///send/abc",
    "https://push.example.org:99999/send",
    "https://push.example.org/" + "a" * 2000,
]


def test_endpoints_that_are_not_public_https_are_refused(client: TestClient) -> None:
    csrf = resident(client)
    answers = {
        endpoint[:60]: subscribe(client, csrf, _body(endpoint)).status_code
        for endpoint in REFUSED_ENDPOINTS
    }
    assert answers == {endpoint[:60]: 422 for endpoint in REFUSED_ENDPOINTS}
    assert client.get("/api/v1/push/devices").json() == []


def test_the_loopback_push_service_is_refused_unless_the_operator_allows_it(
    client: TestClient,
) -> None:
    csrf = resident(client)
    with PushService() as push_service:
        refused = subscribe(client, csrf, push_service.subscription())
        assert refused.status_code == 422, refused.text
        assert "https" in refused.json()["detail"]
        assert push_service.received == []
        assert push_service.rejected == []


def test_many_subscriptions_from_one_account_stop_at_the_cap(client: TestClient) -> None:
    csrf = resident(client)
    answers = [
        subscribe(client, csrf, _body(f"https://push.invalid/send/{n}")).status_code
        for n in range(MAX_DEVICES + 5)
    ]
    assert answers == [201] * MAX_DEVICES + [409] * 5
    assert len(client.get("/api/v1/push/devices").json()) == MAX_DEVICES


def test_subscriptions_at_once_still_stop_at_the_cap(client: TestClient) -> None:
    csrf = resident(client)
    for n in range(MAX_DEVICES - 1):
        assert subscribe(client, csrf, _body(f"https://push.invalid/send/{n}")).status_code == 201
    # The last free place, asked for by eight browsers at once: one gets it.
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(
                lambda n: subscribe(client, csrf, _body(f"https://push.invalid/at-once/{n}")),
                range(8),
            )
        )
    assert sorted(answer.status_code for answer in answers) == [201] + [409] * 7
    assert len(client.get("/api/v1/push/devices").json()) == MAX_DEVICES


def test_another_accounts_device_is_not_found(client: TestClient) -> None:
    csrf = resident(client)
    device = subscribe(client, csrf, _body()).json()
    with TestClient(client.app) as mallory:
        other = resident(mallory, "mallory@example.org")
        headers = {"x-csrf-token": other}
        url = f"/api/v1/push/devices/{device['id']}"
        assert mallory.patch(url, json={"name": "mine"}, headers=headers).status_code == 404
        assert mallory.delete(url, headers=headers).status_code == 404
        assert mallory.post(f"{url}/test", headers=headers).status_code == 404
        assert mallory.get("/api/v1/push/devices").json() == []
    assert client.get("/api/v1/push/devices").json()[0]["name"] == device["name"]


def test_a_name_too_long_or_unknown_fields_are_refused(client: TestClient) -> None:
    csrf = resident(client)
    long_name = subscribe(client, csrf, _body(), name="x" * 61)
    assert long_name.status_code == 422
    extra = client.post(
        "/api/v1/push/devices",
        json={**_body(), "snapshot": "yes"},
        headers={"x-csrf-token": csrf},
    )
    assert extra.status_code == 422
    keys = base64.urlsafe_b64encode(b"x").decode()
    assert subscribe(client, csrf, {"endpoint": 5, "keys": keys}).status_code == 422


@pytest.mark.parametrize(
    "address",
    [
        "fec0::1",  # site-local: a private network's addresses, though deprecated
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254, the cloud metadata service
        "2002:c0a8:1::1",  # 6to4 of 192.168.0.1
    ],
)
def test_ipv6_forms_that_reach_private_networks_are_not_public(address: str) -> None:
    assert not rules_endpoints.is_public(ipaddress.ip_address(address))
    with pytest.raises(InvalidInput):
        rules_endpoints.parse_endpoint(f"https://[{address}]/push/x", allow_loopback=False)


def test_a_6to4_address_of_a_public_host_still_is() -> None:
    assert rules_endpoints.is_public(ipaddress.ip_address("2002:5db8:d70e::1"))


def test_test_pushes_do_not_pile_up_for_one_device(client: TestClient) -> None:
    # Each press queued one more POST to an address of the caller's choosing, without end: a
    # script could fill the server's memory and keep every sender busy on its own endpoint.
    csrf = resident(client)
    device = subscribe(client, csrf, _body("https://push.invalid/send/flood")).json()
    url = f"/api/v1/push/devices/{device['id']}/test"
    answers = [client.post(url, headers={"x-csrf-token": csrf}).status_code for _ in range(20)]
    assert answers == [202] + [429] * 19
