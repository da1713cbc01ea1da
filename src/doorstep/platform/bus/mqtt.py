"""A bus shared by many API processes through an MQTT broker.

Each process keeps its own in-process bus for the pages connected to it, publishes every event
to ``doorstep/server/accounts/<account>`` on the broker, and delivers whatever arrives on
``doorstep/server/accounts/+`` to its local pages, so an alert reaches a browser connected to any
process. Topics carry opaque account ids only; what a page shows is decided when it is rendered.

Live view crosses processes the same way (``SharedLive``): the owner's page may hold its stream
on one process while the camera's agent talks to another. The wish to watch goes out on
``doorstep/server/live/<camera>/want`` and frames come back on ``.../frame/<process>``, at most
once (QoS 0), never retained by the broker, and only while someone is watching.

Files held in memory for a short while (``SharedHeld``: a doorbell's snapshot) go out once on
``doorstep/server/held/<origin>/<key>`` and every process keeps its copy until it expires.

The broker is shared with the cameras' agents, so it is no place for a home's pictures: every
payload between server processes is sealed (``Sealer``) with AES-GCM under a key derived from the
master key, which only server processes hold, binding the topic and an expiry. A broker client
reads nothing but sizes, and whatever it plants, replays onto another topic or past its time does
not open and is dropped.
"""

from __future__ import annotations

import json
import logging
import secrets
import struct
import threading
import time
import uuid
from typing import Any

import paho.mqtt.client as paho
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from paho.mqtt.reasoncodes import ReasonCode

from doorstep.errors import Unavailable
from doorstep.platform.bus.broker import BrokerClient, parse
from doorstep.platform.bus.held import MAX_SECONDS, HeldFiles
from doorstep.platform.bus.live import WANT_SECONDS, LiveHub
from doorstep.platform.bus.memory import MemoryBus, Subscription

log = logging.getLogger(__name__)

PREFIX = "doorstep/server/accounts/"
LIVE_PREFIX = "doorstep/server/live/"
HELD_PREFIX = "doorstep/server/held/"
#: A page's stream asks for frames ten times a second; the broker hears about it once a second.
WANT_EVERY_SECONDS = 1.0
#: How long an account's event may take to cross the broker before it is stale.
EVENT_SECONDS = 60.0
#: The largest plaintext one process hands the others (a snapshot is at most 5 MiB).
MAX_PAYLOAD = 8 * 1024 * 1024
#: How far apart the clocks of two server processes may be.
CLOCK_SLACK_SECONDS = 30.0
_SEAL_INFO = b"doorstep/server-bus/v1"
_SEAL_HEADER = struct.Struct(">BQ")  # version, expiry in milliseconds since the epoch
_SEAL_VERSION = 1
_NONCE_SIZE = 12
_TAG_SIZE = 16


class Sealer:
    """Seals what one server process sends the others, so only server processes can open it.

    The key is derived (HKDF-SHA256) from the master key for this one purpose. A sealed payload
    is ``version | expiry | nonce | AES-GCM(plaintext)`` with the version, the expiry and the
    topic as associated data: moved to another topic, altered, or opened after its expiry, it
    does not open.
    """

    def __init__(self, master_key: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_SEAL_INFO)
        self._aead = AESGCM(key.derive(master_key))

    def seal(self, topic: str, data: bytes, seconds: float, *, now: float) -> bytes:
        """``data`` sealed for ``topic``, to be opened no later than ``seconds`` after ``now``."""
        header = _SEAL_HEADER.pack(_SEAL_VERSION, int((now + seconds) * 1000))
        nonce = secrets.token_bytes(_NONCE_SIZE)
        return header + nonce + self._aead.encrypt(nonce, data, header + topic.encode())

    def open(self, topic: str, payload: bytes, *, now: float) -> tuple[bytes, float] | None:
        """The plaintext and the seconds it has left (0 if only the slack let it in), or None.

        None for anything that does not open: another key, another topic, altered bytes, a size
        out of bounds, or an expiry more than ``CLOCK_SLACK_SECONDS`` past or too far ahead.
        """
        start = _SEAL_HEADER.size + _NONCE_SIZE
        if not start + _TAG_SIZE <= len(payload) <= start + MAX_PAYLOAD + _TAG_SIZE:
            return None
        version, expires_ms = _SEAL_HEADER.unpack_from(payload)
        left = expires_ms / 1000 - now
        # Clocks of two machines differ a little: a live frame sealed for five seconds must not
        # be lost to a receiver whose clock runs ahead, so the window is widened both ways.
        if version != _SEAL_VERSION or not (
            -CLOCK_SLACK_SECONDS < left <= MAX_SECONDS + CLOCK_SLACK_SECONDS
        ):
            return None
        header = payload[: _SEAL_HEADER.size]
        try:
            data = self._aead.decrypt(
                payload[_SEAL_HEADER.size : start], payload[start:], header + topic.encode()
            )
        except InvalidTag:
            return None
        return data, max(0.0, min(left, MAX_SECONDS))


