"""The compose stack's Mosquitto config, run: no anonymous client, each user on its own topics.

(And coturn's turnserver.conf, started long enough to show it takes every denied range.)

deploy/compose/mosquitto.conf and mosquitto.acl are started in a temporary copy (free ports on
127.0.0.1, certificates made here, a password file from ``mosquitto_passwd``); a test-only user
``tester`` that may read and write everything watches what gets through.
"""

from __future__ import annotations

import queue
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.conftest import service_missing
from tests.platform.test_mqtt_tls import MOSQUITTO, _free_port, _server_files

COMPOSE = Path(__file__).resolve().parents[1] / "deploy" / "compose"
PASSWORD = "broker-pw-1"
CAMERA, OTHER = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"


@dataclass(frozen=True)
class Broker:
    """The running broker's two listeners and the CA its certificate comes from."""

    plain: int
    tls: int
    ca_file: str


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """Mosquitto on the deploy config, its paths and ports moved into a temporary folder."""
    tool = shutil.which("mosquitto_passwd")
    if tool is None or not Path(MOSQUITTO).exists():
        service_missing("mosquitto and mosquitto_passwd (Debian package mosquitto)")
    folder = tmp_path_factory.mktemp("deploy-mosquitto")
    ca_file, cert_file, _ = _server_files(folder)
    plain, tls = _free_port(), _free_port()
    text = (
        (COMPOSE / "mosquitto.conf")
        .read_text()
        .replace("listener 1883", f"listener {plain} 127.0.0.1")
        .replace("listener 8883", f"listener {tls} 127.0.0.1")
        .replace("/mosquitto/certs/fullchain.pem", cert_file)
        .replace("/mosquitto/certs/privkey.pem", str(folder / "server.key"))
        .replace("/mosquitto/config/", f"{folder}/")
    )
    assert "/mosquitto/" not in text
    (folder / "mosquitto.conf").write_text("user root\n" + text)
    acl = (COMPOSE / "mosquitto.acl").read_text() + "\nuser tester\ntopic readwrite #\n"
    (folder / "mosquitto.acl").write_text(acl)
    passwords = folder / "mosquitto.passwd"
    for n, user in enumerate(("doorstep", CAMERA, OTHER, "tester")):
        flags = ["-c", "-b"] if n == 0 else ["-b"]
        subprocess.run([tool, *flags, str(passwords), user, PASSWORD], check=True)
    log = (folder / "mosquitto.log").open("wb")
    process = subprocess.Popen(
        [MOSQUITTO, "-c", str(folder / "mosquitto.conf")], stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", tls)) == 0:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Mosquitto did not start: {(folder / 'mosquitto.log').read_text()}")
            time.sleep(0.05)
        yield Broker(plain, tls, ca_file)
    finally:
        process.terminate()
        process.wait(10)
        log.close()


class Client:
    """A connected paho client that queues what it receives."""

    def __init__(self, broker: Broker, user: str | None, *, tls: bool = True) -> None:
        self.connected: queue.Queue[int] = queue.Queue()
        self.received: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.subscribed: queue.Queue[None] = queue.Queue()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"t-{user}")
        if user is not None:
            self.client.username_pw_set(user, PASSWORD)
        if tls:
            self.client.tls_set(ca_certs=broker.ca_file)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.connect("127.0.0.1", broker.tls if tls else broker.plain)
        self.client.loop_start()

    def _on_connect(self, client: paho.Client, userdata: Any, flags: Any, rc: Any, *_: Any) -> None:
        del client, userdata, flags
        self.connected.put(int(rc.value) if hasattr(rc, "value") else int(rc))

    def _on_subscribe(self, *args: Any) -> None:
        del args
        self.subscribed.put(None)

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        del client, userdata
        self.received.put((message.topic, bytes(message.payload)))

    def connack(self) -> int:
        """The broker's answer to CONNECT: 0 is accepted."""
        return self.connected.get(timeout=10)

    def subscribe(self, pattern: str) -> None:
        """Subscribe and wait for the broker's answer."""
        self.client.subscribe(pattern, qos=1)
        self.subscribed.get(timeout=10)

    def publish(self, topic: str, payload: bytes = b"x") -> None:
        """Publish at QoS 1 and wait for the broker's acknowledgement."""
        self.client.publish(topic, payload, qos=1).wait_for_publish(timeout=10)

    def until(self, topic: str) -> set[str]:
        """Every topic received up to and including ``topic``."""
        seen: set[str] = set()
        while topic not in seen:
            seen.add(self.received.get(timeout=10)[0])
        return seen

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def connect(broker: Broker) -> Iterator[Callable[..., Client]]:
    """Open clients, each disconnected after the test."""
    opened: list[Client] = []

    def open_client(user: str | None, *, tls: bool = True) -> Client:
        opened.append(Client(broker, user, tls=tls))
        return opened[-1]

    yield open_client
    for client in opened:
        client.close()


