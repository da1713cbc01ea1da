"""MQTT names the server and the camera agent share: topics, payload words and the broker URL.

The agent's topics are described in ``doorstep.agent.mqtt``; the server's own, between its API
processes, in ``doorstep.platform.bus.mqtt``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from doorstep.errors import ConfigurationError

ONLINE, OFFLINE = "online", "offline"


def topic(camera_id: str, name: str) -> str:
    """The topic ``name`` (availability, event, warning) of one camera."""
    return f"doorstep/{camera_id}/{name}"


def parse_broker(url: str) -> tuple[str, int]:
    """Host and port of an ``mqtt://host[:port]`` URL."""
    parts = urlsplit(url)
    if parts.scheme != "mqtt" or not parts.hostname:
        raise ConfigurationError(f"the MQTT broker must be given as mqtt://host:port, not {url!r}")
    try:
        port = parts.port or 1883
    except ValueError as err:
        raise ConfigurationError(f"the MQTT broker URL {url!r} has a bad port") from err
    return parts.hostname, port
