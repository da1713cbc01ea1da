"""The agent's pipeline looks for objects during events, with the camera's zones and rules."""

from __future__ import annotations

import json
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pytest

from doorstep.agent import _pipeline
from doorstep.agent._pipeline import build_pipeline, object_detector
from doorstep.agent.announcer import announcement
from doorstep.agent.options import CameraConfig
from doorstep.errors import ConfigurationError, InvalidInput
from doorstep.media.detect import Detection
from doorstep.media.motion import MotionSettings
from doorstep.media.recorder import Clip, EventNews
from doorstep.media.source import Frame, VideoSource
from tests.media.test_recorder import read_jpeg

FPS = 10
SETTINGS = MotionSettings(
    min_score=0.01, min_event_seconds=0.2, pre_roll_seconds=0.5, post_roll_seconds=1.0
)
CONFIG = {
    "config_version": 3,
    "detection_zones": [{"name": "porch", "polygon": [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]}],
    "object_rules": {
        "person": {"mode": "alert", "zones": ["porch"], "dwell_seconds": 1},
        "animal": {"mode": "off"},
    },
    "ignore_stationary": False,
}


class _Stand:
    """Sees a person where the bright square is, and a cat everywhere; records its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.regions: list[Sequence[Sequence[float]] | None] = []

    def detect(
        self, bgr: npt.NDArray[np.uint8], regions: Sequence[Sequence[float]] | None = None
    ) -> list[Detection]:
        self.calls += 1
        self.regions.append(regions)
        ys, xs = np.nonzero(bgr[:, :, 0] > 200)
        found = [Detection("animal", 0.9, (0.0, 0.0, 10.0, 10.0))]
        if xs.size:
            box = (float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))
            found.append(Detection("person", 0.9, box))
        return found


def _frames(count: int) -> list[Frame]:
    frames = []
    for index in range(count):
        image = np.full((120, 160, 3), 60, np.uint8)
        if 10 <= index < 40:
            x = 20 + index
            image[70:110, x : x + 20] = 255
        frames.append(Frame(index, index / FPS, image[:, :, 1].copy(), image))
    return frames


def test_the_config_brings_zones_rules_and_the_stationary_choice() -> None:
    config = CameraConfig.from_server(CONFIG)
    assert config.detection_zones == {"porch": ((0.0, 0.5), (1.0, 0.5), (1.0, 1.0), (0.0, 1.0))}
    assert config.object_rules["person"]["zones"] == ["porch"]
    assert config.ignore_stationary is False
    older = CameraConfig.from_server({"config_version": 1})
    assert (older.detection_zones, older.object_rules, older.ignore_stationary) == ({}, {}, True)
    with pytest.raises(InvalidInput):
        CameraConfig.from_server({"object_rules": {"person": "alert"}})


def test_events_carry_the_objects_seen_and_news_of_a_rule_met(tmp_path: Path) -> None:
    stand = _Stand()
    news: list[EventNews] = []
    source = SimpleNamespace(
        width=160, height=120, rate=Fraction(FPS), fps=float(FPS), audio_rate=None,
        audio_layout=None,
    )  # fmt: skip
    pipeline = build_pipeline(
        cast(VideoSource, source),
        CameraConfig.from_server(CONFIG),
        SETTINGS,
        tmp_path,
        lambda item, _fps: news.append(item),
        stand,
    )
    clips: list[Clip] = []
    for frame in _frames(80):
        clip = pipeline.feed(frame)
        if clip is not None:
            clips.append(clip)
    (clip,) = clips
    # At its cadence (every 0.5 s of footage), not on every frame of the event.
    frames = clip.event.end_frame - clip.event.start_frame + 1
    assert 3 <= stand.calls <= frames // (FPS // 2) + 1 < frames
    assert any(regions for regions in stand.regions)
    assert clip.event.labels == ("person",)  # the animal's mode is off
    (person,) = clip.objects
    assert person["label"] == "person"
    assert person["zones"]["porch"] >= 1.0
    assert 0 <= person["box"][0] < person["box"][2] <= 1
    # The snapshot is a frame the person was looked for on, and its box is where it is there.
    assert clip.snapshot is not None
    snapshot = read_jpeg(clip.snapshot)
    x1, y1, x2, y2 = (
        round(v * n) for v, n in zip(person["box"], (160, 120, 160, 120), strict=True)
    )
    assert snapshot[y1 + 3 : y2 - 3, x1 + 3 : x2 - 3].min() > 200
    assert snapshot[:, : max(x1 - 2, 0)].max() < 150
    assert clip.metadata is not None
    written = json.loads(clip.metadata.read_text())
    assert written["objects"] == list(clip.objects)
    # Word of the start, of the person (a new label), and of the person meeting the rule.
    assert [n.labels for n in news] == [(), ("person",), ("person",)]
    assert news[-1].objects
    assert news[-1].objects[0]["zones"]["porch"] >= 1.0
    sent = announcement(news[-1], FPS, now=_now(), with_picture=False)
    assert sent.meta["objects"] == list(news[-1].objects)
    assert "objects" not in announcement(news[0], FPS, now=_now(), with_picture=False).meta


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime(2026, 1, 1, tzinfo=UTC)


def test_a_missing_model_records_unlabelled_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def missing(*_args: object, **_kwargs: object) -> None:
        raise ConfigurationError("the object detection model is not installed; install it")

    monkeypatch.setattr(_pipeline, "ObjectDetector", missing)
    assert object_detector() is None
    (record,) = caplog.records
    assert record.levelname == "WARNING"
    assert "without labels" in record.getMessage()
