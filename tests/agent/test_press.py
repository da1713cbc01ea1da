"""Every press source reaches one fenced press, and Home Assistant discovers the doorbell.

Sources: GPIO (gpiozero's mock pins), the unix socket behind `doorstep agent ring`, the terminal
key and the MQTT command.
"""

from __future__ import annotations

import io
import json
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from gpiozero.pins.mock import MockFactory
from paho.mqtt.enums import CallbackAPIVersion

from doorstep.agent.cli import main_agent
from doorstep.agent.mqtt import MqttPublisher
from doorstep.agent.press import SOCKET_NAME, Bell, GpioButton, RingKey, RingSocket
from doorstep.errors import DoorstepError
from doorstep.platform.folders import private_folder


class Clock:
    """A clock the test moves by hand: no sleeping, no timing."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def rings() -> list[str]:
    return []


@pytest.fixture
def bell(clock: Clock, rings: list[str]) -> Bell:
    return Bell(rings.append, clock=clock)


def test_presses_within_two_seconds_are_one_ring(
    bell: Bell, clock: Clock, rings: list[str]
) -> None:
    assert bell.press("button") is True
    clock.now += 1.9
    assert bell.press("mqtt") is False
    clock.now += 0.2  # 2.1 s after the first press: a new ring
    assert bell.press("key") is True
    assert rings == ["button", "key"]


def test_a_bouncing_held_gpio_button_is_one_press(
    bell: Bell, clock: Clock, rings: list[str]
) -> None:
    factory = MockFactory()
    # gpiozero's own short filter works on the wall clock; the bell's fence is what is tested.
    button = GpioButton(bell, 17, pin_factory=factory, bounce_time=None)
    pin = factory.pin(17)
    try:
        # Contact bounce, then held down for a while (the clock barely moves while it bounces).
        for _ in range(5):
            pin.drive_low()
            pin.drive_high()
            clock.now += 0.05
        pin.drive_low()
        assert button.button.wait_for_press(5)
        clock.now += 1.5
        pin.drive_high()
        assert rings == ["button"]
        # A real second press, later.
        clock.now += 5.0
        pin.drive_low()
        assert button.button.wait_for_press(5)
        pin.drive_high()
        assert button.button.wait_for_release(5)
    finally:
        button.close()
    assert rings == ["button", "button"]


@pytest.fixture
def ring_socket(tmp_path: Path, bell: Bell) -> Iterator[RingSocket]:
    folder = private_folder(tmp_path / "agent")
    sock = RingSocket(bell, folder)
    sock.start()
    yield sock
    sock.close()


def test_doorstep_agent_ring_presses_the_running_agent(
    ring_socket: RingSocket, rings: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = ring_socket.path.parent
    assert stat.S_IMODE(ring_socket.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700

    assert main_agent(["ring", "--state-dir", str(folder)]) == 0
    assert "Ding dong" in capsys.readouterr().out
    assert main_agent(["ring", "--state-dir", str(folder)]) == 0
    assert "same ring" in capsys.readouterr().out
    assert rings == ["cli"]


def test_doorstep_agent_ring_without_an_agent_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main_agent(["ring", "--state-dir", str(tmp_path)]) == 1
    assert "no agent is running" in capsys.readouterr().err


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to act as another user")
def test_another_user_cannot_ring(ring_socket: RingSocket, rings: list[str]) -> None:
    folder = ring_socket.path.parent
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child becomes "nobody" and tries
        os.close(read)
        os.setgid(65534)
        os.setuid(65534)
        from doorstep.agent.press import ring_running_agent

        try:
            ring_running_agent(folder)
            os.write(write, b"rang")
        except DoorstepError:
            os.write(write, b"refused")
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert os.read(read, 16) == b"refused"
    os.close(read)
    assert rings == []
    assert (folder / SOCKET_NAME).exists()


def test_the_ring_key_presses_on_enter(bell: Bell, rings: list[str]) -> None:
    key = RingKey(bell, io.StringIO("\n"))
    key.start()
    key._thread.join(5)
    assert rings == ["key"]


def test_the_mqtt_command_rings_and_home_assistant_discovers_the_doorbell(
    bell: Bell, rings: list[str]
) -> None:
    camera = "cam-press-test"
    seen: dict[str, bytes] = {}
    got = threading.Event()
    watcher = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2)

    def on_message(client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        del client, userdata
        seen[message.topic] = bytes(message.payload)
        if f"doorstep/{camera}/doorbell" in seen:
            got.set()

    watcher.on_message = on_message
    watcher.connect("127.0.0.1", 1883)
    watcher.subscribe("homeassistant/event/#")
    watcher.subscribe(f"doorstep/{camera}/doorbell")
    watcher.loop_start()
    publisher = MqttPublisher("mqtt://127.0.0.1:1883", camera, on_command=bell.press)
    config_topic, _ = publisher.discovery()
    done = threading.Event()
    publisher.client.on_subscribe = lambda *_: done.set()
    publisher.start()
    try:
        assert done.wait(10), "the agent did not subscribe to its command topic"
        watcher.publish(f"doorstep/{camera}/command", "ring", qos=1).wait_for_publish(5)
        for _ in range(100):
            if rings:
                break
            threading.Event().wait(0.05)
        assert rings == ["mqtt"]
        publisher.publish_ring()
        assert got.wait(10)
        assert json.loads(seen[f"doorstep/{camera}/doorbell"]) == {"event_type": "ring"}
        config = json.loads(seen[config_topic])
        assert config["device_class"] == "doorbell"
        assert config["event_types"] == ["ring"]
        assert config["state_topic"] == f"doorstep/{camera}/doorbell"
    finally:
        publisher.stop()
        watcher.publish(config_topic, b"", retain=True).wait_for_publish(5)
        watcher.loop_stop()
        watcher.disconnect()
