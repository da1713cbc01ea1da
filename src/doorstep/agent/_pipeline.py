"""The capture pipeline's parts: motion detection and recording over one opened source."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from doorstep.agent.options import CameraConfig
from doorstep.errors import ConfigurationError
from doorstep.media.motion import MotionDetector, MotionSettings
from doorstep.media.people import PersonDetector
from doorstep.media.recorder import Clip, EventNews, EventRecorder, Labeler
from doorstep.media.source import Frame, VideoSource

log = logging.getLogger(__name__)


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
    labeler: Labeler | None,
    on_news: Callable[[EventNews, float], None] | None = None,
) -> Pipeline:
    """A pipeline for ``source`` with ``config``'s zones, recording its clips into ``clips_dir``.

    ``on_news`` hears of each event as it starts and learns labels, with the source's frame rate.
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
        labeler=labeler,
        clip_name=lambda _started: uuid.uuid4().hex,
        on_news=(lambda news: on_news(news, source.fps)) if on_news is not None else None,
    )
    return Pipeline(source_shape(source), detector, recorder)


def close_frames(frames: Iterator[Frame]) -> None:
    """Close a frame iterator that can be closed."""
    close = getattr(frames, "close", None)
    if close is not None:
        close()


def person_labeler() -> Labeler | None:
    """The person detector, or none (with a warning) when its model is missing."""
    try:
        return PersonDetector()
    except ConfigurationError as err:
        log.warning("events will not be labelled: %s", err.detail)
        return None
