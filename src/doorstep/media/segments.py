"""Pure segmentation of per-frame motion scores into events: no clock, no I/O, no pictures.

A doorbell press (``trigger``) starts or extends an event like motion would; a cap on clip
length cuts a long event into segments that can be stored as they complete.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from doorstep.media.motion import MotionSettings


@dataclass(frozen=True, slots=True)
class MotionEvent:
    """One motion event: frames ``start_frame``..``end_frame`` inclusive, pre- and post-roll too."""

    start_frame: int
    end_frame: int
    trigger_frame: int
    last_motion_frame: int
    peak_frame: int
    peak_score: float
    fps: float
    labels: tuple[str, ...] = ()
    segment: int = 0
    """Which piece of a long event this is (0 first); a cap on clip length cuts events."""
    final: bool = True
    """False while the event goes on in a next segment."""

    @property
    def start_seconds(self) -> float:
        """Start of the event in seconds from the start of the source."""
        return self.start_frame / self.fps

    @property
    def end_seconds(self) -> float:
        """End of the event's last frame in seconds from the start of the source."""
        return (self.end_frame + 1) / self.fps

    @property
    def frame_count(self) -> int:
        """How many frames the event spans."""
        return self.end_frame - self.start_frame + 1

    def as_dict(self) -> dict[str, Any]:
        """Return the event as plain JSON-ready data."""
        data = asdict(self)
        data["labels"] = list(self.labels)
        data["start_seconds"] = round(self.start_seconds, 3)
        data["end_seconds"] = round(self.end_seconds, 3)
        data["peak_score"] = round(self.peak_score, 5)
        return data


@dataclass(frozen=True, slots=True)
class EventStarted:
    """Motion lasted long enough: an event now runs from ``start_frame`` (pre-roll included)."""

    start_frame: int
    trigger_frame: int


class EventSegmenter:
    """Turn per-frame motion scores into events; pure, no I/O, one frame at a time."""

    def __init__(self, settings: MotionSettings, fps: float) -> None:
        self.settings = settings
        self.fps = fps
        self.pre_roll_frames = round(settings.pre_roll_seconds * fps)
        self.post_roll_frames = round(settings.post_roll_seconds * fps)
        self.min_frames = max(1, math.ceil(settings.min_event_seconds * fps))
        cap = settings.max_clip_seconds
        self.max_frames = max(1, round(cap * fps)) if cap is not None else None
        self._segment = 0
        self._run_start: int | None = None
        self._run_peak = (0, 0.0)
        self._active: EventStarted | None = None
        self._last_motion = -1
        self._peak = (0, 0.0)
        self._previous_end = -1
        self._labels: list[str] = []

    @property
    def active(self) -> bool:
        """Tell whether an event is in progress."""
        return self._active is not None

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels triggers gave the running event so far."""
        return tuple(self._labels)

    @property
    def current(self) -> EventStarted | None:
        """The running event's (or segment's) start, if an event is in progress."""
        return self._active

    def push(self, index: int, score: float) -> EventStarted | MotionEvent | None:
        """Take frame ``index``'s score; return an event that starts or ends here, if any.

        With a cap on clip length, a running event that reaches it returns a segment that is
        not ``final``; the event goes on from the next frame as segment 1, 2 ...
        """
        moving = score >= self.settings.min_score
        if self._active is not None:
            if moving:
                self._last_motion = index
                if score > self._peak[1]:
                    self._peak = (index, score)
            elif index >= self._last_motion + self.post_roll_frames:
                return self._end(self._last_motion + self.post_roll_frames)
            if (
                self.max_frames is not None
                and index - self._active.start_frame + 1 >= self.max_frames
            ):
                return self._cut(index)
            return None
        if not moving:
            self._run_start = None
            return None
        if self._run_start is None:
            self._run_start = index
            self._run_peak = (index, score)
        elif score > self._run_peak[1]:
            self._run_peak = (index, score)
        if index - self._run_start + 1 < self.min_frames:
            return None
        start = max(0, self._run_start - self.pre_roll_frames, self._previous_end + 1)
        self._active = EventStarted(start_frame=start, trigger_frame=self._run_start)
        self._last_motion = index
        self._peak = self._run_peak
        self._run_start = None
        return self._active

    def trigger(self, index: int, label: str) -> EventStarted | None:
        """Something outside the picture (a doorbell press) happened at frame ``index``.

        Starts an event there with the usual pre-roll, as if motion had just begun, or keeps the
        running one going; either way the event is labelled ``label`` and lasts at least the
        post-roll after ``index``. Returns the start when this began a new event.
        """
        if label and label not in self._labels:
            self._labels.append(label)
        if self._active is not None:
            self._last_motion = max(self._last_motion, index)
            return None
        begun = index if self._run_start is None else min(index, self._run_start)
        start = max(0, begun - self.pre_roll_frames, self._previous_end + 1)
        self._active = EventStarted(start_frame=start, trigger_frame=max(start, index))
        self._last_motion = max(start, index)
        self._peak = self._run_peak if self._run_start is not None else (index, 0.0)
        self._run_start = None
        return self._active

    def finish(self, last_index: int) -> MotionEvent | None:
        """Close an event still running when the footage ends at frame ``last_index``."""
        if self._active is None:
            return None
        return self._end(min(last_index, self._last_motion + self.post_roll_frames))

    def _event(self, end_frame: int, *, final: bool) -> MotionEvent:
        assert self._active is not None
        return MotionEvent(
            start_frame=self._active.start_frame,
            end_frame=end_frame,
            trigger_frame=self._active.trigger_frame,
            last_motion_frame=self._last_motion,
            peak_frame=self._peak[0],
            peak_score=self._peak[1],
            fps=self.fps,
            labels=tuple(self._labels),
            segment=self._segment,
            final=final,
        )

    def _end(self, end_frame: int) -> MotionEvent:
        event = self._event(end_frame, final=True)
        self._active = None
        self._previous_end = end_frame
        self._labels = []
        self._segment = 0
        return event

    def _cut(self, index: int) -> MotionEvent:
        # The event goes on: the next segment starts right after this frame, nothing lost.
        event = self._event(index, final=False)
        self._active = EventStarted(start_frame=index + 1, trigger_frame=index + 1)
        self._peak = (index + 1, 0.0)
        self._segment += 1
        return event


def segment(scores: Iterable[float], *, settings: MotionSettings, fps: float) -> list[MotionEvent]:
    """Return the events in a whole sequence of per-frame scores."""
    segmenter = EventSegmenter(settings, fps)
    events: list[MotionEvent] = []
    last = -1
    for index, score in enumerate(scores):
        result = segmenter.push(index, score)
        if isinstance(result, MotionEvent):
            events.append(result)
        last = index
    tail = segmenter.finish(last)
    if tail is not None:
        events.append(tail)
    return events