class MqttBus:
    """Same interface as ``MemoryBus``; events travel through the broker to every process."""

    def __init__(
        self,
        url: str,
        *,
        master_key: bytes,
        ca_file: str = "",
        cert_file: str = "",
        connect_timeout: float = 10.0,
    ) -> None:
        self.local = MemoryBus()
        self.sealer = Sealer(master_key)
        self._warned_at = -60.0
        broker = parse(url)
        self._connected = threading.Event()
        #: Set once the first attempt settled: subscribed, refused, or cut before the CONNACK.
        self._settled = threading.Event()
        self._closing = False
        self.origin = uuid.uuid4().hex[:12]
        self.live = SharedLive(self)
        self.held = SharedHeld(self)
        client_id = f"doorstep-api-{uuid.uuid4().hex[:12]}"
        self.client = BrokerClient(broker, client_id, ca_file=ca_file, cert_file=cert_file)
        self.shown = broker.shown
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_connect_fail = self._on_connect_fail
        self.client.connect_async(broker.host, broker.port, keepalive=30)
        self.client.loop_start()
        self._settled.wait(connect_timeout)
        if not self._connected.is_set():
            self.close()
            why = self.client.failure or "no answer in time"
            raise Unavailable(f"cannot use the MQTT broker at {broker.shown}: {why}")

    def _on_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: ReasonCode, *args: Any
    ) -> None:
        del userdata, flags, args
        if reason.is_failure:
            # A wrong password or a refused client is not going to get better by retrying.
            self.client.failed(f"it refused the connection ({reason})", lasting=True)
            if self._settled.is_set():
                # Running already (a password changed under it): said at each retry, never fatal.
                log.warning("the MQTT broker %s refused this process: %s", self.shown, reason)
            self._settled.set()
            return
        # Subscribing here also renews the subscription after every reconnect.
        client.subscribe([(PREFIX + "+", 1), (LIVE_PREFIX + "#", 0), (HELD_PREFIX + "#", 1)])

    def _on_connect_fail(self, client: paho.Client, userdata: Any) -> None:
        del client, userdata
        # A broker still starting is waited for (up to ``connect_timeout``); a TLS failure is not.
        if self.client.lasting:
            self._settled.set()

    def _on_subscribe(self, client: paho.Client, *args: Any) -> None:
        del client, args
        # Ready only once the broker confirmed the subscription: events sent before would be lost.
        self._connected.set()
        self._settled.set()

    def _on_disconnect(self, client: paho.Client, *args: Any) -> None:
        del client, args
        if not self._settled.is_set() and self.client.failure is None:
            # Cut before any CONNACK: plain MQTT to a TLS port, or a client certificate refused.
            self.client.failed(self.client.cut_short, lasting=True)
        self._settled.set()
        self._connected.clear()
        if not self._closing:
            log.warning("lost the MQTT broker; events reach only this process until it is back")

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        del client, userdata
        opened = self.sealer.open(message.topic, bytes(message.payload), now=time.time())
        if opened is None:
            # Not from a server process (or stale): another broker client's doing. Said once a
            # minute at most, so a flood of them cannot flood the log too.
            now = time.monotonic()
            if now - self._warned_at >= 60:
                self._warned_at = now
                log.warning("ignored a message on %s not sealed by a server", message.topic)
            return
        payload, seconds = opened
        if message.topic.startswith(LIVE_PREFIX):
            self.live.received(message.topic.removeprefix(LIVE_PREFIX), payload)
            return
        if message.topic.startswith(HELD_PREFIX):
            self.held.received(message.topic.removeprefix(HELD_PREFIX), payload, seconds)
            return
        account_id = message.topic.removeprefix(PREFIX)
        try:
            event = json.loads(payload)
        except ValueError:
            log.warning("ignored an event that is not JSON on %s", message.topic)
            return
        if isinstance(event, dict):
            self.local.publish(account_id, event)

    def send(self, topic: str, data: bytes, seconds: float, *, qos: int) -> bool:
        """Seal ``data`` for ``topic`` and hand it to the broker; False if it cannot go out."""
        if len(data) > MAX_PAYLOAD:
            log.warning("kept a %d-byte message on %s to this process: too large", len(data), topic)
            return False
        sealed = self.sealer.seal(topic, data, seconds, now=time.time())
        return self.client.publish(topic, sealed, qos=qos).rc == paho.MQTT_ERR_SUCCESS

    def publish(self, account_id: str, event: dict[str, Any]) -> int:
        """Send the event to every process; pages of this process get it through the broker too."""
        topic = PREFIX + account_id
        if not self.send(topic, json.dumps(event).encode(), EVENT_SECONDS, qos=1):
            # The broker is away (or the event too large): at least this process's pages hear it.
            return self.local.publish(account_id, event)
        return self.local.listeners(account_id)

    def subscribe(self, account_id: str) -> Subscription:
        """Follow an account's events on this process."""
        return self.local.subscribe(account_id)

    def unsubscribe(self, subscription: Subscription) -> None:
        """Stop following."""
        self.local.unsubscribe(subscription)

    def listeners(self, account_id: str | None = None) -> int:
        """Pages of this process following the account (or anyone)."""
        return self.local.listeners(account_id)

    def close(self) -> None:
        """Disconnect from the broker."""
        self._closing = True
        self.client.shut()


