"""MQTT for the camera agent: availability with a Last Will, motion events and spool warnings.

Topics (``<camera_id>`` is the id the camera got when paired):

- ``doorstep/<camera_id>/availability`` — ``online`` (retained) while the agent is connected,
  ``offline`` (retained) when it stops; the broker publishes ``offline`` itself (Last Will) when
  the agent vanishes without saying goodbye.
- ``doorstep/<camera_id>/event`` — one JSON message per recorded clip:
  ``{"type", "started_at", "ended_at", "labels": [...], "objects": [...], "peak_motion"}``;
  ``type`` is the most telling label seen (``person``, ``vehicle``, ``bicycle``, ``animal``) or
  ``motion``; ``objects`` are what the detector followed (``label``, ``score``, ``box`` as
  fractions of the picture, ``seconds`` in view, ``zones`` with seconds in each), empty for an
  end-to-end camera, whose clips leave with their labels only; times ISO 8601 with zone,
  ``peak_motion`` 0..1. Not retained.
- ``doorstep/<camera_id>/command`` — the agent listens: the payload ``ring`` presses the doorbell
  (a home automation button, a script).
- ``doorstep/<camera_id>/doorbell`` — ``{"event_type": "ring"}`` at each ring, the state topic of
  the Home Assistant ``event`` entity announced (retained) on
  ``homeassistant/event/doorstep_<camera_id>/doorbell/config`` by MQTT discovery.
- ``doorstep/<camera_id>/warning`` — JSON for trouble the owner should hear about, such as
  ``{"type": "spool_eviction", "clip_started_at", "evicted_total", "spool_max_bytes"}`` when
  the spool was full and the oldest unsent clip was dropped. Not retained.

The broker being down never stops recording: the client reconnects in the background and
messages published while it is away are dropped. ``mqtts://user:password@host`` speaks TLS and
checks the broker's certificate (against ``ca_file`` for a private CA); why a connection fails
(a certificate not trusted, a wrong password) is logged once per change, the password never.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.reasoncodes import ReasonCode

from doorstep.cameras.rules import OBJECT_LABELS
from doorstep.platform.bus.broker import BrokerClient, parse
from doorstep.platform.bus.topics import OFFLINE, ONLINE, topic

log = logging.getLogger(__name__)


class MqttPublisher:
    """Publishes one camera's availability, events and warnings to an MQTT broker."""

    def __init__(
        self,
        url: str,
        camera_id: str,
        *,
        keepalive: int = 30,
        on_command: Callable[[str], object] | None = None,
        name: str = "Doorbell",
        ca_file: str = "",
        cert_file: str = "",
    ) -> None:
        self.broker = parse(url)
        self.host, self.port = self.broker.host, self.broker.port
        self.camera_id = camera_id
        self.keepalive = keepalive
        self.client = BrokerClient(
            self.broker, f"doorstep-agent-{camera_id}", ca_file=ca_file, cert_file=cert_file
        )
        self.client.will_set(topic(camera_id, "availability"), OFFLINE, qos=1, retain=True)
        self.client.reconnect_delay_set(min_delay=1, max_delay=60)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_connect_fail = self._on_connect_fail
        self.on_command = on_command
        self.name = name
        self.connected = False
        self._told: str | None = None

    def start(self) -> None:
        """Connect in the background; a broker that is down is retried, never fatal."""
        self.client.connect_async(self.host, self.port, keepalive=self.keepalive)
        self.client.loop_start()

    def stop(self) -> None:
        """Say ``offline`` and disconnect cleanly."""
        if self.connected:
            info = self.client.publish(
                topic(self.camera_id, "availability"), OFFLINE, qos=1, retain=True
            )
            try:
                info.wait_for_publish(timeout=2.0)
            except (RuntimeError, ValueError):
                log.debug("MQTT: could not say offline before leaving")
        self.client.shut()

    def publish_event(self, meta: dict[str, Any]) -> None:
        """Announce a recorded clip."""
        labels = list(meta.get("labels", []))
        self._publish(
            "event",
            {
                "type": next((label for label in OBJECT_LABELS if label in labels), "motion"),
                "started_at": meta["started_at"],
                "ended_at": meta["ended_at"],
                "labels": labels,
                "objects": list(meta.get("objects", [])),
                "peak_motion": meta["peak_motion"],
            },
        )

    def publish_warning(self, warning: dict[str, Any]) -> None:
        """Tell the owner about trouble such as a spool eviction."""
        self._publish("warning", warning)

    def publish_ring(self) -> None:
        """Fire the Home Assistant doorbell event."""
        self._publish("doorbell", {"event_type": "ring"})

    def discovery(self) -> tuple[str, dict[str, Any]]:
        """Home Assistant's MQTT discovery topic and config for the doorbell ``event`` entity."""
        node = f"doorstep_{self.camera_id}".replace("-", "_")
        config = {
            "name": self.name,
            "unique_id": f"{node}_doorbell",
            "object_id": f"{node}_doorbell",
            "device_class": "doorbell",
            "event_types": ["ring"],
            "state_topic": topic(self.camera_id, "doorbell"),
            "availability_topic": topic(self.camera_id, "availability"),
            "payload_available": ONLINE,
            "payload_not_available": OFFLINE,
            "device": {
                "identifiers": [node],
                "name": f"Doorstep {self.name}",
                "manufacturer": "Doorstep",
            },
        }
        return f"homeassistant/event/{node}/doorbell/config", config

    def _publish(self, name: str, payload: dict[str, Any]) -> None:
        info = self.client.publish(topic(self.camera_id, name), json.dumps(payload), qos=1)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            log.debug("MQTT: %s not published (%s)", name, paho.error_string(info.rc))

    def _on_connect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.ConnectFlags,
        reason: ReasonCode,
        properties: Any,
    ) -> None:
        del userdata, flags, properties
        if reason.is_failure:
            self._tell(f"it refused the agent ({reason})")
            return
        self._told = None
        self.connected = True
        client.publish(topic(self.camera_id, "availability"), ONLINE, qos=1, retain=True)
        config_topic, config = self.discovery()
        client.publish(config_topic, json.dumps(config), qos=1, retain=True)
        if self.on_command is not None:
            client.subscribe(topic(self.camera_id, "command"), qos=1)
        log.info("MQTT: connected to %s", self.broker.shown)

    def _on_connect_fail(self, client: paho.Client, userdata: Any) -> None:
        del client, userdata
        self._tell(self.client.failure or "it cannot be reached")

    def _tell(self, why: str) -> None:
        # Retried every few seconds: the same reason is logged once, until it changes.
        if why != self._told:
            self._told = why
            log.warning("MQTT: cannot use the broker %s: %s; retrying", self.broker.shown, why)

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        del client, userdata
        command = message.payload.decode("utf-8", "replace").strip().lower()
        if command == "ring" and self.on_command is not None:
            self.on_command("mqtt")
        else:
            log.info("MQTT: ignored the command %r", command[:40])

    def _on_disconnect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.DisconnectFlags,
        reason: ReasonCode,
        properties: Any,
    ) -> None:
        del client, userdata, flags, properties
        if self.connected:
            log.warning("MQTT: lost the broker (%s); reconnecting in the background", reason)
        elif self._told is None:
            self._tell(self.client.cut_short)
        self.connected = False
