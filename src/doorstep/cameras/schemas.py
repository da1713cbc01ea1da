"""What the cameras API and the camera agents' API take and answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field

from doorstep.accounts.schemas import HomeLocation, Strict
from doorstep.cameras.rules import MAX_POINTS, MAX_ZONES
from doorstep.cameras.rules_detection import MAX_DETECTION_ZONES, MAX_DWELL_SECONDS, MAX_ZONE_NAME

Zones = Annotated[list[list[list[float]]], Field(max_length=MAX_ZONES)]
#: Settings a PATCH may clear by sending null.
CLEARABLE = frozenset(
    {"quiet_start", "quiet_end", "detection_retention_days", "motion_retention_days"}
)


class DetectionZone(Strict):
    """A named zone objects must enter; rules per label refer to it by name."""

    name: Annotated[str, Field(min_length=1, max_length=MAX_ZONE_NAME)]
    polygon: Annotated[
        list[list[float]],
        Field(max_length=MAX_POINTS, description="[[x, y], ...], fractions of the frame, 0 to 1"),
    ]


class ObjectRule(Strict):
    """What seeing one label does; what is left out keeps its default."""

    mode: Annotated[
        str | None,
        Field(
            max_length=10,
            description="alert (notify), detection (keep quietly, no notification) or off",
        ),
    ] = None
    zones: Annotated[
        list[Annotated[str, Field(max_length=MAX_ZONE_NAME)]] | None,
        Field(
            max_length=MAX_DETECTION_ZONES,
            description="Detection zones it must be in to alert; none means anywhere",
        ),
    ] = None
    dwell_seconds: Annotated[
        int | None,
        Field(
            ge=0,
            le=MAX_DWELL_SECONDS,
            description="How long it must stay in one of the zones (or in view) to alert",
        ),
    ] = None


#: Rules by label: person, vehicle, bicycle, animal.
ObjectRules = dict[Annotated[str, Field(max_length=20)], ObjectRule]


class CameraCreate(Strict):
    """A new camera; its position defaults to the owner's home and is never shown to others."""

    name: Annotated[str, Field(max_length=80)]
    position: HomeLocation | None = None
    requests_opt_in: bool = Field(
        False, description="Whether agencies' Requests for Assistance may reach this camera."
    )


class CameraUpdate(Strict):
    """Changes to a camera's settings; omitted fields stay as they are."""

    name: Annotated[str | None, Field(max_length=80)] = None
    motion_zones: Zones | None = None
    privacy_zones: Zones | None = None
    audio_enabled: bool | None = None
    alert_mode: Annotated[
        str | None,
        Field(
            max_length=10,
            description="all (any motion), objects (only what the object rules alert on) or "
            "none; people is the older name of objects",
        ),
    ] = None
    quiet_start: Annotated[str | None, Field(max_length=5)] = None
    quiet_end: Annotated[str | None, Field(max_length=5)] = None
    time_zone: Annotated[str | None, Field(max_length=64)] = Field(
        None, description="IANA zone quiet hours are read in, such as America/Los_Angeles"
    )
    retention_days: int | None = Field(None, description="Days alerts are kept")
    detection_zones: Annotated[
        list[DetectionZone] | None, Field(max_length=MAX_DETECTION_ZONES)
    ] = None
    object_rules: ObjectRules | None = Field(
        None, description="Rules by label; labels left out keep theirs"
    )
    ignore_stationary: bool | None = Field(
        None, description="Objects that do not move (a parked car) never alert"
    )
    detection_retention_days: int | None = Field(
        None,
        description="Days detections are kept, at most as long as alerts; null: as alerts",
    )
    motion_retention_days: int | None = Field(
        None,
        description="Days motion-only clips are kept, at most as long as alerts; null: as alerts",
    )
    requests_opt_in: bool | None = None
    indoor: bool | None = Field(
        None, description="Inside the home: a legal demand reaches it only by naming it explicitly"
    )


