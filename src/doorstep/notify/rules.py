"""Web Push decisions: which events push, what a push says, where it may go, when to retry.

Pure: no database, network or clock of its own (``now`` and the randomness are passed in).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import re
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec

from doorstep.errors import InvalidInput

#: Devices one account may have subscribed at once.
MAX_DEVICES = 20
#: A device's name, as its owner sees it in the list.
MAX_NAME = 60
#: Push services' endpoints are a few hundred characters; anything far longer is not one.
MAX_ENDPOINT = 1024
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
P256DH_BYTES = 65
AUTH_BYTES = 16


class Kind(StrEnum):
    """What a push is about."""

    RING = "ring"
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
    Kind.ALERT: 3600,
    Kind.RFA: 3600,
    Kind.DISCLOSURE: 86400,
    Kind.NOTICE: 86400,
    Kind.TEST: 60,
}
PRIORITY = {
    Kind.RING: Priority.RING,
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
        return "high" if self.kind is Kind.RING else "normal"

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


def _what(labels: object) -> str:
    names = (
        [label for label in labels if isinstance(label, str)] if isinstance(labels, list) else []
    )
    if "person" in names:
        return "A person"
    return f"A {names[0]}" if names else "Motion"


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


# --- where a push may go -------------------------------------------------------------------------

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
LOOPBACK_HOSTS = ("127.0.0.1", "::1")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A push endpoint taken apart: where to connect and what to ask for."""

    scheme: str
    host: str
    port: int
    target: str

    @property
    def origin(self) -> str:
        """The VAPID audience: the endpoint's origin."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return f"{self.scheme}://{host}" + ("" if self.port == default else f":{self.port}")


def parse_endpoint(url: str, *, allow_loopback: bool) -> Endpoint:
    """The endpoint, if it is one Doorstep may POST to; else InvalidInput saying why."""
    if len(url) > MAX_ENDPOINT:
        raise InvalidInput(
            f"a push endpoint is at most {MAX_ENDPOINT} characters", field="endpoint"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as err:
        raise InvalidInput("the push endpoint is not a URL", field="endpoint") from err
    host = (parts.hostname or "").lower()
    if parts.username is not None or parts.password is not None or not host:
        raise InvalidInput("the push endpoint must be a plain https URL", field="endpoint")
    loopback = allow_loopback and parts.scheme == "http" and host in LOOPBACK_HOSTS
    if parts.scheme != "https" and not loopback:
        raise InvalidInput("a push endpoint must be an https:// URL", field="endpoint")
    if not loopback:
        literal = address_of(host)
        if literal is not None and not is_public(literal):
            raise InvalidInput(
                "the push endpoint is a private or reserved address; Doorstep only sends "
                "pushes to public push services",
                field="endpoint",
            )
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Endpoint(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), target)


def address_of(host: str) -> Address | None:
    """The address a host names literally, or None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def is_public(address: Address) -> bool:
    """Whether an address is on the public internet: not loopback, private, link-local, CGNAT ..."""
    if isinstance(address, ipaddress.IPv6Address):
        # 6to4 (2002:7f00:1:: is 127.0.0.1 via a relay) and site-local fec0::/10 are not global.
        inner = address.ipv4_mapped or address.sixtofour
        if inner is not None or address.is_site_local:
            return inner is not None and is_public(inner)
    return address.is_global and not address.is_multicast and not address.is_reserved


def may_connect(endpoint: Endpoint, address: Address, *, allow_loopback: bool) -> bool:
    """Whether a resolved address of the endpoint may be connected to."""
    if allow_loopback and endpoint.scheme == "http":
        return endpoint.host in LOOPBACK_HOSTS and address.is_loopback
    return endpoint.scheme == "https" and is_public(address)


# --- the subscription's keys ---------------------------------------------------------------------


def b64url_decode(value: str) -> bytes:
    """Decode URL-safe base64 with or without padding; ValueError if it is not."""
    text = value.strip()
    if not text or len(text) > 200:
        raise ValueError("empty or too long")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as err:
        raise ValueError("not base64url") from err


def check_keys(p256dh: str, auth: str) -> None:
    """The browser's keys: a P-256 point on the curve and a 16-byte secret; else InvalidInput."""
    try:
        point = b64url_decode(p256dh)
        if len(point) != P256DH_BYTES or point[0] != 4:
            raise ValueError("not an uncompressed point")
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError as err:
        raise InvalidInput(
            "keys.p256dh must be the browser's P-256 public key: 65 bytes, uncompressed, "
            "base64url, a point on the curve",
            field="keys.p256dh",
        ) from err
    try:
        secret = b64url_decode(auth)
    except ValueError as err:
        raise InvalidInput("keys.auth must be base64url", field="keys.auth") from err
    if len(secret) != AUTH_BYTES:
        raise InvalidInput("keys.auth must be the browser's 16-byte secret", field="keys.auth")


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


def service_name(host: str) -> str:
    """The push service as its owner sees it: the endpoint's host."""
    return host[:255]
