"""The camera's side of the doorbell: its presses, TURN, the long-poll feed and its answers.

The agent reaches these through ``device_api`` with its device token; each call is a sign of
life too. Whatever a page waits for is published on the bus once the transaction commits.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from doorstep.accounts.models import ApiToken
from doorstep.cameras import service_device as devices
from doorstep.doorbell import rules, store
from doorstep.doorbell.models import LiveSession
from doorstep.doorbell.schemas import (
    Answer,
    DeviceFeed,
    Offer,
    RingPressed,
    SessionOffered,
    TurnServers,
)
from doorstep.doorbell.service import press, session_key, turn_servers
from doorstep.errors import NotFound
from doorstep.platform.bus.held import HeldFiles
from doorstep.platform.bus.live import LiveHub
from doorstep.platform.bus.memory import notify_after_commit
from doorstep.platform.bus.mqtt import SharedHeld, SharedLive
from doorstep.platform.types import utcnow
from doorstep.settings import Settings


def device_press(
    db: Session,
    held: HeldFiles | SharedHeld,
    token: ApiToken | None,
    source: str,
    snapshot: bytes | None,
) -> RingPressed:
    """A camera's agent reports a press; it counts as a sign of life too."""
    camera = devices.heartbeat(db, token, None)
    return press(db, held, camera, source, snapshot)


def device_turn(db: Session, token: ApiToken | None, settings: Settings) -> TurnServers:
    """TURN credentials for a paired camera's agent."""
    devices.device_camera(db, token)
    return turn_servers(settings)


def device_camera_id(db: Session, token: ApiToken | None) -> str:
    """The token's camera, marked seen: the agent's long-poll is its heartbeat."""
    return devices.heartbeat(db, token, None).id


def device_feed(
    db: Session,
    token: ApiToken | None,
    active: Sequence[str],
    *,
    live: LiveHub | SharedLive,
    settings: Settings,
) -> DeviceFeed:
    """Offers the agent has not taken up yet, which of its ``active`` sessions ended, and MJPEG."""
    camera = devices.device_camera(db, token)
    now = utcnow()
    ended = []
    known = {row.id: row for row in store.of_camera(db, camera.id, active)}
    for session_id in active:
        row = known.get(session_id)
        if row is None or rules.current(row.rule(), now).state is rules.State.ENDED:
            ended.append(session_id)
    offered = store.offered_to(db, camera.id, now, active)
    ice = turn_servers(settings).ice_servers if offered else []
    return DeviceFeed(
        sessions=[
            SessionOffered(
                id=row.id,
                offer=Offer(type="offer", sdp=row.offer_sdp),
                audio=row.audio,
                ice_servers=ice,
            )
            for row in offered
        ],
        ended=ended,
        mjpeg=devices.mjpeg_wanted(camera, live),
    )


def _device_session(db: Session, token: ApiToken | None, session_id: str) -> LiveSession:
    camera = devices.device_camera(db, token)
    row = store.session(db, session_id)
    if row is None or row.camera_id != camera.id:
        raise NotFound("no such live session")
    return row


def device_answer(db: Session, token: ApiToken | None, session_id: str, body: Answer) -> None:
    """The agent's answer to an offer; the waiting page hears of it once this commits."""
    row = _device_session(db, token, session_id)
    rules.check_description(body.sdp, "answer")
    store.apply(row, rules.answer(row.rule(), body.sdp, utcnow()))
    notify_after_commit(db, session_key(row.id), {"type": "answer"})


def device_end(db: Session, token: ApiToken | None, session_id: str) -> None:
    """The agent stopped a session (its camera going away, a failed connection)."""
    row = _device_session(db, token, session_id)
    store.apply(row, rules.end(row.rule(), utcnow()))
    notify_after_commit(db, session_key(row.id), {"type": "ended"})
