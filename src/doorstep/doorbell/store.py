"""The doorbell's queries: rings and live sessions; nobody else's tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from doorstep.doorbell import rules
from doorstep.doorbell.models import LiveSession, Ring


def last_ring(db: Session, camera_id: str) -> Ring | None:
    """The camera's latest ring, if it ever rang."""
    query = select(Ring).where(Ring.camera_id == camera_id).order_by(Ring.pressed_at.desc())
    return db.scalars(query.limit(1)).first()


def add_ring(db: Session, camera_id: str, source: str, now: datetime) -> Ring:
    """Store a new ring."""
    ring = Ring(camera_id=camera_id, source=source, pressed_at=now)
    db.add(ring)
    db.flush()
    return ring


def ring_or_none(db: Session, ring_id: str) -> Ring | None:
    """A ring by id, or None."""
    return db.get(Ring, ring_id)


def rings_of(db: Session, camera_id: str) -> list[Ring]:
    """The camera's rings, newest first."""
    query = select(Ring).where(Ring.camera_id == camera_id).order_by(Ring.pressed_at.desc())
    return list(db.scalars(query))


def mark_answered(ring: Ring, user_id: str, now: datetime) -> None:
    """The first to answer a ring is who answered it."""
    if ring.answered_at is None:
        ring.answered_at = now
        ring.answered_by = user_id


def add_session(
    db: Session,
    *,
    camera_id: str,
    user_id: str,
    ring_id: str | None,
    offer_sdp: str,
    audio: bool,
    now: datetime,
) -> LiveSession:
    """Store a browser's offer as a new live session."""
    rule = rules.new_session(now)
    row = LiveSession(
        camera_id=camera_id,
        user_id=user_id,
        ring_id=ring_id,
        offer_sdp=offer_sdp,
        audio=audio,
        created_at=now,
        state=rule.state.value,
        expires_at=rule.expires_at,
    )
    db.add(row)
    db.flush()
    return row


def session(db: Session, session_id: str) -> LiveSession | None:
    """A live session by id, or None."""
    return db.get(LiveSession, session_id)


def offered_to(
    db: Session, camera_id: str, now: datetime, skip: Sequence[str]
) -> list[LiveSession]:
    """Offers to the camera still waiting for its answer, but those in ``skip``, oldest first.

    At most a few at once: the agent serves only so many calls.
    """
    query = select(LiveSession).where(
        LiveSession.camera_id == camera_id,
        LiveSession.state == rules.State.OFFERED.value,
        LiveSession.expires_at > now,
    )
    if skip:
        query = query.where(LiveSession.id.not_in(list(skip)))
    query = query.order_by(LiveSession.created_at).limit(rules.MAX_OFFERS_PER_POLL)
    return list(db.scalars(query))


def count_open(db: Session, camera_id: str, now: datetime, user_id: str | None = None) -> int:
    """The camera's sessions offered or answered and not yet expired (of ``user_id`` if given)."""
    query = (
        select(func.count())
        .select_from(LiveSession)
        .where(
            LiveSession.camera_id == camera_id,
            LiveSession.state != rules.State.ENDED.value,
            LiveSession.expires_at > now,
        )
    )
    if user_id is not None:
        query = query.where(LiveSession.user_id == user_id)
    return db.scalar(query) or 0


def of_camera(db: Session, camera_id: str, session_ids: Sequence[str]) -> list[LiveSession]:
    """Those of ``session_ids`` that are the camera's sessions."""
    if not session_ids:
        return []
    query = select(LiveSession).where(
        LiveSession.camera_id == camera_id, LiveSession.id.in_(list(session_ids))
    )
    return list(db.scalars(query))


def apply(session: LiveSession, decided: rules.Session) -> LiveSession:
    """Take the state a rule decided for the session."""
    session.apply(decided)
    return session


def open_sessions_of(db: Session, camera_id: str, user_id: str) -> list[LiveSession]:
    """A viewer's sessions of a camera that have not ended."""
    query = select(LiveSession).where(
        LiveSession.camera_id == camera_id,
        LiveSession.user_id == user_id,
        LiveSession.state != rules.State.ENDED.value,
    )
    return list(db.scalars(query))


def forget_expired_descriptions(db: Session, now: datetime) -> int:
    """Clear the descriptions (both ends' IP addresses) of sessions that expired unended."""
    result = db.execute(
        update(LiveSession)
        .where(LiveSession.expires_at <= now, LiveSession.offer_sdp != "")
        .values(offer_sdp="", answer_sdp=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def delete_sessions_over_before(db: Session, cutoff: datetime) -> int:
    """Delete sessions that ended, or expired, before ``cutoff``."""
    over = or_(LiveSession.ended_at < cutoff, LiveSession.expires_at < cutoff)
    result = db.execute(delete(LiveSession).where(over))
    return int(getattr(result, "rowcount", 0) or 0)


def ringing_camera_ids(db: Session) -> list[str]:
    """Every camera that has rings kept, once each."""
    return list(db.scalars(select(Ring.camera_id).distinct()))


def delete_rings_before(db: Session, camera_id: str, cutoff: datetime) -> int:
    """Delete the camera's rings pressed before ``cutoff``."""
    query = delete(Ring).where(Ring.camera_id == camera_id, Ring.pressed_at < cutoff)
    return int(getattr(db.execute(query), "rowcount", 0) or 0)