def test_no_anonymous_client_on_either_listener(connect: Callable[..., Client]) -> None:
    assert connect(None, tls=False).connack() != 0
    assert connect(None).connack() != 0
    assert connect("doorstep", tls=False).connack() == 0


def test_an_agent_publishes_only_on_its_own_camera_topics(connect: Callable[..., Client]) -> None:
    watcher, agent = connect("tester"), connect(CAMERA)
    assert (watcher.connack(), agent.connack()) == (0, 0)
    watcher.subscribe("#")
    for name in ("availability", "warning", "doorbell"):
        agent.publish(f"doorstep/{CAMERA}/{name}")
    agent.publish(f"homeassistant/event/doorstep_{CAMERA}/doorbell/config")
    agent.publish(f"doorstep/{OTHER}/doorbell")
    agent.publish(f"doorstep/{CAMERA}/command")
    agent.publish("doorstep/server/accounts/someone")
    agent.publish(f"doorstep/{CAMERA}/event")  # the last: what got through came before
    assert watcher.until(f"doorstep/{CAMERA}/event") == {
        f"doorstep/{CAMERA}/{name}" for name in ("availability", "event", "warning", "doorbell")
    } | {f"homeassistant/event/doorstep_{CAMERA}/doorbell/config"}


def test_an_agent_hears_only_its_own_ring_command(connect: Callable[..., Client]) -> None:
    ringer, agent = connect("tester"), connect(CAMERA)
    assert (ringer.connack(), agent.connack()) == (0, 0)
    agent.subscribe("#")
    ringer.publish(f"doorstep/{OTHER}/command", b"ring")
    ringer.publish("doorstep/server/accounts/someone")
    ringer.publish(f"doorstep/{OTHER}/event")
    ringer.publish(f"doorstep/{CAMERA}/command", b"ring")
    assert agent.until(f"doorstep/{CAMERA}/command") == {f"doorstep/{CAMERA}/command"}


def test_the_server_user_keeps_to_its_own_messages(connect: Callable[..., Client]) -> None:
    watcher, server = connect("tester"), connect("doorstep", tls=False)
    assert (watcher.connack(), server.connack()) == (0, 0)
    watcher.subscribe("#")
    server.subscribe("#")
    server.publish(f"doorstep/{CAMERA}/command", b"ring")
    server.publish("doorstep/server/accounts/someone")
    assert watcher.until("doorstep/server/accounts/someone") == {"doorstep/server/accounts/someone"}
    watcher.publish(f"doorstep/{CAMERA}/event")
    watcher.publish("doorstep/server/live/camera")
    assert server.until("doorstep/server/live/camera") <= {
        "doorstep/server/accounts/someone",
        "doorstep/server/live/camera",
    }


def test_coturn_takes_every_denied_range_of_its_config(tmp_path: Path) -> None:
    tool = shutil.which("turnserver")
    if tool is None:
        service_missing("turnserver (Debian package coturn)")
    text = (COMPOSE / "turnserver.conf").read_text()
    denied = re.findall(r"^denied-peer-ip=(\S+)$", text, re.MULTILINE)
    assert len(denied) >= 15
    low = _free_port()
    config = tmp_path / "turnserver.conf"
    config.write_text(
        re.sub(r"^(listening-port|min-port|max-port)=.*$", "", text, flags=re.MULTILINE)
        + f"listening-port={_free_port()}\nmin-port={low}\nmax-port={low + 1}\n"
        "listening-ip=127.0.0.1\nstatic-auth-secret=only-a-test\nno-stdout-log\n"
        "log-file=stdout\n"
    )
    process = subprocess.Popen(
        [tool, "-c", str(config), "--log-file=stdout"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    listed: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if "Black listing: " in line:
                listed.append(line.split("Black listing: ", 1)[1].strip())
            if "Listener address to use" in line:
                break
    finally:
        process.terminate()
        process.communicate(timeout=10)
    assert listed == denied
