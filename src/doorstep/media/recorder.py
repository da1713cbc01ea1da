"""Motion events: pure segmentation of scores into events, and a recorder that writes clips."""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from doorstep.media._clipfile import ClipWriter, write_snapshot
from doorstep.media.errors import ClipWriteFailed
from doorstep.media.motion import DEFAULT_SETTINGS, MotionSettings
from doorstep.media.source import Frame

Labeler = Callable[[Sequence[npt.NDArray[np.uint8]]], tuple[str, ...]]
"""Looks at a few BGR frames of an event and returns labels such as ``("person",)``."""


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

    def push(self, index: int, score: float) -> EventStarted | MotionEvent | None:
        """Take frame ``index``'s score; return an event that starts or ends here, if any."""
        moving = score >= self.settings.min_score
        if self._active is not None:
            if moving:
                self._last_motion = index
                if score > self._peak[1]:
                    self._peak = (index, score)
                return None
            if index >= self._last_motion + self.post_roll_frames:
                return self._end(self._last_motion + self.post_roll_frames)
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

    def _end(self, end_frame: int) -> MotionEvent:
        assert self._active is not None
        event = MotionEvent(
            start_frame=self._active.start_frame,
            end_frame=end_frame,
            trigger_frame=self._active.trigger_frame,
            last_motion_frame=self._last_motion,
            peak_frame=self._peak[0],
            peak_score=self._peak[1],
            fps=self.fps,
            labels=tuple(self._labels),
        )
        self._active = None
        self._previous_end = end_frame
        self._labels = []
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


@dataclass(frozen=True, slots=True)
class Clip:
    """A finished event and the files written for it (``None`` when not writing files)."""

    event: MotionEvent
    video: Path | None = None
    snapshot: Path | None = None
    metadata: Path | None = None


@dataclass(slots=True)
class _EventInProgress:
    started: EventStarted
    writer: ClipWriter | None
    peak_score: float = -1.0
    peak_image: npt.NDArray[np.uint8] | None = None
    samples: list[npt.NDArray[np.uint8]] = field(default_factory=list)
    sample_step: int = 1
    motion_frames: int = 0


class EventRecorder:
    """Feed frames (privacy already blacked out) and scores one at a time; get finished clips.

    With ``clips_dir`` set, each event becomes ``<name>.mp4`` (H.264, faststart), ``<name>.jpg``
    (the peak-motion frame) and ``<name>.json`` (the event metadata) in that folder.
    """

    max_samples = 6

    def __init__(
        self,
        *,
        rate: Fraction | float,
        width: int,
        height: int,
        settings: MotionSettings = DEFAULT_SETTINGS,
        clips_dir: Path | None = None,
        audio_rate: int | None = None,
        audio_layout: str | None = None,
        labeler: Labeler | None = None,
        clip_name: Callable[[EventStarted], str] = lambda started: (
            f"event-{started.start_frame:07d}"
        ),
        extra_metadata: dict[str, Any] | None = None,
    ) -> None:
        self.rate = Fraction(rate).limit_denominator(1001)
        self.width = width
        self.height = height
        self.settings = settings
        self.clips_dir = clips_dir
        self.audio_rate = audio_rate
        self.audio_layout = audio_layout
        self.labeler = labeler
        self.clip_name = clip_name
        self.extra_metadata = extra_metadata or {}
        self.segmenter = EventSegmenter(settings, float(self.rate))
        ring_size = self.segmenter.pre_roll_frames + self.segmenter.min_frames + 1
        self._ring: deque[tuple[Frame, float]] = deque(maxlen=ring_size)
        self._event: _EventInProgress | None = None
        self._last_index = -1
        self._early: list[str] = []

    def feed(self, frame: Frame, score: float) -> Clip | None:
        """Take one frame and its motion score; return a clip when an event has just ended."""
        self._last_index = frame.index
        result = self.segmenter.push(frame.index, score)
        if self._event is not None:
            if isinstance(result, MotionEvent):
                if frame.index <= result.end_frame:
                    self._add(frame, score)
                return self._finish(result)
            self._add(frame, score)
            return None
        self._ring.append((frame, score))
        if isinstance(result, EventStarted):
            self._begin(result)
        for label in self._early:
            self.trigger(label)
        self._early = []
        return None

    def trigger(self, label: str) -> None:
        """Start (or extend) an event at the last frame fed, with pre-roll, labelled ``label``.

        Call it between two ``feed`` calls, from the thread that feeds. Before any frame there is
        nothing to record yet, so the event starts at the first frame.
        """
        if self._last_index < 0:
            self._early.append(label)
            return
        started = self.segmenter.trigger(self._last_index, label)
        if started is not None and self._event is None:
            self._begin(started)

    def close(self) -> Clip | None:
        """End the footage: finish and return an event still running, if any."""
        event = self.segmenter.finish(self._last_index)
        if event is None or self._event is None:
            return None
        return self._finish(event)

    def _begin(self, started: EventStarted) -> None:
        writer = None
        if self.clips_dir is not None:
            self.clips_dir.mkdir(parents=True, exist_ok=True)
            writer = ClipWriter(
                self.clips_dir / f"{self.clip_name(started)}.mp4",
                rate=self.rate,
                width=self.width,
                height=self.height,
                audio_rate=self.audio_rate,
                audio_layout=self.audio_layout,
            )
        self._event = _EventInProgress(started=started, writer=writer)
        for frame, score in self._ring:
            if frame.index >= started.start_frame:
                self._add(frame, score)
        self._ring.clear()

    def _add(self, frame: Frame, score: float) -> None:
        event = self._event
        assert event is not None
        image = frame.image
        if event.writer is not None:
            if image is None:
                raise ClipWriteFailed("the recorder needs colour frames to write clips")
            event.writer.write(image, frame.audio)
        if image is None:
            return
        if score > event.peak_score:
            event.peak_score, event.peak_image = score, image
        if self.labeler is not None and score >= self.settings.min_score:
            if event.motion_frames % event.sample_step == 0:
                event.samples.append(image)
                # Keep memory bounded on long events: thin the samples and sample less often.
                if len(event.samples) >= 4 * self.max_samples:
                    event.samples = event.samples[::2]
                    event.sample_step *= 2
            event.motion_frames += 1

    def _finish(self, motion: MotionEvent) -> Clip:
        event = self._event
        assert event is not None
        self._event = None
        if self.labeler is not None and event.samples:
            seen = self.labeler(_evenly(event.samples, self.max_samples))
            motion = replace(motion, labels=_merged(motion.labels, seen))
        if event.writer is None:
            return Clip(event=motion)
        video = event.writer.close()
        name = video.with_suffix("")
        snapshot = None
        if event.peak_image is not None:
            snapshot = write_snapshot(name.with_suffix(".jpg"), event.peak_image)
        metadata = name.with_suffix(".json")
        document = {
            **self.extra_metadata,
            "event": motion.as_dict(),
            "video": video.name,
            "snapshot": snapshot.name if snapshot is not None else None,
            "width": self.width,
            "height": self.height,
            "audio": self.audio_rate is not None,
        }
        try:
            metadata.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        except OSError as err:
            raise ClipWriteFailed(f"cannot write event metadata {metadata}: {err}") from err
        return Clip(event=motion, video=video, snapshot=snapshot, metadata=metadata)


def _merged(first: Sequence[str], then: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*first, *then]))


def _evenly(items: Sequence[npt.NDArray[np.uint8]], count: int) -> list[npt.NDArray[np.uint8]]:
    if len(items) <= count:
        return list(items)
    picks = np.linspace(0, len(items) - 1, count).round().astype(int)
    return [items[int(i)] for i in picks]
