"""Helpers for push tests: loopback-friendly settings, subscribing through the API."""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient

from doorstep.settings import Settings


def with_loopback(settings: Settings) -> Settings:
    """The settings, accepting the loopback push service the tests run."""
    return settings.model_copy(update={"push_allow_loopback": True})


def subscribe(
    client: TestClient, csrf: str, subscription: dict[str, Any], name: str | None = None
) -> Any:
    """Send a browser's subscription to the API as the signed-in client."""
    return client.post(
        "/api/v1/push/devices",
        json={**subscription, "name": name, "expirationTime": None},
        headers={"x-csrf-token": csrf},
    )


def until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Return once ``check()`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.02)


def unreachable_subscription(name: str) -> dict[str, Any]:
    """A well-formed subscription on a name that never resolves (RFC 6761 ``.invalid``).

    Accepted (it is https and names no private address), and nothing ever reaches it.
    """
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )

    def b64url(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    return {
        "endpoint": f"https://push.invalid/send/{name}",
        "keys": {"p256dh": b64url(point), "auth": b64url(secrets.token_bytes(16))},
    }
