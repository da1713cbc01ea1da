"""Buses: in-process delivery after commit, and across processes through the real broker."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

from doorstep.bus.memory import MemoryBus
from doorstep.bus.mqtt import MqttBus
from doorstep.errors import Unavailable
from tests.conftest import service_missing

BROKER = "mqtt://127.0.0.1:1883"


def _broker_up() -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", 1883)) == 0


@pytest.fixture
def two_processes() -> Iterator[tuple[MqttBus, MqttBus]]:
    """Two API processes' buses on the same broker."""
    if not _broker_up():
        service_missing("Mosquitto at 127.0.0.1:1883")
    first, second = MqttBus(BROKER), MqttBus(BROKER)
    yield first, second
    first.close()
    second.close()


def test_the_memory_bus_delivers_to_each_open_page() -> None:
    async def scenario() -> list[dict[str, object]]:
        bus = MemoryBus()
        mine, other = bus.subscribe("ada"), bus.subscribe("bob")
        assert bus.publish("ada", {"type": "clip", "n": 1}) == 1
        got = await asyncio.wait_for(mine.queue.get(), 2)
        assert other.queue.empty()
        bus.unsubscribe(mine)
        assert bus.listeners("ada") == 0
        return [got]

    assert asyncio.run(scenario()) == [{"type": "clip", "n": 1}]


def test_a_full_page_queue_drops_instead_of_blocking() -> None:
    async def scenario() -> int:
        bus = MemoryBus()
        page = bus.subscribe("ada")
        for n in range(150):
            bus.publish("ada", {"n": n})
        await asyncio.sleep(0.05)
        return page.dropped

    assert asyncio.run(scenario()) == 50


@pytest.mark.mqtt
def test_an_event_published_on_one_process_reaches_a_page_on_another(
    two_processes: tuple[MqttBus, MqttBus],
) -> None:
    first, second = two_processes

    async def scenario() -> dict[str, object]:
        page = second.subscribe("ada")
        stranger = second.subscribe("bob")
        first.publish("ada", {"type": "clip", "clip": {"id": "c1"}})
        got = await asyncio.wait_for(page.queue.get(), 5)
        await asyncio.sleep(0.2)
        assert stranger.queue.empty()
        return got

    assert asyncio.run(scenario()) == {"type": "clip", "clip": {"id": "c1"}}


@pytest.mark.mqtt
def test_an_unreachable_broker_is_a_clear_error() -> None:
    with pytest.raises(Unavailable, match="MQTT broker"):
        MqttBus("mqtt://127.0.0.1:9", connect_timeout=1)
