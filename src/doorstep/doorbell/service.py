"""The doorbell's use cases: a press rings, a browser offers, the camera's agent answers.

The server relays signalling only: offers and answers are checked (``rules.check_description``)
and stored; the media goes between the browser and the agent, encrypted end to end by DTLS-SRTP.
Everything a waiting party must hear (a ring, a session for the agent, an answer for the page)
is published on the bus once the transaction commits.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from doorstep.accounts.auth import Principal
from doorstep.accounts.models import User
from doorstep.cameras import service as cameras
from doorstep.cameras import service_device as devices
from doorstep.cameras.models import Camera
from doorstep.cameras.schemas import HouseholdMemberPublic
from doorstep.doorbell import rules, store
from doorstep.doorbell.models import LiveSession, Ring
from doorstep.doorbell.schemas import (
    Answer,
    IceServer,
    LiveSessionCreate,
    LiveSessionCreated,
    LiveSessionPublic,
    RingPressed,
    TurnServers,
)
from doorstep.errors import Forbidden, InvalidInput, NotFound, PayloadTooLarge
from doorstep.media.probe import check_jpeg
from doorstep.platform.bus.held import HeldFiles
from doorstep.platform.bus.memory import notify_after_commit
from doorstep.platform.bus.mqtt import SharedHeld
from doorstep.platform.types import utcnow
from doorstep.settings import Settings
from doorstep.transparency import audit_store as audit


def session_key(session_id: str) -> str:
    """The bus key a browser waits on for the agent's answer to its offer."""
    return f"live-session:{session_id}"


#: What an API token needs to see and answer a camera live.
VIEW_SCOPE = "clips:read"
#: The bus key a camera's agent waits on (a session offered or ended, its MJPEG page opened).
device_key = devices.device_key


def _snapshot_key(ring_id: str) -> str:
    return f"ring-{ring_id}"


# --- TURN ----------------------------------------------------------------------------------------


def viewer_turn(db: Session, settings: Settings, user: User) -> TurnServers:
    """TURN credentials for someone who may call a camera: its owner or an allowed household.

    A relay credential lets its holder send traffic through the operator's relay, so an account
    that can call no camera (a fresh sign-up, an agency, staff) gets none: no open relay.
    """
    if user.role != "resident" or not cameras.may_call_any(db, user.id):
        raise Forbidden("TURN credentials are only for those who may see a camera live")
    return turn_servers(settings)


def turn_servers(settings: Settings) -> TurnServers:
    """Short-lived credentials for the operator's TURN relay, under a fresh random pseudonym.

    A new pseudonym each time: the relay's logs cannot link one call to the next, nor to an
    account or a camera.
    """
    urls = settings.turn_url_list
    if not urls:
        return TurnServers(ice_servers=[], ttl=0)
    username, credential = rules.turn_credential(
        settings.turn_secret.get_secret_value(),
        secrets.token_hex(8),
        utcnow(),
        settings.turn_ttl,
    )
    server = IceServer(urls=urls, username=username, credential=credential)
    return TurnServers(ice_servers=[server], ttl=settings.turn_ttl)


# --- the camera's side ---------------------------------------------------------------------------


def press(
    db: Session,
    held: HeldFiles | SharedHeld,
    camera: Camera,
    source: str,
    snapshot: bytes | None,
    now: datetime | None = None,
) -> RingPressed:
    """A press of the camera's button: a new ring alerts the owner and allowed household.

    A press within the cooldown of the last ring is that ring (no new alert). The snapshot is
    held only in memory, for a short while, and never for an end-to-end camera.
    """
    now = now or utcnow()
    rules.check_source(source)
    if snapshot is not None:
        if camera.e2e_enabled:
            raise InvalidInput(
                "an end-to-end camera sends no snapshot in the clear", field="snapshot"
            )
        if len(snapshot) > rules.MAX_RING_SNAPSHOT:
            raise PayloadTooLarge("a ring's snapshot is at most 1 MiB")
        check_jpeg(snapshot)
    # Two presses arriving together (two agents' requests, a retry) wait for each other here,
    # so the second sees the first's ring and is part of it.
    cameras.lock_camera(db, camera)
    last = store.last_ring(db, camera.id)
    if last is not None and not rules.is_new_ring(last.pressed_at, now):
        return RingPressed(ring_id=last.id, rang=False)
    ring = store.add_ring(db, camera.id, source, now)
    if snapshot is not None:
        held.hold(_snapshot_key(ring.id), snapshot, rules.SNAPSHOT_SECONDS)
    event = {
        "type": "ring",
        "ring_id": ring.id,
        "camera_id": camera.id,
        "camera_name": camera.name,
        "at": now.isoformat(),
        "snapshot": f"/api/v1/rings/{ring.id}/snapshot" if snapshot is not None else None,
        "e2e": camera.e2e_enabled,
    }
    for account_id in [camera.owner_id, *cameras.live_viewer_ids(db, camera.id)]:
        notify_after_commit(db, account_id, event)
    return RingPressed(ring_id=ring.id, rang=True)


