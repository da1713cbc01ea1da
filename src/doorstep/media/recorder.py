"""Motion events into clips: a recorder that writes each event (or segment of one) as it ends.

The segmentation itself is pure and lives in ``doorstep.media.segments``; it is re-exported here.
"""

from __future__ import annotations

import json
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from doorstep.media._clipfile import ClipWriter, write_snapshot
from doorstep.media.errors import ClipWriteFailed
from doorstep.media.motion import DEFAULT_SETTINGS, MotionSettings
from doorstep.media.objects import EventWatcher
from doorstep.media.segments import EventSegmenter as EventSegmenter
from doorstep.media.segments import EventStarted as EventStarted
from doorstep.media.segments import MotionEvent as MotionEvent
from doorstep.media.segments import segment as segment
from doorstep.media.source import Frame

Labeler = Callable[[Sequence[npt.NDArray[np.uint8]]], tuple[str, ...]]
"""Looks at a few BGR frames of an event and returns labels such as ``("person",)``."""


@dataclass(frozen=True, slots=True)
class Clip:
    """A finished event or segment and the files written for it (``None`` when not writing)."""

    event: MotionEvent
    video: Path | None = None
    snapshot: Path | None = None
    metadata: Path | None = None
    event_id: str = ""
    """The same for every segment of one event; made by the recorder (a UUID)."""
    objects: tuple[dict[str, Any], ...] = ()
    """The objects seen in the event so far, as agents report them (with a ``watcher``)."""


@dataclass(frozen=True, slots=True)
class EventNews:
    """Word of a running event: it ``started`` (with its picture), new labels, or a new alert.

    A new alert: an object that has just met its label's rule; ``objects``: those seen so far.
    """

    event_id: str
    start_frame: int
    at_frame: int
    labels: tuple[str, ...]
    started: bool
    image: npt.NDArray[np.uint8] | None = None
    objects: tuple[dict[str, Any], ...] = ()


@dataclass(slots=True)
class _EventInProgress:
    started: EventStarted
    writer: ClipWriter | None
    event_id: str
    first_frame: int
    labels: tuple[str, ...] = ()
    peak_score: float = -1.0
    peak_image: npt.NDArray[np.uint8] | None = None
    last_image: npt.NDArray[np.uint8] | None = None
    samples: list[npt.NDArray[np.uint8]] = field(default_factory=list)
    sample_step: int = 1
    motion_frames: int = 0
    looked_early: bool = False


