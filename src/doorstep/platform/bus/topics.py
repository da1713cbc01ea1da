"""MQTT names the server and the camera agent share: topics, payload words and the broker URL.

The agent's topics are described in ``doorstep.agent.mqtt``; the server's own, between its API
processes, in ``doorstep.platform.bus.mqtt``.
"""

from __future__ import annotations

from doorstep.platform.bus import broker

ONLINE, OFFLINE = "online", "offline"


def topic(camera_id: str, name: str) -> str:
    """The topic ``name`` (availability, event, warning) of one camera."""
    return f"doorstep/{camera_id}/{name}"


def parse_broker(url: str) -> tuple[str, int]:
    """Host and port of an ``mqtt://`` or ``mqtts://`` URL (see ``broker.parse`` for the rest)."""
    parsed = broker.parse(url)
    return parsed.host, parsed.port
