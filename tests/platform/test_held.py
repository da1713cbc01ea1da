"""Held pictures: in memory only, for a short while, bounded; shared across processes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from doorstep.platform.bus import held
from doorstep.platform.bus.held import HOLD_SECONDS, HeldBlobs
from doorstep.platform.bus.mqtt import MqttBus
from tests.conftest import service_missing
from tests.platform.test_buses import BROKER, _broker_up, _until


def test_a_held_picture_is_served_until_it_lapses() -> None:
    store = HeldBlobs()
    store.put("event:cam:1", b"\xff\xd8 one")
    store.put("event:cam:2", b"\xff\xd8 two", seconds=0)
    assert store.get("event:cam:1") == b"\xff\xd8 one"
    assert store.get("event:cam:2") is None
    assert store.get("event:cam:3") is None
    store.drop("event:cam:1")
    assert store.get("event:cam:1") is None


def test_nothing_is_held_longer_than_the_limit() -> None:
    store = HeldBlobs()
    store.put("k", b"x", seconds=10 * HOLD_SECONDS)
    until, _ = store._items["k"]
    plain = HeldBlobs()
    plain.put("k", b"x")
    assert until == pytest.approx(plain._items["k"][0], abs=5.0)


def test_the_store_is_bounded_and_drops_the_oldest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(held, "MAX_HELD", 3)
    store = HeldBlobs()
    for number in range(5):
        store.put(f"k{number}", b"x")
    assert [store.get(f"k{n}") for n in range(5)] == [None, None, b"x", b"x", b"x"]


@pytest.fixture
def two_processes() -> Iterator[tuple[MqttBus, MqttBus]]:
    if not _broker_up():
        service_missing("Mosquitto at 127.0.0.1:1883")
    first, second = MqttBus(BROKER), MqttBus(BROKER)
    yield first, second
    first.close()
    second.close()


@pytest.mark.mqtt
def test_a_held_picture_reaches_the_other_process(
    two_processes: tuple[MqttBus, MqttBus],
) -> None:
    agent_side, page_side = two_processes
    agent_side.held.put("event:cam-1:e1", b"\xff\xd8 snap")
    assert agent_side.held.get("event:cam-1:e1") == b"\xff\xd8 snap"
    assert _until(lambda: page_side.held.get("event:cam-1:e1") is not None)
    assert page_side.held.get("event:cam-1:e1") == b"\xff\xd8 snap"
