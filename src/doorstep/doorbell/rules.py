"""The doorbell's decisions: when a press is a new ring, who may answer, what a session may become.

Pure: no database, web or clock (``now`` is passed in). The session description a browser or an
agent sends is parsed here, line by line, before anything is stored: only audio, video and data
media, and every ICE candidate with a real transport, priority, address, port and type.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from doorstep.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyRequests

#: A press within this long of the camera's last ring is that ring still (a held or bouncing
#: button, a visitor pressing twice): one alert, not several.
RING_COOLDOWN = timedelta(seconds=10)
#: A ring's snapshot lives only in memory, this long.
SNAPSHOT_SECONDS = 120
#: At most this large: a JPEG of a doorbell's frame is far smaller.
MAX_RING_SNAPSHOT = 1024 * 1024
#: An offer nobody answered within this long has expired.
OFFER_TTL = timedelta(seconds=30)
#: An answered session's signalling lives this long; the media goes on peer to peer regardless.
SESSION_TTL = timedelta(hours=1)
#: Open (offered or answered) sessions a camera may have at once, and one viewer of it: each is
#: a peer connection, an encoder and an uplink at the door; a household is a few people.
MAX_OPEN_PER_CAMERA = 4
MAX_OPEN_PER_VIEWER = 2
#: Offers handed to the camera's agent in one long-poll answer, oldest first.
MAX_OFFERS_PER_POLL = MAX_OPEN_PER_CAMERA
#: How long a refused caller is told to wait: an unanswered offer expires in this long.
OPEN_RETRY_SECONDS = 30
#: An ended or expired session's row (who called, when; never its descriptions) is kept this long.
ENDED_SESSION_KEPT = timedelta(days=1)
#: The largest session description either side may send.
MAX_SDP_BYTES = 32 * 1024
#: Long-polls: the longest wait a caller may ask for, and how often the database is re-read.
MAX_WAIT_SECONDS = 50
RECHECK_SECONDS = 5.0
#: What a press may come from.
SOURCES = frozenset({"button", "mqtt", "key", "cli", "demo"})
#: The media kinds a session may carry: pictures, the two ways of sound, the quick-reply channel.
MEDIA_KINDS = frozenset({"audio", "video", "application"})
CANDIDATE_TYPES = frozenset({"host", "srflx", "prflx", "relay"})
TRANSPORTS = frozenset({"udp", "tcp"})


class State(StrEnum):
    """Where a live session is: offered by a browser, answered by the agent, or over."""

    OFFERED = "offered"
    ANSWERED = "answered"
    ENDED = "ended"


class Access(StrEnum):
    """How someone may answer a camera: as its owner, or as a household member it is audited."""

    OWNER = "owner"
    HOUSEHOLD = "household"


# --- rings --------------------------------------------------------------------------------------


#: How long after a press an answer still counts as answering it: as long as its snapshot and
#: the ringing dialog last. A call opened later from an old ring's link is only a live view.
ANSWER_WINDOW = timedelta(seconds=SNAPSHOT_SECONDS)


def still_ringing(pressed_at: datetime, now: datetime) -> bool:
    """Whether an answer at ``now`` answers a ring pressed at ``pressed_at``."""
    return timedelta(0) <= now - pressed_at <= ANSWER_WINDOW


def is_new_ring(last_pressed_at: datetime | None, now: datetime) -> bool:
    """Whether a press at ``now`` starts a ring, or belongs to the one pressed at ``last``."""
    # Either way round: a clock stepped back must not make every press a new ring.
    return last_pressed_at is None or abs(now - last_pressed_at) >= RING_COOLDOWN


def check_source(source: str) -> str:
    """A press's source, or InvalidInput."""
    if source not in SOURCES:
        raise InvalidInput(f"source must be one of {', '.join(sorted(SOURCES))}", field="source")
    return source


# --- who may -------------------------------------------------------------------------------------