# --- the viewer's side ---------------------------------------------------------------------------


def _access(db: Session, user: User, camera: Camera | None) -> tuple[Camera, rules.Access]:
    if camera is None:
        raise NotFound("no such camera")
    member = (
        None if user.id == camera.owner_id else cameras.household_member(db, camera.id, user.id)
    )
    access = rules.live_access(
        is_owner=user.id == camera.owner_id,
        role=user.role,
        household=member is not None,
        live_view=bool(member is not None and member.live_view),
    )
    return camera, access


def _audit(
    db: Session, master_key: bytes, user: User, camera: Camera, action: str, scope: str
) -> None:
    # A household member's look at the camera, live or at a ring's snapshot, is the owner's to
    # see; pseudonyms scoped to the session or ring link it to nothing else of either person.
    audit.record(
        db,
        master_key,
        action,
        actor=user,
        owner_id=camera.owner_id,
        scope=scope,
        detail={"as": "household"},
    )


def open_session(
    db: Session, master_key: bytes, user: User, camera_id: str, body: LiveSessionCreate
) -> LiveSessionCreated:
    """Offer the camera's agent a live session; answering a ring marks the ring answered."""
    camera, access = _access(db, user, cameras.find_camera(db, camera_id))
    rules.check_description(body.offer.sdp, "offer")
    ring: Ring | None = None
    if body.ring_id is not None:
        ring = store.ring_or_none(db, body.ring_id)
        if ring is None or ring.camera_id != camera.id:
            raise InvalidInput("no such ring of this camera", field="ring_id")
    now = utcnow()
    # Offers at once wait for each other here, so each counts the other and the caps hold.
    cameras.lock_camera(db, camera)
    rules.check_room_for_session(
        store.count_open(db, camera.id, now), store.count_open(db, camera.id, now, user.id)
    )
    row = store.add_session(
        db,
        camera_id=camera.id,
        user_id=user.id,
        ring_id=ring.id if ring else None,
        offer_sdp=body.offer.sdp,
        audio=camera.audio_enabled,
        now=now,
    )
    if ring is not None:
        # Read again under the camera's lock: of two answers at once, the second sees the first.
        db.refresh(ring)
        if ring.answered_at is None and rules.still_ringing(ring.pressed_at, now):
            store.mark_answered(ring, user.id, now)
            _tell_answered(db, camera, ring, user.id)
    if access is rules.Access.HOUSEHOLD:
        _audit(db, master_key, user, camera, "live.view", row.id)
    notify_after_commit(db, devices.device_key(camera.id), {"type": "session"})
    return LiveSessionCreated(
        id=row.id,
        state="offered",
        expires_at=row.expires_at,
        audio=row.audio,
        e2e=camera.e2e_enabled,
    )


def _tell_answered(db: Session, camera: Camera, ring: Ring, answered_by: str) -> None:
    """Every page still ringing for ``ring`` closes its dialog: someone has gone to the door.

    Household members learn only that it was answered ("you", on another device, or someone
    else), never by whom.
    """
    for account_id in [camera.owner_id, *cameras.live_viewer_ids(db, camera.id)]:
        event = {
            "type": "ring_answered",
            "ring_id": ring.id,
            "camera_id": camera.id,
            "camera_name": camera.name,
            "by_you": account_id == answered_by,
        }
        notify_after_commit(db, account_id, event)


