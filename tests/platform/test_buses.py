"""Buses: in-process delivery after commit, and across processes through the real broker."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable, Iterator

import pytest

from doorstep.errors import Unavailable
from doorstep.platform.bus.held import MAX_SECONDS, HeldFiles
from doorstep.platform.bus.memory import MemoryBus
from doorstep.platform.bus.mqtt import MqttBus
from tests.conftest import service_missing

BROKER = "mqtt://127.0.0.1:1883"
#: The master key every server process of the test shares.
KEY = bytes(range(32))


def _broker_up() -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", 1883)) == 0


@pytest.fixture
def two_processes() -> Iterator[tuple[MqttBus, MqttBus]]:
    """Two API processes' buses on the same broker."""
    if not _broker_up():
        service_missing("Mosquitto at 127.0.0.1:1883")
    first, second = MqttBus(BROKER, master_key=KEY), MqttBus(BROKER, master_key=KEY)
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
        MqttBus("mqtt://127.0.0.1:9", master_key=KEY, connect_timeout=1)


@pytest.mark.mqtt
def test_closing_the_bus_is_not_reported_as_losing_the_broker(
    two_processes: tuple[MqttBus, MqttBus], caplog: pytest.LogCaptureFixture
) -> None:
    first, _second = two_processes
    with caplog.at_level(logging.WARNING, logger="doorstep.platform.bus.mqtt"):
        first.close()
        # paho calls on_disconnect from its network thread; give it the moment it needs.
        deadline = time.monotonic() + 5
        while first.client.is_connected() and time.monotonic() < deadline:
            time.sleep(0.05)
    assert not first.client.is_connected()
    assert "lost the MQTT broker" not in caplog.text


def _until(condition: Callable[[], object], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.mark.mqtt
def test_live_view_crosses_processes_only_while_someone_watches(
    two_processes: tuple[MqttBus, MqttBus],
) -> None:
    page_side, agent_side = two_processes
    # Nobody watches: the agent's process drops the frame and tells the agent to stop.
    assert not agent_side.live.wanted("cam-1")
    assert not agent_side.live.publish("cam-1", b"\xff\xd8 first")
    # The owner's page opens on the other process.
    page_side.live.want("cam-1")
    assert _until(lambda: agent_side.live.wanted("cam-1"))
    assert not agent_side.live.wanted("cam-2")
    assert agent_side.live.publish("cam-1", b"\xff\xd8 second")
    assert _until(lambda: page_side.live.latest("cam-1") is not None)
    latest = page_side.live.latest("cam-1")
    assert latest is not None
    assert latest[1] == b"\xff\xd8 second"
    # A frame is delivered once, not echoed back into its own process as a second frame.
    seq = agent_side.live.latest("cam-1")
    time.sleep(0.3)
    assert agent_side.live.latest("cam-1") == seq


@pytest.mark.mqtt
def test_a_live_wish_lapses_and_the_frames_go_with_it(
    two_processes: tuple[MqttBus, MqttBus],
) -> None:
    page_side, agent_side = two_processes
    page_side.live.want("cam-9", seconds=0.5)
    assert _until(lambda: agent_side.live.wanted("cam-9"))
    assert agent_side.live.publish("cam-9", b"\xff\xd8 frame")
    assert _until(lambda: page_side.live.latest("cam-9") is not None)
    time.sleep(0.7)
    assert not agent_side.live.wanted("cam-9")
    assert not page_side.live.wanted("cam-9")
    assert page_side.live.latest("cam-9") is None
    assert agent_side.live.latest("cam-9") is None


def test_a_held_file_is_kept_for_its_time_then_forgotten() -> None:
    held = HeldFiles()
    held.hold("ring-1", b"\xff\xd8 one", 120)
    held.hold("ring-2", b"\xff\xd8 two", 0)
    assert held.get("ring-1") == b"\xff\xd8 one"
    assert held.get("ring-2") is None
    assert held.get("ring-3") is None
    # However long it is asked for, nothing is held past the limit.
    held.hold("ring-4", b"x", 10**9)
    assert held._items["ring-4"][0] - time.monotonic() <= MAX_SECONDS


@pytest.mark.mqtt
def test_a_held_file_reaches_every_process_and_a_device_key_wakes_its_waiter(
    two_processes: tuple[MqttBus, MqttBus],
) -> None:
    agent_side, page_side = two_processes
    agent_side.held.hold("ring-abc", b"\xff\xd8 snapshot", 120)
    assert agent_side.held.get("ring-abc") == b"\xff\xd8 snapshot"
    assert _until(lambda: page_side.held.get("ring-abc") == b"\xff\xd8 snapshot")

    async def waits() -> dict[str, object]:
        subscription = agent_side.subscribe("camera:cam-9")
        try:
            page_side.publish("camera:cam-9", {"type": "session"})
            return await asyncio.wait_for(subscription.queue.get(), 10)
        finally:
            agent_side.unsubscribe(subscription)

    assert asyncio.run(waits()) == {"type": "session"}