class SharedLive:
    """``LiveHub`` for several API processes: wishes and frames travel through the broker."""

    def __init__(self, bus: MqttBus) -> None:
        self.local = LiveHub()
        self._bus = bus
        self._announced: dict[str, float] = {}
        self._lock = threading.Lock()

    def want(self, camera_id: str, seconds: float = WANT_SECONDS) -> None:
        """Keep the camera sending, whichever process its agent talks to."""
        self.local.want(camera_id, seconds)
        now = time.monotonic()
        with self._lock:
            if now - self._announced.get(camera_id, 0.0) < WANT_EVERY_SECONDS:
                return
            self._announced[camera_id] = now
            # Forget cameras nobody has asked for in a while; the map stays small.
            for stale in [c for c, at in self._announced.items() if now - at > WANT_SECONDS]:
                del self._announced[stale]
        self._bus.send(f"{LIVE_PREFIX}{camera_id}/want", f"{seconds:g}".encode(), seconds, qos=0)

    def wanted(self, camera_id: str) -> bool:
        """Whether a page on any process is watching the camera."""
        return self.local.wanted(camera_id)

    def publish(self, camera_id: str, jpeg: bytes) -> bool:
        """Keep the frame here and send it to the other processes, if anyone is watching."""
        if not self.local.publish(camera_id, jpeg):
            return False
        topic = f"{LIVE_PREFIX}{camera_id}/frame/{self._bus.origin}"
        self._bus.send(topic, jpeg, WANT_SECONDS, qos=0)
        return True

    def latest(self, camera_id: str) -> tuple[int, bytes] | None:
        """The latest frame and its sequence number, if any."""
        return self.local.latest(camera_id)

    def received(self, topic: str, payload: bytes) -> None:
        """An opened wish or frame from another process (or this one's own, echoed back)."""
        parts = topic.split("/")
        if len(parts) == 2 and parts[1] == "want":
            try:
                seconds = float(payload)
            except ValueError:
                return
            if 0 < seconds <= WANT_SECONDS:
                self.local.want(parts[0], seconds)
        elif len(parts) == 3 and parts[1] == "frame" and parts[2] != self._bus.origin:
            # Kept only while a page here or elsewhere still wants the camera.
            self.local.publish(parts[0], payload)


class SharedHeld:
    """``HeldFiles`` for several API processes: each file is handed to every process once."""

    def __init__(self, bus: MqttBus) -> None:
        self.local = HeldFiles()
        self._bus = bus

    def hold(self, key: str, data: bytes, seconds: float) -> None:
        """Keep ``data`` here and on every other process for ``seconds``."""
        self.local.hold(key, data, seconds)
        seconds = min(seconds, MAX_SECONDS)
        self._bus.send(f"{HELD_PREFIX}{self._bus.origin}/{key}", data, seconds, qos=1)

    def get(self, key: str) -> bytes | None:
        """The bytes held under ``key`` on this process, or None."""
        return self.local.get(key)

    def received(self, topic: str, payload: bytes, seconds: float) -> None:
        """An opened file another process holds for ``seconds`` more (this one's own is skipped)."""
        origin, _, key = topic.partition("/")
        if origin == self._bus.origin or not key:
            return
        self.local.hold(key, payload, min(seconds, MAX_SECONDS))
