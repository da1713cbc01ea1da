"""Follow detected objects from frame to frame, and say how long each stayed in the named zones.

A track is one object: a parked car seen on a hundred frames is one track, and once its box has
barely moved for ``stationary_seconds`` it is ``stationary`` (an owner ignoring stationary objects
is not alerted by it again and again). Nothing here identifies anyone: a track is a label, a box
and times (I9).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from doorstep.media._named_zones import Polygon as Polygon
from doorstep.media._named_zones import inside as inside
from doorstep.media._named_zones import named_zones as named_zones
from doorstep.media.detect import Box, Detection

# A detection belongs to a track of its label when their boxes overlap at least this much, or
# (a person walking past, looked at twice a second) when its centre is within this many box
# sizes of the track's and its box is of a like size.
_SAME_TRACK_IOU = 0.1
_SAME_TRACK_REACH = 1.0
_SAME_TRACK_SCALE = 2.5
# A track is reported (and its label learnt) once seen on this many looks, or once this sure.
_CONFIRM_LOOKS = 2
_CONFIRM_SCORE = 0.8
# A track's box counts as not moving while it overlaps where it settled at least this much.
_STILL_IOU = 0.7
_PATH_POINTS = 120
# What an event or a clip reports at most (the longest seen first).
_MOST_OBJECTS = 20


@dataclass(slots=True)
class Track:
    """One object followed across frames."""

    id: int
    label: str
    score: float
    """The best score any of its detections had."""
    box: Box
    """Its latest box, in pixels."""
    first_seen: float
    last_seen: float
    path: list[tuple[float, float, float]] = field(default_factory=list)
    """(time, x, y) of its box's bottom centre (where it stands), in pixels; the latest points."""
    stationary: bool = False
    zone_seconds: dict[str, float] = field(default_factory=dict)
    settled_box: Box = (0.0, 0.0, 0.0, 0.0)
    settled_at: float = 0.0
    inside: frozenset[str] = frozenset()
    """The zones its bottom centre was in when last seen."""
    looks: int = 1
    """On how many looks it was seen."""
    last_score: float = 0.0
    """The score of its latest detection."""

    @property
    def seconds(self) -> float:
        """How long it has been in view so far."""
        return self.last_seen - self.first_seen

    @property
    def confirmed(self) -> bool:
        """Seen on two looks or more, or once with a high score: an object, not a flicker."""
        return self.looks >= _CONFIRM_LOOKS or self.score >= _CONFIRM_SCORE


def _iou(a: Box, b: Box) -> float:
    inter_w = min(a[2], b[2]) - max(a[0], b[0])
    inter_h = min(a[3], b[3]) - max(a[1], b[1])
    if inter_w <= 0 or inter_h <= 0:
        return 0.0
    inter = inter_w * inter_h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _likeness(track: Box, found: Box) -> float:
    """How well a detection continues a track: above 1 when they overlap, 0 when unlike."""
    overlap = _iou(track, found)
    if overlap >= _SAME_TRACK_IOU:
        return 1.0 + overlap
    track_w, track_h = track[2] - track[0], track[3] - track[1]
    found_w, found_h = found[2] - found[0], found[3] - found[1]
    if min(track_w, track_h, found_w, found_h) <= 0:
        return 0.0
    ratio = (track_w * track_h) / (found_w * found_h)
    if not 1 / _SAME_TRACK_SCALE**2 <= ratio <= _SAME_TRACK_SCALE**2:
        return 0.0
    size = max(track_w, track_h, found_w, found_h)
    dx = (track[0] + track[2] - found[0] - found[2]) / 2
    dy = (track[1] + track[3] - found[1] - found[3]) / 2
    reach = (dx * dx + dy * dy) ** 0.5 / size
    return 1.0 - reach / _SAME_TRACK_REACH if reach < _SAME_TRACK_REACH else 0.0


