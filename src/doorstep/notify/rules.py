"""Web Push decisions: which events push, what a push says, where it may go, when to retry.

Pure: no database, network or clock of its own (``now`` and the randomness are passed in).
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any

#: Devices one account may have subscribed at once.
MAX_DEVICES = 20
#: A device's name, as its owner sees it in the list.
MAX_NAME = 60
#: Sends of one push to one device before it is given up (the first included).
MAX_ATTEMPTS = 5
#: The first retry's wait; each next one doubles, up to ``MAX_RETRY_SECONDS``.
FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 600.0
#: Longest a push service's Retry-After is honoured: past it the push is stale anyway.
MAX_RETRY_AFTER_SECONDS = 3600.0
#: How much of a failure's message a device keeps to show its owner.
MAX_FAILURE = 200
#: RFC 8030 §5.4: a Topic is at most 32 characters of the URL-safe base64 alphabet.
TOPIC_CHARS = re.compile(r"[A-Za-z0-9_-]{1,32}")


class Kind(StrEnum):
    """What a push is about."""

    RING = "ring"
    #: A ring someone answered: replaces the ring's notification on every other device.
    ANSWERED = "answered"
    ALERT = "alert"
    RFA = "rfa"
    DISCLOSURE = "disclosure"
    NOTICE = "notice"
    TEST = "test"


class Priority(IntEnum):
    """The outbox's order: a lower number goes first."""

    RING = 0
    TEST = 1
    NOTICE = 2
    ALERT = 3


#: Seconds the push service keeps a push for a phone that is offline (RFC 8030 ``TTL``): a ring
#: nobody saw in a minute is over; an alert still matters for an hour; a legal notice for a day.
TTL = {
    Kind.RING: 60,
    Kind.ANSWERED: 60,
    Kind.ALERT: 3600,
    Kind.RFA: 3600,
    Kind.DISCLOSURE: 86400,
    Kind.NOTICE: 86400,
    Kind.TEST: 60,
}
PRIORITY = {
    Kind.RING: Priority.RING,
    # Behind every ring: the outbox's ring lane takes only rings from the head of the queue.
    Kind.ANSWERED: Priority.TEST,
    Kind.TEST: Priority.TEST,
    Kind.RFA: Priority.NOTICE,
    Kind.DISCLOSURE: Priority.NOTICE,
    Kind.NOTICE: Priority.NOTICE,
    Kind.ALERT: Priority.ALERT,
}


