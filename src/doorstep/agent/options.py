"""How the agent runs (its options) and what the server tells it to apply (its camera config)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from doorstep.agent.spool import DEFAULT_MAX_BYTES
from doorstep.agent.uploader import UPLOAD_BACKOFF
from doorstep.errors import InvalidInput
from doorstep.media.motion import DEFAULT_SETTINGS, MotionSettings
from doorstep.media.objects import Polygon, named_zones
from doorstep.media.source import NETWORK_TIMEOUT, Backoff
from doorstep.media.zones import Zone

#: A camera cuts long events into clips of at most a minute: each uploads as it completes.
MAX_CLIP_SECONDS = 60.0
AGENT_MOTION = replace(DEFAULT_SETTINGS, max_clip_seconds=MAX_CLIP_SECONDS)
#: A lost camera is tried again after about 1, 2, 4 … s, at most a minute apart; each delay is
#: up to half shorter at random so that cameras on one power cut do not all return at once.
RECONNECT_BACKOFF = Backoff(first=1.0, factor=2.0, cap=60.0, jitter=0.5)


@dataclass(frozen=True, slots=True)
class CameraConfig:
    """The camera settings the agent applies: zones, audio and detection, at one config version."""

    version: int = 0
    motion_zones: tuple[Zone, ...] = ()
    privacy_zones: tuple[Zone, ...] = ()
    audio: bool = False
    detection_zones: dict[str, Polygon] = field(default_factory=dict)
    """Named zones (fractions of the frame) that object rules and dwell times refer to."""
    object_rules: dict[str, Any] = field(default_factory=dict)
    """Per label: ``{"mode": "alert"|"detection"|"off", "zones": [...], "dwell_seconds": n}``."""
    ignore_stationary: bool = True

    @classmethod
    def from_server(cls, data: dict[str, Any]) -> CameraConfig:
        """Read the configuration the device API sends."""
        return cls(
            version=int(data.get("config_version", 0)),
            motion_zones=_zones(data.get("motion_zones") or []),
            privacy_zones=_zones(data.get("privacy_zones") or []),
            audio=bool(data.get("audio_enabled", False)),
            detection_zones=named_zones(data.get("detection_zones") or []),
            object_rules=_object_rules(data.get("object_rules")),
            ignore_stationary=bool(data.get("ignore_stationary", True)),
        )


def _object_rules(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(r, dict) for r in value.values()):
        raise InvalidInput("object rules must map each label to a rule", field="object_rules")
    return {str(label): dict(rule) for label, rule in value.items()}


def _zones(polygons: list[list[list[float]]]) -> tuple[Zone, ...]:
    return tuple(Zone(tuple((float(x), float(y)) for x, y in polygon)) for polygon in polygons)


@dataclass(frozen=True, slots=True)
class AgentOptions:
    """How the agent runs; the defaults are those of `doorstep agent --source SRC`."""

    source: str = field(repr=False)
    """The camera; kept out of repr, as its URL may carry a password."""
    loop: bool = False
    realtime: bool = True
    once: bool = False
    mqtt_url: str | None = None
    mqtt_ca_file: str = ""
    mqtt_cert_file: str = ""
    spool_max_bytes: int = DEFAULT_MAX_BYTES
    heartbeat_seconds: float = 60.0
    live_wait_seconds: float = 45.0
    """How long each long-poll for live sessions waits (it is also a heartbeat)."""
    live_poll_seconds: float = 1.0
    """How often a server without live sessions is asked whether its MJPEG page is open."""
    live_frames_per_second: float = 4.0
    upload_backoff: Backoff = UPLOAD_BACKOFF
    reconnect_backoff: Backoff = RECONNECT_BACKOFF
    rtsp_transport: str = "tcp"
    """How an RTSP camera's video travels: ``tcp`` (interleaved) or ``udp``."""
    network_timeout: tuple[float, float] = NETWORK_TIMEOUT
    """Seconds to wait for a network camera to answer, and for its next packet once it has."""
    motion: MotionSettings = AGENT_MOTION
    button_pin: int | None = None
    """The GPIO pin (BCM number) of the doorbell button, wired to ground."""
    ring_key: bool = False
    """Enter on the terminal presses the doorbell (bench setups)."""
    microphone: str = "none"
    """The visitor's audio: ``tone:HZ``, ``alsa:DEVICE`` or ``none``."""
    speaker: str = "none"
    """Where the owner's voice and quick replies play: ``file:PATH.wav``, ``alsa:DEV``, ``none``."""
    quick_replies: bool = True
    """Make the quick replies with espeak-ng on start when they are missing."""