class ObjectTracker:
    """Greedy tracker per label; ``zones``: name -> polygon, as ``named_zones`` reads them.

    A detection continues the track of its label whose box overlaps it most, else (a box that
    moved further between two looks) the nearest one of a like size within a box's reach.

    ``frame_size`` (width, height): what boxes are measured against, for the zones; a track
    unseen for ``forget_after`` seconds is dropped.
    """

    def __init__(
        self,
        *,
        zones: Mapping[str, Polygon] | None = None,
        frame_size: tuple[int, int] | None = None,
        stationary_seconds: float = 10.0,
        forget_after: float = 3.0,
    ) -> None:
        self.zones = dict(zones or {})
        self.frame_size = frame_size
        self.stationary_seconds = stationary_seconds
        self.forget_after = forget_after
        self._tracks: list[Track] = []
        self._gone: list[Track] = []
        self._next_id = 1

    @property
    def tracks(self) -> list[Track]:
        """Every track still followed, oldest first."""
        return list(self._tracks)

    @property
    def history(self) -> list[Track]:
        """Every track so far, those no longer followed included, oldest first."""
        return sorted([*self._gone, *self._tracks], key=lambda track: track.id)

    def update(
        self,
        detections: Iterable[Detection],
        t: float,
        *,
        frame_size: tuple[int, int] | None = None,
    ) -> list[Track]:
        """Match a frame's detections (at time ``t``, seconds) to tracks; return those seen now."""
        if frame_size is not None:
            self.frame_size = frame_size
        gone = [tr for tr in self._tracks if t - tr.last_seen > self.forget_after]
        if gone:
            self._gone = [*self._gone, *gone][-_MOST_OBJECTS:]
            self._tracks = [tr for tr in self._tracks if t - tr.last_seen <= self.forget_after]
        detections_list = list(detections)
        pairs = sorted(
            (
                (_likeness(track.box, found.box), n, m)
                for n, found in enumerate(detections_list)
                for m, track in enumerate(self._tracks)
                if track.label == found.label and track.last_seen < t
            ),
            reverse=True,
        )
        matched: dict[int, Track] = {}
        taken: set[int] = set()
        for likeness, n, m in pairs:
            if likeness <= 0:
                break
            if n in matched or m in taken:
                continue
            matched[n] = self._tracks[m]
            taken.add(m)
        seen: list[Track] = []
        for n, found in enumerate(detections_list):
            track = matched.get(n)
            if track is None:
                track = Track(
                    id=self._next_id,
                    label=found.label,
                    score=found.score,
                    box=found.box,
                    first_seen=t,
                    last_seen=t,
                    settled_box=found.box,
                    settled_at=t,
                    last_score=found.score,
                )
                self._next_id += 1
                self._tracks.append(track)
                self._place(track, t, t)
            else:
                previous = track.last_seen
                track.box, track.last_seen = found.box, t
                track.score = max(track.score, found.score)
                track.looks += 1
                track.last_score = found.score
                self._settle(track, t)
                self._place(track, t, previous)
            seen.append(track)
        return seen

    def _settle(self, track: Track, t: float) -> None:
        if _iou(track.box, track.settled_box) < _STILL_IOU:
            track.settled_box, track.settled_at, track.stationary = track.box, t, False
        elif t - track.settled_at >= self.stationary_seconds:
            track.stationary = True

    def _place(self, track: Track, t: float, previous: float) -> None:
        x1, _, x2, y2 = track.box
        foot = ((x1 + x2) / 2, y2)
        track.path.append((t, foot[0], foot[1]))
        del track.path[:-_PATH_POINTS]
        if self.frame_size is None or not self.zones:
            return
        width, height = self.frame_size
        point = (foot[0] / width, foot[1] / height)
        now = frozenset(name for name, poly in self.zones.items() if inside(point, poly))
        for name in now:
            # Only zones the feet were inside on a look appear, counted from the first look
            # inside; time between two sightings counts inside only when both were inside.
            gained = t - previous if name in track.inside else 0.0
            track.zone_seconds[name] = track.zone_seconds.get(name, 0.0) + gained
        track.inside = now


def as_object(track: Track, frame_size: tuple[int, int], box: Box | None = None) -> dict[str, Any]:
    """The OBJECT an agent reports: label, score, box as fractions, stationary, seconds, zones.

    ``box``: where it was on the frame the object goes with (the snapshot); else its latest box.
    """
    width, height = frame_size
    x1, y1, x2, y2 = box if box is not None else track.box
    return {
        "label": track.label,
        "score": round(track.score, 3),
        "box": [
            round(min(max(x1 / width, 0.0), 1.0), 4),
            round(min(max(y1 / height, 0.0), 1.0), 4),
            round(min(max(x2 / width, 0.0), 1.0), 4),
            round(min(max(y2 / height, 0.0), 1.0), 4),
        ],
        "stationary": track.stationary,
        "seconds": round(track.seconds, 2),
        "zones": {name: round(seconds, 2) for name, seconds in track.zone_seconds.items()},
    }


def summary(
    tracks: Sequence[Track],
    frame_size: tuple[int, int],
    boxes: Mapping[int, Box] | None = None,
) -> list[dict[str, Any]]:
    """Every track as an OBJECT, longest seen first (what an event or a clip carries).

    With ``boxes`` (track id -> its box on one frame), only the tracks on that frame, there.
    """
    if boxes is not None:
        tracks = [track for track in tracks if track.id in boxes]
    ordered = sorted(tracks, key=lambda tr: (-tr.seconds, -tr.score, tr.id))
    return [
        as_object(track, frame_size, boxes.get(track.id) if boxes is not None else None)
        for track in ordered[:_MOST_OBJECTS]
    ]