def live_access(*, is_owner: bool, role: str, household: bool, live_view: bool) -> Access:
    """Who may see and talk at a camera live: its owner, or a household member allowed to.

    Anyone else (an agency, staff, a neighbour, a stranger) is told there is no such camera; a
    household member the owner has not allowed is told so (they know the camera exists).
    """
    if role != "resident":
        raise NotFound("no such camera")
    if is_owner:
        return Access.OWNER
    if not household:
        raise NotFound("no such camera")
    if not live_view:
        raise Forbidden("the camera's owner has not allowed you live view")
    return Access.HOUSEHOLD


# --- live sessions -------------------------------------------------------------------------------


def check_room_for_session(open_of_camera: int, open_of_viewer: int) -> None:
    """TooManyRequests when the camera, or this viewer of it, has as many calls open as allowed.

    A flood of offers would otherwise become a flood of peer connections at the door.
    """
    if open_of_camera >= MAX_OPEN_PER_CAMERA:
        raise TooManyRequests(
            f"the camera already has {MAX_OPEN_PER_CAMERA} live views open; try again soon",
            retry_after=OPEN_RETRY_SECONDS,
        )
    if open_of_viewer >= MAX_OPEN_PER_VIEWER:
        raise TooManyRequests(
            f"you already have {MAX_OPEN_PER_VIEWER} live views of this camera open; "
            "hang one up first",
            retry_after=OPEN_RETRY_SECONDS,
        )


@dataclass(frozen=True, slots=True)
class Session:
    """A live session's signalling state, as plain values."""

    state: State
    expires_at: datetime
    answer_sdp: str | None = None
    ended_at: datetime | None = None


def new_session(now: datetime) -> Session:
    """A session a browser has just offered; it expires unless the agent answers soon."""
    return Session(state=State.OFFERED, expires_at=now + OFFER_TTL)


def current(session: Session, now: datetime) -> Session:
    """The session as it stands at ``now``: past its expiry it has ended."""
    if session.state is not State.ENDED and now >= session.expires_at:
        return replace(session, state=State.ENDED, ended_at=session.expires_at)
    return session


def answer(session: Session, sdp: str, now: datetime) -> Session:
    """The agent's answer to an offer; refused once the session ended, expired or was answered."""
    session = current(session, now)
    if session.state is State.ENDED:
        raise Conflict("this live session has ended")
    if session.state is State.ANSWERED:
        raise Conflict("this live session was answered already")
    return replace(session, state=State.ANSWERED, answer_sdp=sdp, expires_at=now + SESSION_TTL)


def end(session: Session, now: datetime) -> Session:
    """End a session (hang up, or the agent stopping); ending an ended one changes nothing."""
    session = current(session, now)
    if session.state is State.ENDED:
        return session
    return replace(session, state=State.ENDED, ended_at=now)


# --- session descriptions ------------------------------------------------------------------------

_ICE_CHARS = re.compile(r"[A-Za-z0-9+/]{1,32}")
_MDNS = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})\.)+local", re.IGNORECASE)
_TOKEN = re.compile(r"[!-~]+")


@dataclass(frozen=True, slots=True)
class Candidate:
    """One ICE candidate of a session description."""

    foundation: str
    component: int
    transport: str
    priority: int
    address: str
    port: int
    type: str


@dataclass(frozen=True, slots=True)
class Description:
    """What a checked session description carries: its media kinds and candidates."""

    media: tuple[str, ...]
    candidates: tuple[Candidate, ...]


