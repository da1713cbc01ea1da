"""Events as the agent announces them: a row per camera and agent event id, to alert once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from doorstep.cameras.models import Camera
from doorstep.clips.models import ClipEvent


def find_event(db: Session, camera_id: str, event_id: str) -> ClipEvent | None:
    """The camera's event with the agent's id ``event_id``, if it was announced or uploaded."""
    return db.scalar(
        select(ClipEvent).where(ClipEvent.camera_id == camera_id, ClipEvent.event_id == event_id)
    )


def add_event(
    db: Session, camera_id: str, event_id: str, started_at: datetime, labels: Sequence[str]
) -> tuple[ClipEvent, bool]:
    """Record the event, or return the one a racing request recorded first (``False``)."""
    event = ClipEvent(
        camera_id=camera_id, event_id=event_id, started_at=started_at, labels=sorted(set(labels))
    )
    try:
        with db.begin_nested():
            db.add(event)
    except IntegrityError:
        existing = find_event(db, camera_id, event_id)
        assert existing is not None
        return existing, False
    return event, True


def owns_camera(db: Session, user_id: str, camera_id: str) -> bool:
    """Whether ``camera_id`` is ``user_id``'s own camera."""
    found = db.scalar(select(Camera.id).where(Camera.id == camera_id, Camera.owner_id == user_id))
    return found is not None