class CameraPrivate(BaseModel):
    """A camera as its owner sees it."""

    id: str
    name: str
    position: HomeLocation | None
    online: bool
    paired: bool
    last_seen_at: datetime | None
    motion_zones: list[list[list[float]]]
    privacy_zones: list[list[list[float]]]
    audio_enabled: bool
    alert_mode: str
    quiet_start: str | None
    quiet_end: str | None
    time_zone: str
    retention_days: int
    detection_zones: list[dict[str, Any]]
    object_rules: dict[str, dict[str, Any]] = Field(
        description="Every label's rule, defaults filled in"
    )
    ignore_stationary: bool
    detection_retention_days: int | None
    motion_retention_days: int | None
    requests_opt_in: bool
    indoor: bool
    e2e_enabled: bool
    e2e_salt: str | None
    e2e_check: str | None
    config_version: int


class EndToEnd(Strict):
    """Made in the owner's browser from the passphrase; the passphrase itself never leaves it."""

    salt: Annotated[str, Field(max_length=32, description="16 random bytes, hex")]
    check: Annotated[str, Field(max_length=64, description="HMAC check of the key, hex")]


class PairingCodePublic(BaseModel):
    """A one-time code for `doorstep agent pair --code`; valid for 15 minutes."""

    code: str
    expires_in_seconds: int


class HouseholdInvite(Strict):
    """The email of the person to invite; they may view this camera's clips once they accept."""

    email: Annotated[str, Field(max_length=254)]


class HouseholdMemberPublic(BaseModel):
    """A household member as the owner sees them: someone who accepted the invitation."""

    user_id: str
    display_name: str
    email: str
    added_at: datetime
    live_view: bool = Field(
        description="Whether they may see the camera live and answer its rings (audited)."
    )


class HouseholdLiveView(Strict):
    """Allow or stop a household member seeing the camera live and answering its rings."""

    live_view: bool


MAX_SNAPSHOT = 5 * 1024 * 1024
MAX_LIVE_FRAME = 1024 * 1024
#: An event's start snapshot, like a live frame, is a small JPEG held in memory for a while.
MAX_EVENT_SNAPSHOT = 1024 * 1024


class PairRequest(Strict):
    """A pairing code typed into the agent."""

    code: Annotated[str, Field(max_length=40)]
    agent_version: Annotated[str, Field(max_length=40)] = "unknown"


class PairResponse(BaseModel):
    """The device token (shown once) and the camera's configuration."""

    camera_id: str
    token: str
    config: dict[str, Any]


class Heartbeat(Strict):
    """The agent is alive, and what waits in its spool for upload (for the operator's metrics)."""

    agent_version: Annotated[str | None, Field(max_length=40)] = None
    spool_clips: Annotated[int | None, Field(ge=0, le=10_000_000)] = None
    spool_bytes: Annotated[int | None, Field(ge=0, le=2**50)] = None
    detect_frames: Annotated[int, Field(ge=0, le=10_000_000)] = 0
    detect_seconds: Annotated[float, Field(ge=0, le=1_000_000)] = 0.0


class HeartbeatResponse(BaseModel):
    """Tells the agent whether its configuration changed."""

    config_version: int
    server_version: str


class ClipUploadMeta(Strict):
    """Event metadata sent with a clip."""

    started_at: datetime
    ended_at: datetime
    peak_motion: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
    labels: Annotated[list[str], Field(max_length=8)] = []
    objects: list[Any] = Field(
        [], description="What was seen on the snapshot (at most 50): label, score, box, zones"
    )
    e2e: bool = Field(False, description="The video and snapshot are sealed with the owner's key")
    event_id: UUID | None = Field(None, description="The agent's id of the event the clip records")
    segment: Annotated[int, Field(ge=0, le=100_000)] = Field(
        0, description="Which piece of a long event this clip is, 0 first"
    )


class EventStartMeta(Strict):
    """An event the agent announces as it starts, or again with a label it learnt since."""

    event_id: UUID = Field(description="Made by the agent; its clips name it too")
    started_at: AwareDatetime
    labels: Annotated[list[str], Field(max_length=8)] = []
    objects: list[Any] = Field(
        [], description="What is in view so far (at most 50): label, score, box, seconds, zones"
    )


class EventAnnounced(BaseModel):
    """What the owner's pages were told: ``event_started``, ``event_updated`` or nothing new."""

    event_id: str
    sent: str | None
