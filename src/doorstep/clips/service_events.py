"""Events as they happen: the agent announces an event's start and labels before any clip exists.

The owner's pages hear ``event_started`` as soon as the agent does (with the start snapshot held
in memory for a couple of minutes, never stored) and ``event_updated`` when a label is learnt
later. Each event alerts at most once, whichever comes first (start, a label, a clip upload);
the clips that record it, one per segment, then reach the timeline without a second alert.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.cameras.models import Camera
from doorstep.cameras.rules import in_quiet_hours, should_alert
from doorstep.clips import _store_events as events
from doorstep.clips.models import ClipEvent
from doorstep.clips.store import ALLOWED_LABELS
from doorstep.errors import InvalidInput, NotFound
from doorstep.platform.bus.held import HeldFiles
from doorstep.platform.bus.memory import notify_after_commit
from doorstep.platform.bus.mqtt import SharedHeld
from doorstep.platform.types import utcnow

Held = HeldFiles | SharedHeld
#: How long an event's start snapshot can be fetched (like a ring's); it is never stored.
SNAPSHOT_SECONDS = 120.0


def snapshot_key(camera_id: str, event_id: str) -> str:
    """Where an event's start snapshot is held."""
    return f"event:{camera_id}:{event_id}"


def snapshot_url(camera_id: str, event_id: str) -> str:
    """Where the owner's page fetches an event's start snapshot while it is held."""
    return f"/api/v1/cameras/{camera_id}/events/{event_id}/snapshot"


def _alerts(camera: Camera, event: ClipEvent) -> bool:
    """Whether the event alerts now: not yet alerted, and its labels pass the camera's rules."""
    if event.alerted:
        return False
    quiet = in_quiet_hours(utcnow().time(), camera.quiet_start, camera.quiet_end)
    return should_alert(camera.alert_mode, event.labels, quiet=quiet)


def announce(
    db: Session,
    held: Held,
    camera: Camera,
    *,
    event_id: str,
    started_at: datetime,
    labels: Sequence[str],
    snapshot: bytes | None,
) -> str | None:
    """Record the event's start or new labels and tell the owner's pages after commit.

    Returns the kind of message sent (``event_started`` or ``event_updated``), or None when
    the call told nothing new (a repeat).
    """
    unknown = set(labels) - ALLOWED_LABELS
    if unknown:
        raise InvalidInput(f"unknown labels: {', '.join(sorted(unknown))}", field="labels")
    if (started_at - utcnow()).total_seconds() > 300:
        raise InvalidInput("the event starts in the future", field="started_at")
    event = events.find_event(db, camera.id, event_id)
    kind = "event_updated"
    if event is None:
        event, created = events.add_event(db, camera.id, event_id, started_at, labels)
        kind = "event_started" if created else kind
    if kind == "event_updated":
        merged = sorted({*event.labels, *labels})
        if merged == event.labels and snapshot is None:
            return None
        event.labels = merged
    alert = _alerts(camera, event)
    event.alerted = event.alerted or alert
    db.flush()
    key = snapshot_key(camera.id, event_id)
    if snapshot is not None:
        held.hold(key, snapshot, SNAPSHOT_SECONDS)
    message: dict[str, Any] = {
        "type": kind,
        "event_id": event_id,
        "camera_id": camera.id,
        "camera_name": camera.name,
        "labels": list(event.labels),
        "at": event.started_at.isoformat(),
        "alert": alert,
        "snapshot": snapshot_url(camera.id, event_id) if held.get(key) is not None else None,
    }
    notify_after_commit(db, camera.owner_id, message)
    return kind


def clip_alerts(
    db: Session, camera: Camera, event_id: str | None, started_at: datetime, labels: Sequence[str]
) -> bool:
    """Whether a newly stored clip alerts: once per event, so not if its event already did."""
    if event_id is None:
        quiet = in_quiet_hours(utcnow().time(), camera.quiet_start, camera.quiet_end)
        return should_alert(camera.alert_mode, labels, quiet=quiet)
    event = events.find_event(db, camera.id, event_id)
    if event is None:
        event, _ = events.add_event(db, camera.id, event_id, started_at, labels)
    event.labels = sorted({*event.labels, *labels})
    alert = _alerts(camera, event)
    event.alerted = event.alerted or alert
    db.flush()
    return alert


def event_snapshot(db: Session, held: Held, viewer: User, camera_id: str, event_id: str) -> bytes:
    """An event's start snapshot, for the camera's owner, while it is held; else NotFound."""
    if not events.owns_camera(db, viewer.id, camera_id):
        raise NotFound("no such event")
    data = held.get(snapshot_key(camera_id, event_id))
    if data is None or events.find_event(db, camera_id, event_id) is None:
        raise NotFound("that snapshot is no longer held")
    return data
