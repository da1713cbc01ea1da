"""Server processes seal what they hand each other on the shared broker.

No broker client reads it, and nothing a broker client plants is taken for a server's.
"""

from __future__ import annotations

import asyncio
import queue
import time
import uuid
from collections.abc import Iterator

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from doorstep.platform.bus.held import MAX_SECONDS
from doorstep.platform.bus.mqtt import (
    CLOCK_SLACK_SECONDS,
    HELD_PREFIX,
    MAX_PAYLOAD,
    MqttBus,
    Sealer,
)
from tests.platform.test_buses import BROKER, KEY, _until, two_processes  # noqa: F401

SNAPSHOT = b"\xff\xd8\xff\xe0 the visitor at the door"
NOW = 1_800_000_000.0


def test_a_sealed_payload_opens_only_on_its_topic_with_the_key_and_in_time() -> None:
    sealer = Sealer(KEY)
    sealed = sealer.seal("doorstep/server/held/a/ring-1", SNAPSHOT, 120, now=NOW)
    assert SNAPSHOT not in sealed
    assert sealer.open("doorstep/server/held/a/ring-1", sealed, now=NOW) == (SNAPSHOT, 120.0)
    # Moved to another topic, opened with another key, or too late: it does not open.
    assert sealer.open("doorstep/server/held/a/ring-2", sealed, now=NOW) is None
    assert Sealer(bytes(32)).open("doorstep/server/held/a/ring-1", sealed, now=NOW) is None
    late = NOW + 120 + CLOCK_SLACK_SECONDS + 1
    assert sealer.open("doorstep/server/held/a/ring-1", sealed, now=late) is None
    # A receiver whose clock runs a little ahead still takes it, with no time left to hold it.
    ahead = sealer.open("doorstep/server/held/a/ring-1", sealed, now=NOW + 125)
    assert ahead == (SNAPSHOT, 0.0)
    # Any altered byte, the expiry included, and it does not open either.
    for at in (0, 3, 15, len(sealed) - 1):
        bent = bytearray(sealed)
        bent[at] ^= 1
        assert sealer.open("doorstep/server/held/a/ring-1", bytes(bent), now=NOW) is None


def test_an_expiry_too_far_ahead_or_a_payload_too_small_or_large_does_not_open() -> None:
    sealer = Sealer(KEY)
    far = sealer.seal("t", b"x", MAX_SECONDS * 10, now=NOW)
    assert sealer.open("t", far, now=NOW) is None
    assert sealer.open("t", b"", now=NOW) is None
    assert sealer.open("t", SNAPSHOT, now=NOW) is None
    assert sealer.open("t", bytes(MAX_PAYLOAD + 64), now=NOW) is None


@pytest.fixture
def spy() -> Iterator[queue.Queue[tuple[str, bytes]]]:
    """A broker client that is not a server, listening to everything the servers send."""
    got: queue.Queue[tuple[str, bytes]] = queue.Queue()
    client = paho.Client(
        callback_api_version=CallbackAPIVersion.VERSION2, client_id=f"spy-{uuid.uuid4().hex[:8]}"
    )
    client.on_message = lambda _c, _u, message: got.put((message.topic, bytes(message.payload)))
    subscribed = queue.Queue[bool]()
    client.on_subscribe = lambda *_: subscribed.put(True)
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    client.subscribe("doorstep/server/#", qos=1)
    subscribed.get(timeout=5)
    got.client = client  # type: ignore[attr-defined]
    yield got
    client.loop_stop()
    client.disconnect()


def _drain(got: queue.Queue[tuple[str, bytes]], seconds: float = 1.0) -> dict[str, bytes]:
    seen: dict[str, bytes] = {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            topic, payload = got.get(timeout=0.1)
        except queue.Empty:
            continue
        seen[topic] = payload
    return seen


@pytest.mark.mqtt
def test_a_broker_client_reads_no_snapshot_frame_or_event(
    two_processes: tuple[MqttBus, MqttBus],  # noqa: F811
    spy: queue.Queue[tuple[str, bytes]],
) -> None:
    agent_side, page_side = two_processes
    agent_side.held.hold("ring-abc", SNAPSHOT, 120)
    page_side.live.want("cam-1")
    assert _until(lambda: agent_side.live.wanted("cam-1"))
    assert agent_side.live.publish("cam-1", SNAPSHOT + b" live")
    agent_side.publish("acc-1", {"type": "ring", "camera": "Front door"})
    assert _until(lambda: page_side.held.get("ring-abc") == SNAPSHOT)
    assert _until(lambda: page_side.live.latest("cam-1") is not None)
    seen = _drain(spy)
    assert any(topic.endswith("/ring-abc") for topic in seen)
    assert any("/frame/" in topic for topic in seen)
    assert "doorstep/server/accounts/acc-1" in seen
    for payload in seen.values():
        assert b"visitor" not in payload
        assert b"Front door" not in payload


@pytest.mark.mqtt
def test_what_a_broker_client_plants_or_replays_is_ignored(
    two_processes: tuple[MqttBus, MqttBus],  # noqa: F811
    spy: queue.Queue[tuple[str, bytes]],
) -> None:
    agent_side, page_side = two_processes
    agent_side.held.hold("ring-abc", SNAPSHOT, 120)
    assert _until(lambda: page_side.held.get("ring-abc") == SNAPSHOT)
    sealed = next(p for t, p in _drain(spy).items() if t.endswith("/ring-abc"))
    client: paho.Client = spy.client  # type: ignore[attr-defined]
    # A picture of its own on the very topic the server used, and under a made-up origin.
    for topic in (f"{HELD_PREFIX}{agent_side.origin}/ring-abc", f"{HELD_PREFIX}x/ring-abc"):
        client.publish(topic, b"\xff\xd8 planted", qos=1).wait_for_publish()
    # The server's own sealed snapshot, replayed as another ring's.
    client.publish(f"{HELD_PREFIX}x/ring-other", sealed, qos=1).wait_for_publish()
    client.publish("doorstep/server/live/cam-7/want", b"5", qos=1).wait_for_publish()

    async def first_event() -> dict[str, object]:
        page = page_side.subscribe("acc-1")
        client.publish("doorstep/server/accounts/acc-1", b'{"type": "planted"}', qos=1)
        # Sent after the planted one: had that been taken, it would come first.
        agent_side.publish("acc-1", {"type": "ring"})
        return await asyncio.wait_for(page.queue.get(), 5)

    assert asyncio.run(first_event()) == {"type": "ring"}
    assert page_side.held.get("ring-abc") == SNAPSHOT
    assert page_side.held.get("ring-other") is None
    assert not page_side.live.wanted("cam-7")


@pytest.mark.mqtt
def test_a_process_with_another_master_key_gets_nothing(
    two_processes: tuple[MqttBus, MqttBus],  # noqa: F811
) -> None:
    agent_side, _ = two_processes
    stranger = MqttBus(BROKER, master_key=bytes(32))
    try:
        agent_side.held.hold("ring-xyz", SNAPSHOT, 120)
        time.sleep(0.5)
        assert stranger.held.get("ring-xyz") is None
    finally:
        stranger.close()
