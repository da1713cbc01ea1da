"""MQTT against the real Mosquitto: availability with a Last Will, and an event per clip."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from doorstep.agent.cli import main_agent
from doorstep.agent.mqtt import MqttPublisher
from doorstep.agent.state import AgentState
from doorstep.platform.bus.topics import topic
from tests.agent.conftest import Owner, wait_for
from tests.conftest import service_missing

pytestmark = pytest.mark.mqtt

BROKER = "mqtt://127.0.0.1:1883"


@dataclass
class Observer:
    """A second MQTT client that records what is published about one camera."""

    client: paho.Client
    messages: list[tuple[str, str, bool]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def seen(self, name: str, camera_id: str) -> list[tuple[str, bool]]:
        """Payloads (with their retain flag) seen on one of the camera's topics."""
        with self.lock:
            return [(p, r) for t, p, r in self.messages if t == topic(camera_id, name)]


@pytest.fixture
def broker() -> None:
    """Mosquitto on 127.0.0.1:1883."""
    try:
        socket.create_connection(("127.0.0.1", 1883), timeout=2).close()
    except OSError:
        service_missing("Mosquitto at 127.0.0.1:1883")


def _observe(camera_id: str) -> Observer:
    client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    observer = Observer(client)
    subscribed = threading.Event()

    def on_message(client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        del client, userdata
        with observer.lock:
            observer.messages.append(
                (message.topic, message.payload.decode(), bool(message.retain))
            )

    client.on_message = on_message
    client.on_subscribe = lambda *_args: subscribed.set()
    client.connect("127.0.0.1", 1883)
    client.subscribe(f"doorstep/{camera_id}/#", qos=1)
    client.loop_start()
    assert subscribed.wait(10), "the observer could not subscribe"
    return observer


@pytest.fixture
def camera_id() -> Iterator[str]:
    """A camera id of this test's own; its retained availability is cleared afterwards."""
    camera = f"test-{uuid.uuid4().hex}"
    yield camera
    _clear(camera)


def _clear(camera: str) -> None:
    client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    client.publish(topic(camera, "availability"), b"", qos=1, retain=True).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()


def _close(observer: Observer) -> None:
    observer.client.disconnect()
    observer.client.loop_stop()


@pytest.mark.usefixtures("broker")
def test_online_is_retained_and_the_last_will_says_offline(camera_id: str) -> None:
    publisher = MqttPublisher(BROKER, camera_id, keepalive=5)
    publisher.start()
    wait_for(lambda: publisher.connected, "the agent to reach the broker")
    # A client that arrives later still learns the camera is online: the message is retained.
    observer = _observe(camera_id)
    wait_for(lambda: observer.seen("availability", camera_id), "the retained availability")
    assert observer.seen("availability", camera_id) == [("online", True)]
    # Vanish without a DISCONNECT, as a crashed agent or a pulled cable does.
    publisher.client.loop_stop()
    sock = publisher.client.socket()
    assert isinstance(sock, socket.socket)
    sock.close()
    wait_for(lambda: len(observer.seen("availability", camera_id)) == 2, "the Last Will")
    assert observer.seen("availability", camera_id)[1] == ("offline", False)
    _close(observer)


@pytest.mark.usefixtures("broker")
def test_a_clip_is_announced_as_an_event(
    paired: AgentState, state_dir: Path, footage: Path
) -> None:
    observer = _observe(paired.camera_id)
    status = main_agent(
        [
            "--state-dir",
            str(state_dir),
            "--source",
            str(footage),
            "--no-realtime",
            "--once",
            "--mqtt",
            BROKER,
        ]
    )
    assert status == 0
    wait_for(
        lambda: ("offline", False) in observer.seen("availability", paired.camera_id),
        "the agent to say goodbye",
    )
    events = [json.loads(payload) for payload, _ in observer.seen("event", paired.camera_id)]
    _close(observer)
    _clear(paired.camera_id)
    assert len(events) == 1
    assert events[0]["type"] == "motion"
    assert events[0]["labels"] == []
    assert events[0]["objects"] == []
    assert 0 < events[0]["peak_motion"] <= 1
    assert events[0]["started_at"] < events[0]["ended_at"]
    assert observer.seen("availability", paired.camera_id)[0] == ("online", False)


def test_an_unreachable_broker_never_stops_recording(
    paired: AgentState, owner: Owner, state_dir: Path, footage: Path
) -> None:
    status = main_agent(
        [
            "--state-dir",
            str(state_dir),
            "--source",
            str(footage),
            "--no-realtime",
            "--once",
            "--mqtt",
            "mqtt://127.0.0.1:9",
        ]
    )
    assert status == 0
    assert [clip["camera_id"] for clip in owner.clips()] == [paired.camera_id]


def test_an_event_is_named_by_its_most_telling_label_and_carries_its_objects(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    publisher = MqttPublisher(BROKER, "cam-1")
    sent: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(publisher, "_publish", lambda name, payload: sent.append((name, payload)))
    seen = {"label": "vehicle", "score": 0.9, "box": [0.1, 0.2, 0.5, 0.9], "seconds": 3.0}
    times = {"started_at": "2026-12-06T10:00:00+00:00", "ended_at": "2026-12-06T10:00:09+00:00"}
    publisher.publish_event(
        {**times, "labels": ["animal", "vehicle"], "objects": [seen], "peak_motion": 0.2}
    )
    # An end-to-end camera's clip has no objects in its meta: none are published.
    publisher.publish_event({**times, "labels": ["animal"], "peak_motion": 0.1})
    assert [(name, payload["type"], payload["objects"]) for name, payload in sent] == [
        ("event", "vehicle", [seen]),
        ("event", "animal", []),
    ]
