"""Events as they happen: the agent announces an event's start and labels before any clip exists.

The owner's pages hear ``event_started`` as soon as the agent does (with the start snapshot held
in memory for a couple of minutes, never stored) and ``event_updated`` when a label is learnt
later. Each event alerts at most once, whichever comes first (start, a label, a clip upload);
the clips that record it, one per segment, then reach the timeline without a second alert.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.cameras.models import Camera
from doorstep.cameras.rules import event_alerts, in_quiet_hours, kept_labels
from doorstep.clips import _store_events as events
from doorstep.clips import store
from doorstep.clips.models import Clip, ClipEvent
from doorstep.clips.rules_objects import check_objects, clip_kind, zone_names
from doorstep.clips.store import ALLOWED_LABELS
from doorstep.errors import InvalidInput, NotFound
from doorstep.platform.bus.held import HeldFiles
from doorstep.platform.bus.memory import notify_after_commit
from doorstep.platform.bus.mqtt import SharedHeld
from doorstep.platform.http.metrics_commit import count_alert
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


def _decide(camera: Camera, labels: Sequence[str], objects: Sequence[Mapping[str, Any]]) -> bool:
    """Whether labels and objects seen pass the camera's alert mode, rules per label and quiet."""
    return event_alerts(
        mode=camera.alert_mode,
        labels=labels,
        objects=objects,
        object_rules=camera.object_rules,
        ignore_stationary=camera.ignore_stationary,
        quiet=in_quiet_hours(utcnow(), camera.quiet_start, camera.quiet_end, camera.time_zone),
    )


def _alerts(
    db: Session, camera: Camera, event: ClipEvent, objects: Sequence[Mapping[str, Any]]
) -> bool:
    """Whether the event alerts now: not yet alerted, and what it saw passes the camera's rules.

    ``objects`` are the latest the agent reported (each carries its time in view and in each
    zone so far), so an object that has now stayed long enough alerts an event that did not yet.
    The event's clips stored before it alerted become alerts, kept as long as alerts are.
    """
    if event.alerted or not _decide(camera, event.labels, objects):
        return False
    event.alerted = True
    count_alert(db)
    for clip in store.event_clips(db, camera.id, event.event_id):
        store.set_kind(clip, camera, "alert")
    return True


def announce(
    db: Session,
    held: Held,
    camera: Camera,
    *,
    event_id: str,
    started_at: datetime,
    labels: Sequence[str],
    snapshot: bytes | None,
    objects: Sequence[Any] = (),
) -> str | None:
    """Record the event's start or new labels and tell the owner's pages after commit.

    Returns the kind of message sent (``event_started`` or ``event_updated``), or None when
    the call told nothing new (a repeat: no new label, no snapshot, and no alert now).
    """
    unknown = set(labels) - ALLOWED_LABELS
    if unknown:
        raise InvalidInput(f"unknown labels: {', '.join(sorted(unknown))}", field="labels")
    seen = check_objects(list(objects), zone_names=zone_names(camera.detection_zones))
    labels = kept_labels(labels, camera.object_rules)
    if (started_at - utcnow()).total_seconds() > 300:
        raise InvalidInput("the event starts in the future", field="started_at")
    event = events.find_event(db, camera.id, event_id)
    kind, changed = "event_updated", True
    if event is None:
        event, created = events.add_event(db, camera.id, event_id, started_at, labels)
        kind = "event_started" if created else kind
    if kind == "event_updated":
        merged = sorted({*event.labels, *labels})
        changed = merged != event.labels or snapshot is not None
        event.labels = merged
    alert = _alerts(db, camera, event, seen)
    if not changed and not alert:
        return None
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


def clip_alerts(db: Session, camera: Camera, clip: Clip) -> bool:
    """Whether a newly stored clip alerts: once per event, so not if its event already did.

    The clip's kind follows: ``alert`` when its event alerted (now or before), else from its
    labels (``clips.rules_objects.clip_kind``), with the camera's retention for that kind.
    """
    if clip.event_id is None:
        alert = _decide(camera, clip.labels, clip.objects)
        if alert:
            count_alert(db)
        store.set_kind(clip, camera, clip_kind(clip.labels, alerted=alert))
        db.flush()
        return alert
    event = events.find_event(db, camera.id, clip.event_id)
    if event is None:
        event, _ = events.add_event(db, camera.id, clip.event_id, clip.started_at, clip.labels)
    event.labels = sorted({*event.labels, *clip.labels})
    alert = _alerts(db, camera, event, clip.objects)
    store.set_kind(clip, camera, clip_kind(clip.labels, alerted=event.alerted))
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