def _int(text: str, low: int, high: int, what: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        raise InvalidInput(f"{what} must be a number", field="sdp")
    value = int(text)
    if not low <= value <= high:
        raise InvalidInput(f"{what} must be between {low} and {high}", field="sdp")
    return value


def _address(text: str, what: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    if len(text) <= 253 and _MDNS.fullmatch(text):
        return text.lower()
    raise InvalidInput(f"{what} must be an IP address or a .local name", field="sdp")


def parse_candidate(value: str) -> Candidate:
    """An ``a=candidate`` attribute's value (after ``candidate:``), checked field by field."""
    parts = value.split(" ")
    if len(parts) < 8 or parts[6] != "typ":
        raise InvalidInput(
            "an ICE candidate must have 8 fields ending in 'typ <type>'", field="sdp"
        )
    foundation, component, transport, priority, address, port, _, kind, *rest = parts
    if not _ICE_CHARS.fullmatch(foundation):
        raise InvalidInput("an ICE candidate's foundation is 1-32 letters or digits", field="sdp")
    if transport.lower() not in TRANSPORTS:
        raise InvalidInput("an ICE candidate's transport must be udp or tcp", field="sdp")
    if kind not in CANDIDATE_TYPES:
        raise InvalidInput(
            "an ICE candidate's type must be host, srflx, prflx or relay", field="sdp"
        )
    if len(rest) % 2:
        raise InvalidInput("an ICE candidate's extensions come in name-value pairs", field="sdp")
    for name, extra in zip(rest[::2], rest[1::2], strict=True):
        if not (_TOKEN.fullmatch(name) and _TOKEN.fullmatch(extra)):
            raise InvalidInput(
                "an ICE candidate's extension is not a name and a value", field="sdp"
            )
        if name == "raddr":
            _address(extra, "a related address")
        elif name == "rport":
            _int(extra, 0, 65535, "a related port")
    return Candidate(
        foundation=foundation,
        component=_int(component, 1, 256, "a candidate's component"),
        transport=transport.lower(),
        priority=_int(priority, 1, 2**32 - 1, "a candidate's priority"),
        address=_address(address, "a candidate's address"),
        port=_int(port, 1, 65535, "a candidate's port"),
        type=kind,
    )


def _media(value: str) -> str:
    parts = value.split(" ")
    if len(parts) < 4 or not all(parts):
        raise InvalidInput("a media line is 'm=<kind> <port> <protocol> <formats>'", field="sdp")
    kind, port, _protocol, *_formats = parts
    if kind not in MEDIA_KINDS:
        raise InvalidInput("a session may carry only audio, video and a data channel", field="sdp")
    number, _, count = port.partition("/")
    _int(number, 0, 65535, "a media port")
    if count:
        _int(count, 1, 65535, "a media port count")
    return kind


def check_description(sdp: str, kind: str) -> Description:
    """A browser's offer or an agent's answer, parsed; InvalidInput (422) at its first fault.

    Non-trickle ICE: the candidates travel inside the description, so each is checked here.
    """
    if len(sdp.encode()) > MAX_SDP_BYTES:
        raise InvalidInput(f"a session description is at most {MAX_SDP_BYTES} bytes", field="sdp")
    lines = sdp.replace("\r\n", "\n").rstrip("\n").split("\n")
    if not lines or lines[0] != "v=0":
        raise InvalidInput(f"the {kind} must be a session description starting 'v=0'", field="sdp")
    media: list[str] = []
    candidates: list[Candidate] = []
    for line in lines:
        if len(line) < 2 or line[1] != "=" or not ("a" <= line[0] <= "z"):
            raise InvalidInput(
                "every line of a session description is '<letter>=<value>'", field="sdp"
            )
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in line):
            raise InvalidInput("a session description has no control characters", field="sdp")
        letter, value = line[0], line[2:]
        if letter == "m":
            media.append(_media(value))
        elif letter == "a" and value.startswith("candidate:"):
            candidates.append(parse_candidate(value.removeprefix("candidate:")))
    if not media:
        raise InvalidInput(f"the {kind} carries no media", field="sdp")
    return Description(media=tuple(media), candidates=tuple(candidates))


# --- TURN credentials ----------------------------------------------------------------------------


def turn_credential(secret: str, pseudonym: str, now: datetime, ttl: int) -> tuple[str, str]:
    """The TURN REST-API credential: ``<unix expiry>:<pseudonym>`` and its HMAC-SHA1 in base64."""
    username = f"{int(now.timestamp()) + ttl}:{pseudonym}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()