@dataclass(slots=True)
class BestLook:
    """The look that shows an event's objects best: its frame and each track's box on it."""

    image: npt.NDArray[np.uint8]
    t: float
    rank: tuple[bool, float]
    """(a confirmed person on it, the best score of a confirmed object on it)."""
    boxes: dict[int, Box]


class Detecting(Protocol):
    """Anything that finds objects on a frame (the detector, or a stand-in in tests)."""

    def detect(
        self, bgr: npt.NDArray[np.uint8], regions: Sequence[Sequence[float]] | None = None
    ) -> list[Detection]:
        """Objects on a BGR frame; ``regions``: motion boxes in pixels."""
        ...


class EventWatcher:
    """Looks for objects during an event, every ``cadence`` seconds, and follows them.

    ``keep``: the labels a camera keeps (those whose mode is not "off"); ``alerts``: whether an
    OBJECT meets its label's alert rule; ``regions``: the motion boxes of the latest frame.
    ``look`` returns True when there is news: a label not seen before in this event, or an object
    that has just met its rule (so the event is announced again).
    """

    def __init__(
        self,
        detector: Detecting,
        *,
        zones: Mapping[str, Polygon] | None = None,
        cadence: float = 0.5,
        keep: Callable[[Sequence[str]], Sequence[str]] = list,
        alerts: Callable[[Mapping[str, Any]], bool] = lambda _seen: False,
        regions: Callable[[], Sequence[Sequence[float]]] | None = None,
        stationary_seconds: float = 10.0,
    ) -> None:
        self.detector = detector
        self.zones = dict(zones or {})
        self.cadence = cadence
        self.keep = keep
        self.alerts = alerts
        self.regions = regions
        self.stationary_seconds = stationary_seconds
        self.looks = 0
        self.begin()

    def begin(self) -> None:
        """A new event: forget the objects of the last one."""
        self.tracker = ObjectTracker(zones=self.zones, stationary_seconds=self.stationary_seconds)
        self.labels: tuple[str, ...] = ()
        self._alerted: set[int] = set()
        self._last_look: float | None = None
        self._size: tuple[int, int] = (1, 1)
        self.best: BestLook | None = None

    def next_segment(self) -> None:
        """The next clip of the same event: its objects stay, its best look is looked for anew."""
        self.best = None

    def look(self, image: npt.NDArray[np.uint8], t: float) -> bool:
        """Look at a frame at time ``t`` (seconds) if it is time to; True when there is news.

        Only confirmed tracks (seen on two looks, or once with a high score) count: they alone
        give labels, alerts and objects. The look whose confirmed objects are best (a person
        first, then the highest score) is kept as ``best``: the frame for the clip's snapshot.
        """
        if self._last_look is not None and t - self._last_look < self.cadence:
            return False
        self._last_look = t
        self.looks += 1
        height, width = image.shape[:2]
        self._size = (width, height)
        regions = list(self.regions()) if self.regions is not None else None
        found = self.detector.detect(image, regions)
        kept = set(self.keep([d.label for d in found]))
        seen = self.tracker.update([d for d in found if d.label in kept], t, frame_size=self._size)
        self._rank(image, t, seen)
        news = False
        confirmed = [track.label for track in self.tracker.tracks if track.confirmed]
        labels = tuple(dict.fromkeys([*self.labels, *confirmed]))
        if labels != self.labels:
            self.labels, news = labels, True
        for track in self.tracker.tracks:
            if (
                track.confirmed
                and track.id not in self._alerted
                and self.alerts(as_object(track, self._size))
            ):
                self._alerted.add(track.id)
                news = True
        return news

    def _rank(self, image: npt.NDArray[np.uint8], t: float, seen: Sequence[Track]) -> None:
        sure = [track for track in seen if track.confirmed]
        if not sure:
            return
        people = [track.last_score for track in sure if track.label == "person"]
        rank = (bool(people), max(people) if people else max(t.last_score for t in sure))
        if self.best is None or rank > self.best.rank:
            boxes = {track.id: track.box for track in seen}
            self.best = BestLook(image=image, t=t, rank=rank, boxes=boxes)

    def objects(self) -> list[dict[str, Any]]:
        """The confirmed objects on the best look so far, boxed there; none before one."""
        if self.best is None:
            return []
        confirmed = [track for track in self.tracker.history if track.confirmed]
        return summary(confirmed, self._size, self.best.boxes)