class EventRecorder:
    """Feed frames (privacy already blacked out) and scores one at a time; get finished clips.

    With ``clips_dir`` set, each event becomes ``<name>.mp4`` (H.264, faststart), ``<name>.jpg``
    (the frame that shows its objects best, else the peak-motion frame) and ``<name>.json``
    (the event metadata) in that folder; with a cap on clip length
    (``settings.max_clip_seconds``) a long event becomes one such clip per segment, each
    returned as soon as it is complete. ``on_news`` hears of an event while it
    runs: as it starts, and whenever it learns a label, so it can be announced before it ends.
    A ``watcher`` looks for objects during each event (at its own cadence) and follows them; its
    labels join the event's, and its objects go with the news and into the clip's metadata;
    their boxes are where they are on the snapshot.
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
        on_news: Callable[[EventNews], None] | None = None,
        watcher: EventWatcher | None = None,
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
        self.on_news = on_news
        self.watcher = watcher
        self.segmenter = EventSegmenter(settings, float(self.rate))
        ring_size = self.segmenter.pre_roll_frames + self.segmenter.min_frames + 1
        self._ring: deque[tuple[Frame, float]] = deque(maxlen=ring_size)
        self._event: _EventInProgress | None = None
        self._last_index = -1
        self._early: list[str] = []

    def feed(self, frame: Frame, score: float) -> Clip | None:
        """Take one frame and its motion score; return a clip when an event (or segment) ends."""
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
        elif self._event is not None:
            self._learn(self._event, (label,))

    def close(self) -> Clip | None:
        """End the footage: finish and return an event still running, if any."""
        event = self.segmenter.finish(self._last_index)
        if event is None or self._event is None:
            return None
        return self._finish(event)

    def _begin(self, started: EventStarted, going_on: _EventInProgress | None = None) -> None:
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
        if going_on is not None:
            # The next segment of the same event: same id, the labels it already learnt.
            self._event = _EventInProgress(
                started=started,
                writer=writer,
                event_id=going_on.event_id,
                first_frame=going_on.first_frame,
                labels=going_on.labels,
                looked_early=True,
            )
            if self.watcher is not None:
                self.watcher.next_segment()
            return
        event = _EventInProgress(
            started=started,
            writer=writer,
            event_id=str(uuid.uuid4()),
            first_frame=started.start_frame,
            labels=self.segmenter.labels,
        )
        self._event = event
        if self.watcher is not None:
            self.watcher.begin()
        # Told first, with the newest picture: the pre-roll may hold enough to label it at once.
        event.last_image = self._ring[-1][0].image if self._ring else None
        self._tell(event, started=True)
        newest = self._ring[-1][0].index if self._ring else -1
        for frame, score in self._ring:
            if frame.index >= started.start_frame:
                # Objects are looked for on the newest pre-roll frame only: the rest is past.
                self._add(frame, score, look=frame.index == newest)
        self._ring.clear()

    def _tell(self, event: _EventInProgress, *, started: bool) -> None:
        if self.on_news is None:
            return
        news = EventNews(
            event_id=event.event_id,
            start_frame=event.first_frame,
            at_frame=max(self._last_index, event.first_frame),
            labels=event.labels,
            started=started,
            image=event.last_image if started else None,
            objects=self._objects(),
        )
        self.on_news(news)

    def _objects(self) -> tuple[dict[str, Any], ...]:
        return tuple(self.watcher.objects()) if self.watcher is not None else ()

    def _learn(self, event: _EventInProgress, labels: Sequence[str], *, news: bool = False) -> None:
        merged = _merged(event.labels, labels)
        if merged != event.labels or news:
            event.labels = merged
            self._tell(event, started=False)

    def _add(self, frame: Frame, score: float, *, look: bool = True) -> None:
        event = self._event
        assert event is not None
        image = frame.image
        if event.writer is not None:
            if image is None:
                raise ClipWriteFailed("the recorder needs colour frames to write clips")
            event.writer.write(image, frame.audio)
        if image is None:
            return
        event.last_image = image
        if score > event.peak_score:
            event.peak_score, event.peak_image = score, image
        watcher = self.watcher if look else None
        if watcher is not None and watcher.look(image, frame.index / float(self.rate)):
            self._learn(event, watcher.labels, news=True)
        if self.labeler is not None and score >= self.settings.min_score:
            if event.motion_frames % event.sample_step == 0:
                event.samples.append(image)
                # Keep memory bounded on long events: thin the samples and sample less often.
                if len(event.samples) >= 4 * self.max_samples:
                    event.samples = event.samples[::2]
                    event.sample_step *= 2
            event.motion_frames += 1
            if not event.looked_early and len(event.samples) >= self.max_samples:
                # A first look as soon as there is enough to see: the label is announced now,
                # not when the event ends.
                event.looked_early = True
                self._learn(event, self.labeler(event.samples[: self.max_samples]))

    def _finish(self, motion: MotionEvent) -> Clip:
        event = self._event
        assert event is not None
        self._event = None
        if self.labeler is not None and event.samples:
            self._learn(event, self.labeler(_evenly(event.samples, self.max_samples)))
        motion = replace(motion, labels=_merged(motion.labels, event.labels))
        objects = self._objects()
        best = self.watcher.best if self.watcher is not None else None
        # The objects' boxes are on the watcher's best look: that frame is the snapshot.
        picture = best.image if best is not None and objects else event.peak_image
        if not motion.final:
            started = self.segmenter.current
            assert started is not None
            self._begin(started, going_on=event)
        if event.writer is None:
            return Clip(event=motion, event_id=event.event_id, objects=objects)
        video = event.writer.close()
        name = video.with_suffix("")
        snapshot = None
        if picture is not None:
            snapshot = write_snapshot(name.with_suffix(".jpg"), picture)
        metadata = name.with_suffix(".json")
        document = {
            **self.extra_metadata,
            "event_id": event.event_id,
            "event": motion.as_dict(),
            "video": video.name,
            "snapshot": snapshot.name if snapshot is not None else None,
            "width": self.width,
            "height": self.height,
            "audio": self.audio_rate is not None,
            "objects": list(objects),
        }
        try:
            metadata.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        except OSError as err:
            raise ClipWriteFailed(f"cannot write event metadata {metadata}: {err}") from err
        return Clip(
            event=motion,
            video=video,
            snapshot=snapshot,
            metadata=metadata,
            event_id=event.event_id,
            objects=objects,
        )


def _merged(first: Sequence[str], then: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*first, *then]))


def _evenly(items: Sequence[npt.NDArray[np.uint8]], count: int) -> list[npt.NDArray[np.uint8]]:
    if len(items) <= count:
        return list(items)
    picks = np.linspace(0, len(items) - 1, count).round().astype(int)
    return [items[int(i)] for i in picks]