def _viewer_session(db: Session, user: User, session_id: str) -> LiveSession:
    row = store.session(db, session_id)
    if row is None or row.user_id != user.id:
        raise NotFound("no such live session")
    return row


def viewer_session(db: Session, user: User, session_id: str) -> LiveSessionPublic:
    """The state of one of the caller's sessions and, once there, the agent's answer."""
    row = _viewer_session(db, user, session_id)
    rule = rules.current(row.rule(), utcnow())
    answer = None
    if rule.state is rules.State.ANSWERED and rule.answer_sdp is not None:
        answer = Answer(type="answer", sdp=rule.answer_sdp)
    return LiveSessionPublic(id=row.id, state=rule.state.value, answer=answer)


def caller_session(db: Session, caller: Principal, session_id: str) -> LiveSessionPublic:
    """``viewer_session`` for a caller a long-poll resolved itself: a token needs clips:read."""
    caller.require_scope(VIEW_SCOPE)
    return viewer_session(db, caller.user, session_id)


def end_session(db: Session, user: User, session_id: str) -> None:
    """Hang up: the camera's agent hears at once and stops sending."""
    row = _viewer_session(db, user, session_id)
    store.apply(row, rules.end(row.rule(), utcnow()))
    notify_after_commit(db, devices.device_key(row.camera_id), {"type": "ended"})
    # Another of the viewer's pages may be waiting on the same session.
    notify_after_commit(db, session_key(row.id), {"type": "ended"})


def ring_snapshot(
    db: Session, held: HeldFiles | SharedHeld, master_key: bytes, user: User, ring_id: str
) -> bytes:
    """A ring's snapshot while it is held (two minutes), for whoever may answer the ring."""
    ring = store.ring_or_none(db, ring_id)
    if ring is None:
        raise NotFound("no such ring")
    try:
        camera, access = _access(db, user, cameras.find_camera(db, ring.camera_id))
    except NotFound:
        # The same answer as for a made-up id: whoever may not answer the ring cannot tell
        # a real ring id from a guess.
        raise NotFound("no such ring") from None
    data = held.get(_snapshot_key(ring.id))
    if data is None:
        raise NotFound("the ring's snapshot is no longer kept")
    if access is rules.Access.HOUSEHOLD:
        _audit(db, master_key, user, camera, "ring.snapshot", ring.id)
    return data


# --- the owner taking live view back ------------------------------------------------------------


def _end_sessions_of(db: Session, camera_id: str, user_id: str) -> None:
    now = utcnow()
    ended = store.open_sessions_of(db, camera_id, user_id)
    for row in ended:
        store.apply(row, rules.end(row.rule(), now))
        notify_after_commit(db, session_key(row.id), {"type": "ended"})
    if ended:
        notify_after_commit(db, devices.device_key(camera_id), {"type": "ended"})


def set_household_live_view(
    db: Session, owner: User, camera_id: str, user_id: str, live_view: bool
) -> HouseholdMemberPublic:
    """Allow or stop a member's live view; stopping ends their calls (the agent stops sending)."""
    member = cameras.set_live_view(db, owner, camera_id, user_id, live_view)
    if not live_view:
        _end_sessions_of(db, camera_id, user_id)
    return member


def revoke_household(db: Session, owner: User, camera_id: str, user_id: str) -> None:
    """Stop a household member viewing the camera at all, their live sessions included."""
    cameras.revoke_household(db, owner, camera_id, user_id)
    _end_sessions_of(db, camera_id, user_id)


# --- what is kept -------------------------------------------------------------------------------


def forget_old(db: Session, now: datetime | None = None) -> int:
    """Forget what the doorbell no longer needs; returns how many rows went.

    Descriptions (IP addresses) go once a session expired, its row a day after it ended; a
    camera's rings go after the camera's retention, as its clips do.
    """
    now = now or utcnow()
    store.forget_expired_descriptions(db, now)
    gone = store.delete_sessions_over_before(db, now - rules.ENDED_SESSION_KEPT)
    for camera_id in store.ringing_camera_ids(db):
        camera = cameras.find_camera(db, camera_id)
        if camera is not None:
            cutoff = now - timedelta(days=camera.retention_days)
            gone += store.delete_rings_before(db, camera_id, cutoff)
    return gone
