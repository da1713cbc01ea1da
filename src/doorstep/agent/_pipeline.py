"""The capture pipeline's parts: motion and object detection, and recording, over one source."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from doorstep.agent.options import CameraConfig
from doorstep.cameras.rules import kept_labels, object_alerts
from doorstep.errors import ConfigurationError
from doorstep.media.detect import ObjectDetector
from doorstep.media.motion import MotionDetector, MotionSettings
from doorstep.media.objects import Detecting, EventWatcher
from doorstep.media.recorder import Clip, EventNews, EventRecorder
from doorstep.media.source import Frame, VideoSource

log = logging.getLogger(__name__)

#: How often objects are looked for during an event (seconds of footage).
DETECTION_CADENCE = 0.5


@dataclass(slots=True)
class Pipeline:
    """A source's motion detector and event recorder: a frame in, now and then a clip out."""

    source_shape: tuple[int, int, float, int | None]
    detector: MotionDetector
    recorder: EventRecorder

    def feed(self, frame: Frame) -> Clip | None:
        """Score the frame's motion and record it; a finished clip comes back."""
        return self.recorder.feed(frame, self.detector.score(frame.luma))

    def trigger(self, label: str) -> None:
        """Record now as if motion began (pre-roll included), or extend the running event.

        The clip is labelled ``label`` (``"ring"`` for a doorbell press) and lasts at least the
        post-roll after this frame. Call it from the capture thread, between two ``feed`` calls.
        """
        self.recorder.trigger(label)


def source_shape(source: VideoSource) -> tuple[int, int, float, int | None]:
    """Width, height, frame rate and audio rate: what a new pipeline is needed for."""
    return (source.width, source.height, source.fps, source.audio_rate)


def build_pipeline(
    source: VideoSource,
    config: CameraConfig,
    settings: MotionSettings,
    clips_dir: Path,
    on_news: Callable[[EventNews, float], None] | None = None,
    objects: Detecting | None = None,
) -> Pipeline:
    """A pipeline for ``source`` with ``config``'s zones, recording its clips into ``clips_dir``.

    ``on_news`` hears of each event as it starts and learns labels, with the source's frame rate.
    ``objects``: the object detector, run during events with ``config``'s zones and rules.
    """
    detector = MotionDetector(
        source.width,
        source.height,
        zones=config.motion_zones,
        privacy_zones=config.privacy_zones,
        settings=settings,
    )
    recorder = EventRecorder(
        rate=source.rate,
        width=source.width,
        height=source.height,
        settings=settings,
        clips_dir=clips_dir,
        audio_rate=source.audio_rate,
        audio_layout=source.audio_layout,
        clip_name=lambda _started: uuid.uuid4().hex,
        on_news=(lambda news: on_news(news, source.fps)) if on_news is not None else None,
        watcher=_watcher(objects, config, detector) if objects is not None else None,
    )
    return Pipeline(source_shape(source), detector, recorder)


def _watcher(objects: Detecting, config: CameraConfig, motion: MotionDetector) -> EventWatcher:
    rules, still = config.object_rules, config.ignore_stationary
    return EventWatcher(
        objects,
        zones=config.detection_zones,
        cadence=DETECTION_CADENCE,
        keep=lambda labels: kept_labels(labels, rules),
        alerts=lambda seen: object_alerts(seen, rules, ignore_stationary=still),
        regions=motion.regions,
    )


def close_frames(frames: Iterator[Frame]) -> None:
    """Close a frame iterator that can be closed."""
    close = getattr(frames, "close", None)
    if close is not None:
        close()


def object_detector() -> ObjectDetector | None:
    """The object detector, or none (with one warning) when its model is missing."""
    try:
        return ObjectDetector(threads=1)
    except ConfigurationError as err:
        log.warning("events will be recorded without labels: %s", err.detail)
        return None


def clip_metadata(clip: Clip, *, end_to_end: bool) -> dict[str, Any]:
    """What the spool keeps beside a recorded clip and the server is told of it on upload."""
    event = clip.event
    ended = datetime.now(UTC)
    started = ended - timedelta(seconds=max(0.0, event.end_seconds - event.start_seconds))
    meta: dict[str, Any] = {
        "started_at": started.isoformat(),
        "ended_at": ended.isoformat(),
        "peak_motion": round(min(1.0, max(0.0, event.peak_score)), 5),
        "labels": list(event.labels),
        "event_id": clip.event_id or None,
        "segment": event.segment,
    }
    # Sent only when there are some, as a server before objects expects; never for an
    # end-to-end camera, whose clips leave with their labels only.
    if clip.objects and not end_to_end:
        meta["objects"] = list(clip.objects)
    return meta
