"""A bus shared by many API processes through an MQTT broker.

Each process keeps its own in-process bus for the pages connected to it, publishes every event
to ``doorstep/server/accounts/<account>`` on the broker, and delivers whatever arrives on
``doorstep/server/accounts/+`` to its local pages, so an alert reaches a browser connected to any
process. Topics carry opaque account ids only; what a page shows is decided when it is rendered.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from doorstep.agent.mqtt import parse_broker
from doorstep.bus.memory import MemoryBus, Subscription
from doorstep.errors import Unavailable

log = logging.getLogger(__name__)

PREFIX = "doorstep/server/accounts/"


class MqttBus:
    """Same interface as ``MemoryBus``; events travel through the broker to every process."""

    def __init__(self, url: str, *, connect_timeout: float = 10.0) -> None:
        self.local = MemoryBus()
        host, port = parse_broker(url)
        self._connected = threading.Event()
        self.client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"doorstep-api-{uuid.uuid4().hex[:12]}",
        )
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.connect_async(host, port, keepalive=30)
        self.client.loop_start()
        if not self._connected.wait(connect_timeout):
            self.close()
            raise Unavailable(f"cannot reach the MQTT broker at {url}")

    def _on_connect(self, client: paho.Client, *args: Any) -> None:
        del args
        # Subscribing here also renews the subscription after every reconnect.
        client.subscribe(PREFIX + "+", qos=1)

    def _on_subscribe(self, client: paho.Client, *args: Any) -> None:
        del client, args
        # Ready only once the broker confirmed the subscription: events sent before would be lost.
        self._connected.set()

    def _on_disconnect(self, client: paho.Client, *args: Any) -> None:
        del client, args
        self._connected.clear()
        log.warning("lost the MQTT broker; events reach only this process until it is back")

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        del client, userdata
        account_id = message.topic.removeprefix(PREFIX)
        try:
            event = json.loads(message.payload)
        except ValueError:
            log.warning("ignored an event that is not JSON on %s", message.topic)
            return
        if isinstance(event, dict):
            self.local.publish(account_id, event)

    def publish(self, account_id: str, event: dict[str, Any]) -> int:
        """Send the event to every process; pages of this process get it through the broker too."""
        info = self.client.publish(PREFIX + account_id, json.dumps(event), qos=1)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            # The broker is away: at least this process's pages hear about it.
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
        self.client.disconnect()
        self.client.loop_stop()
