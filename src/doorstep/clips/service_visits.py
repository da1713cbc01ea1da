"""Timeline entries of more than one clip: a long event's segments, and visits.

A visit is the clips of one camera that overlap or follow closely, reviewed as one item.

Someone walks up, rings and leaves: the camera may record motion, then a person, then the ring,
as separate clips or events. The timeline (with ``visits=true``) and the clips page show them as
one visit: every label, the kind that matters most, its whole span, its first snapshot and the
objects on it, and the list of its clips.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from doorstep.clips._store_timeline import ClipFields
from doorstep.clips.schemas import ClipPublic, SegmentPublic

#: Clips of one camera this close (or overlapping) are one visit.
VISIT_GAP = timedelta(seconds=30)
_RANK = {"alert": 2, "detection": 1, "motion": 0}


class Spanned(Protocol):
    """Anything with a camera and a span: a stored clip or a timeline entry."""

    @property
    def camera_id(self) -> str:
        """The camera that recorded it."""

    @property
    def started_at(self) -> datetime:
        """When it began."""

    @property
    def ended_at(self) -> datetime:
        """When it ended."""


T = TypeVar("T", bound=Spanned)


def group_visits(items: Sequence[T], gap: timedelta = VISIT_GAP) -> list[list[T]]:
    """Group items into visits: newest visit first, each visit's items oldest first.

    Items of one camera join a visit when they overlap it or start within ``gap`` of its end
    (and so on, a chain of clips close together being one visit).
    """
    ordered = sorted(items, key=lambda item: (item.started_at, item.ended_at))
    visits: list[list[T]] = []
    open_by_camera: dict[str, tuple[list[T], datetime]] = {}
    for item in ordered:
        current = open_by_camera.get(item.camera_id)
        if current is not None and item.started_at <= current[1] + gap:
            current[0].append(item)
            open_by_camera[item.camera_id] = (current[0], max(current[1], item.ended_at))
            continue
        visit = [item]
        visits.append(visit)
        open_by_camera[item.camera_id] = (visit, item.ended_at)
    visits.sort(key=lambda visit: visit[0].started_at, reverse=True)
    return visits


def joined(first: ClipPublic, rows: Sequence[ClipFields]) -> ClipPublic:
    """The timeline entry of an event cut into segments: its first clip, all its segments."""
    if len(rows) < 2:
        return first
    segments = [
        SegmentPublic(
            id=row.id,
            segment=row.segment,
            started_at=row.started_at,
            ended_at=row.ended_at,
            duration_seconds=round((row.ended_at - row.started_at).total_seconds(), 2),
            video_url=f"/api/v1/clips/{row.id}/video",
            snapshot_url=f"/api/v1/clips/{row.id}/snapshot",
            labels=list(row.labels),
            kind=row.kind,
        )
        for row in rows
    ]
    ended = max(row.ended_at for row in rows)
    labels = sorted({label for row in rows for label in row.labels})
    return first.model_copy(
        update={
            "segments": segments,
            "ended_at": ended,
            "duration_seconds": round((ended - first.started_at).total_seconds(), 2),
            "labels": labels,
            "kind": strongest([row.kind for row in rows]),
            "peak_motion": max(row.peak_motion for row in rows),
            "size": sum(row.size for row in rows),
        }
    )


def strongest(kinds: Sequence[str]) -> str:
    """The kind that matters most among a visit's: an alert, else a detection, else motion."""
    return max(kinds, key=lambda kind: _RANK.get(kind, 0), default="motion")


def _pieces(entry: ClipPublic) -> list[SegmentPublic]:
    if entry.segments:
        return list(entry.segments)
    return [
        SegmentPublic(
            id=entry.id,
            segment=entry.segment,
            started_at=entry.started_at,
            ended_at=entry.ended_at,
            duration_seconds=entry.duration_seconds,
            video_url=entry.video_url,
            snapshot_url=entry.snapshot_url,
            labels=entry.labels,
            kind=entry.kind,
        )
    ]


def visit_entry(entries: Sequence[ClipPublic]) -> ClipPublic:
    """One timeline item for a visit's entries (oldest first).

    It is the first entry with the visit's labels, kind, span and every clip; a visit of one
    entry is that entry unchanged.
    """
    first = entries[0]
    if len(entries) < 2:
        return first
    ended = max(entry.ended_at for entry in entries)
    update: dict[str, Any] = {
        "visit": [piece for entry in entries for piece in _pieces(entry)],
        "ended_at": ended,
        "duration_seconds": round((ended - first.started_at).total_seconds(), 2),
        "labels": sorted({label for entry in entries for label in entry.labels}),
        "kind": strongest([entry.kind for entry in entries]),
        "peak_motion": max(entry.peak_motion for entry in entries),
        "size": sum(entry.size for entry in entries),
        "has_audio": any(entry.has_audio for entry in entries),
    }
    return first.model_copy(update=update)


def timeline_visits(entries: Sequence[ClipPublic]) -> list[ClipPublic]:
    """A page of timeline entries (newest first) as visits, newest first."""
    return [visit_entry(visit) for visit in group_visits(entries)]


@dataclass(frozen=True, slots=True)
class Visit:
    """What the clips page shows of a visit.

    Its first clip's snapshot and objects, its span, every label, the kind that matters most,
    and its clips (oldest first) to play or delete.
    """

    camera_id: str
    started_at: datetime
    ended_at: datetime
    labels: list[str]
    kind: str
    first: Any
    clips: list[Any]

    @property
    def seconds(self) -> float:
        """How long the visit lasted."""
        return (self.ended_at - self.started_at).total_seconds()


def page_visits(clips: Sequence[Any]) -> list[Visit]:
    """The clips page's visits from stored clips (newest first in, newest visit first out)."""
    return [
        Visit(
            camera_id=visit[0].camera_id,
            started_at=visit[0].started_at,
            ended_at=max(clip.ended_at for clip in visit),
            labels=sorted({label for clip in visit for label in clip.labels}),
            kind=strongest([clip.kind for clip in visit]),
            first=visit[0],
            clips=list(visit),
        )
        for visit in group_visits(clips)
    ]
