"""The doorbell against a hostile account, a flood of sessions, and time.

Relay credentials only for those who may call a camera, ring alerts only for residents, a cap on
the sessions one account can open, and signalling (with its IP addresses) not kept for ever.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from tests.doorbell.test_api import device, state_of
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