@dataclass(frozen=True, slots=True)
class Push:
    """One notification: all a device is told, and nothing more (no snapshot, no location)."""

    kind: Kind
    title: str
    body: str
    camera: str | None
    at: str
    url: str
    tag: str

    def payload(self) -> dict[str, Any]:
        """What the service worker receives, once decrypted."""
        return {
            "type": self.kind.value,
            "title": self.title,
            "body": self.body,
            "camera": self.camera,
            "at": self.at,
            "url": self.url,
            "tag": self.tag,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Push:
        """The push again from its payload (as a job carries it); KeyError/ValueError if not one."""
        camera = payload["camera"]
        return cls(
            Kind(payload["type"]),
            str(payload["title"]),
            str(payload["body"]),
            None if camera is None else str(camera),
            str(payload["at"]),
            _own_url(payload["url"], "/"),
            str(payload["tag"]),
        )

    @property
    def ttl(self) -> int:
        """The push service's time to live, in seconds."""
        return TTL[self.kind]

    @property
    def urgency(self) -> str:
        """RFC 8030 ``Urgency``: a ring wakes the phone, the rest may wait for it."""
        return "high" if self.kind in (Kind.RING, Kind.ANSWERED) else "normal"

    @property
    def priority(self) -> Priority:
        """Where the push goes in the outbox."""
        return PRIORITY[self.kind]

    @property
    def topic(self) -> str:
        """RFC 8030 ``Topic``: a newer push of the same tag replaces one still waiting.

        At most 32 characters of the URL-safe base64 alphabet, so the tag is hashed.
        """
        digest = hashlib.sha256(self.tag.encode()).digest()
        return base64.urlsafe_b64encode(digest).decode()[:32]


def _text(value: object, default: str, limit: int = 80) -> str:
    return value[:limit] if isinstance(value, str) and value else default


def _own_url(value: object, default: str) -> str:
    # Only a path on our own origin: a notification click never leaves Doorstep.
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//"):
        return value
    return default


#: The label of a clip the doorbell's button started: its visit was told by the ring's own push.
RING_LABEL = "ring"


#: What an alert's title names, most telling first: a person says more than the car they came in,
#: and anything says more than motion. Labels not here (``ring`` has its own push) name nothing.
_NAMES = {
    "person": "A person",
    "vehicle": "A vehicle",
    "bicycle": "A bicycle",
    "animal": "An animal",
    "motion": "Motion",
}


def _what(labels: object) -> str:
    """The subject of an alert's title: the most telling of ``labels``, with its article.

    The event and clip messages carry the labels seen, not which one alerted, so the most
    telling label is named; with none known, ``Motion``.
    """
    names = labels if isinstance(labels, list) else []
    return next((text for label, text in _NAMES.items() if label in names), "Motion")


def _rang(labels: object) -> bool:
    return isinstance(labels, list) and RING_LABEL in labels


def push_for(event: dict[str, Any], now: str) -> Push | None:
    """The push an account event sends to the account's devices, or None for no push.

    ``now`` (ISO time) stands in for an event that carries no time of its own. Motion pushes
    only when the event says ``alert`` (the camera's alert mode and quiet hours decided it),
    and not for a visit whose ring was pushed already: one press, one notification.
    """
    kind = event.get("type")
    if kind in ("event_started", "event_updated") and _rang(event.get("labels")):
        return None
    if (
        kind == "clip"
        and isinstance(event.get("clip"), dict)
        and _rang(event["clip"].get("labels"))
    ):
        return None
    if kind == "ring":
        camera = _text(event.get("camera_name"), "Your doorbell")
        return Push(
            Kind.RING,
            "Someone is at the door",
            f"{camera}: the doorbell rang",
            camera,
            _text(event.get("at"), now, 40),
            f"/cameras/{event.get('camera_id')}/live?ring={event.get('ring_id')}",
            f"ring-{event.get('camera_id')}",
        )
    if kind == "ring_answered":
        # The ring's own tag (and so its Topic): the ringing notification is replaced, on a
        # phone that was offline even before it arrives.
        camera = _text(event.get("camera_name"), "your doorbell")
        answered = "You answered" if event.get("by_you") is True else "Someone answered"
        return Push(
            Kind.ANSWERED,
            f"{answered} the door",
            f"{camera}: answered" + (" on another device" if event.get("by_you") is True else ""),
            camera,
            now,
            f"/cameras/{event.get('camera_id')}",
            f"ring-{event.get('camera_id')}",
        )
    if kind in ("event_started", "event_updated") and event.get("alert") is True:
        camera = _text(event.get("camera_name"), "A camera")
        return Push(
            Kind.ALERT,
            f"{_what(event.get('labels'))} at {camera}",
            "Open to see the clip once it is saved",
            camera,
            _text(event.get("at"), now, 40),
            f"/clips?camera={event.get('camera_id')}",
            f"event-{event.get('event_id')}",
        )
    if kind == "clip" and event.get("alert") is True and isinstance(event.get("clip"), dict):
        clip: dict[str, Any] = event["clip"]
        camera = _text(clip.get("camera_name"), "A camera")
        return Push(
            Kind.ALERT,
            f"{_what(clip.get('labels'))} at {camera}",
            "A new clip was saved",
            camera,
            _text(clip.get("started_at"), now, 40),
            f"/clips/{clip.get('id')}",
            f"clip-{clip.get('event_id') or clip.get('id')}",
        )
    if kind == "rfa" and isinstance(event.get("request"), dict):
        request: dict[str, Any] = event["request"]
        agency = _text(request.get("agency_name"), "An agency")
        incident = _text(request.get("incident_type"), "an incident")
        return Push(
            Kind.RFA,
            "A request for footage near your cameras",
            f"{agency} asks about {incident}; sharing is your choice",
            None,
            now,
            _own_url(request.get("url"), "/requests"),
            f"rfa-{request.get('id')}",
        )
    if kind == "disclosure" and isinstance(event.get("disclosure"), dict):
        disclosure: dict[str, Any] = event["disclosure"]
        agency = _text(disclosure.get("agency_name"), "An agency")
        return Push(
            Kind.DISCLOSURE,
            "Your footage was disclosed",
            f"{agency} received or opened your footage; see what and why",
            None,
            now,
            _own_url(disclosure.get("url"), "/disclosures"),
            f"disclosure-{disclosure.get('id') or disclosure.get('share')}",
        )
    if kind == "notice":
        return Push(
            Kind.NOTICE,
            _text(event.get("title"), "A notice about your account"),
            _text(event.get("body"), "Open Doorstep to read it", 200),
            None,
            now,
            _own_url(event.get("url"), "/account"),
            _text(event.get("tag"), "notice", 40),
        )
    return None


def trial_push(now: str) -> Push:
    """The push a device's "send a test" button sends."""
    return Push(
        Kind.TEST, "Doorstep test", "Notifications reach this device", None, now, "/account", "test"
    )


# --- retries -------------------------------------------------------------------------------------


def retry_delay(attempt: int, retry_after: float | None, jitter: float) -> float | None:
    """Seconds before the next try after failed ``attempt`` (1 = the first), None to give up.

    Exponential backoff with jitter (``jitter`` in [0, 1) from the caller: the wait is between
    half and all of the step), so devices failing together do not retry together; a push
    service's Retry-After is a floor.
    """
    if attempt >= MAX_ATTEMPTS:
        return None
    ceiling = min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * float(2 ** (attempt - 1)))
    delay = ceiling / 2 + ceiling / 2 * jitter
    if retry_after is not None:
        if retry_after > MAX_RETRY_AFTER_SECONDS:
            return None
        delay = max(delay, retry_after)
    return delay


def parse_retry_after(value: str | None) -> float | None:
    """A Retry-After header in seconds (the date form is read as "no hint")."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
