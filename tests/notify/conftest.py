"""Fixtures for push notifications: a real push service on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.notify.push_service import PushService


@pytest.fixture
def push_service() -> Iterator[PushService]:
    """An RFC 8030 push service on 127.0.0.1 that checks VAPID and decrypts what it gets."""
    with PushService() as service:
        yield service
