"""Confirmed objects only, one track per walker, zones only where the feet were, best snapshot."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np
import numpy.typing as npt

from doorstep.cameras.rules import object_alerts
from doorstep.media.detect import Detection
from doorstep.media.motion import MotionSettings
from doorstep.media.objects import EventWatcher, ObjectTracker, as_object
from doorstep.media.recorder import EventRecorder
from doorstep.media.source import Frame
from tests.media.test_recorder import read_jpeg

SIZE = (1000, 500)
PORCH = ((0.0, 0.5), (0.5, 0.5), (0.5, 1.0), (0.0, 1.0))


def _box(label: str, x: float, score: float = 0.7, y: float = 100.0) -> Detection:
    return Detection(label, score, (x, y, x + 100.0, y + 300.0))


class _Told:
    """A stand-in detector: each look gets the next list of detections."""

    def __init__(self, found: list[list[Detection]]) -> None:
        self.found = found

    def detect(
        self, bgr: npt.NDArray[np.uint8], regions: Sequence[Sequence[float]] | None = None
    ) -> list[Detection]:
        del bgr, regions
        return self.found.pop(0) if self.found else []


def test_a_walker_looked_at_twice_a_second_stays_one_track() -> None:
    tracker = ObjectTracker()
    # 120 px a look: the boxes (100 px wide) no longer overlap, but it is the same person.
    for look in range(8):
        tracker.update([_box("person", 100 + 120 * look)], look / 2)
    assert [(t.id, t.looks) for t in tracker.history] == [(1, 8)]
    # A box far away (more than its size) or of a very different size is someone else.
    tracker.update([_box("person", 1400)], 4.0)
    tracker.update([Detection("person", 0.7, (1500.0, 350.0, 1520.0, 400.0))], 4.5)
    assert len(tracker.history) == 3


def test_a_flicker_seen_once_gives_no_label_and_no_object() -> None:
    image = np.zeros((500, 1000, 3), np.uint8)
    told = _Told(
        [
            [_box("person", 100, 0.6), _box("animal", 600, 0.63)],
            [_box("person", 180, 0.6)],
            [_box("person", 260, 0.6)],
        ]
    )
    watcher = EventWatcher(told, cadence=0.5)
    assert watcher.look(image, 0.0) is False  # nothing sure yet
    assert watcher.objects() == []
    assert watcher.look(image, 0.5) is True  # the person, seen twice
    watcher.look(image, 1.0)
    assert watcher.labels == ("person",)
    assert [seen["label"] for seen in watcher.objects()] == ["person"]
    # One sure sighting is enough.
    watcher.begin()
    watcher.detector = _Told([[_box("vehicle", 100, 0.85)]])
    assert watcher.look(image, 0.0) is True
    assert watcher.labels == ("vehicle",)


def test_a_zone_the_feet_never_entered_is_not_reported_and_does_not_alert() -> None:
    tracker = ObjectTracker(zones={"porch": PORCH}, frame_size=SIZE)
    # Feet at y 400 of 500 but x 650..750: right of the porch, which is the left half.
    for look in range(6):
        tracker.update([_box("person", 600 + 10 * look)], look)
    (track,) = tracker.tracks
    seen = as_object(track, SIZE)
    assert "porch" not in seen["zones"]
    rules = {"person": {"mode": "alert", "zones": ["porch"], "dwell_seconds": 0}}
    assert not object_alerts(seen, rules, ignore_stationary=False)
    # One step in: the porch appears, from that look on.
    tracker.update([_box("person", 400)], 6)
    tracker.update([_box("person", 390)], 7)
    seen = as_object(tracker.tracks[0], SIZE)
    assert seen["zones"] == {"porch": 1.0}
    assert object_alerts(seen, rules, ignore_stationary=False)


def test_the_best_look_is_kept_with_the_boxes_there() -> None:
    frames = [np.full((500, 1000, 3), n, np.uint8) for n in range(4)]
    told = _Told(
        [
            [_box("person", 100, 0.6), _box("vehicle", 600, 0.95)],
            [_box("person", 150, 0.9), _box("vehicle", 600, 0.95)],
            [_box("person", 200, 0.7)],
            [_box("bicycle", 800, 0.6)],  # once, unsure: never reported
        ]
    )
    watcher = EventWatcher(told, cadence=0.5)
    for n, image in enumerate(frames):
        watcher.look(image, n / 2)
    assert watcher.best is not None
    # A person beats a surer car; the second look had the surest person.
    assert int(watcher.best.image[0, 0, 0]) == 1
    objects = {seen["label"]: seen for seen in watcher.objects()}
    assert set(objects) == {"person", "vehicle"}
    assert objects["person"]["box"] == [0.15, 0.2, 0.25, 0.8]  # there, not where last seen
    assert objects["person"]["seconds"] == 1.0  # the whole track's time
    assert objects["vehicle"]["box"] == [0.6, 0.2, 0.7, 0.8]


def test_the_clip_snapshot_is_the_best_look_and_the_boxes_are_on_it(tmp_path: Path) -> None:
    width, height, fps = 160, 120, 10

    class _Bright:
        """Sees a person where the bright square is; surer the further right it is."""

        def detect(
            self, bgr: npt.NDArray[np.uint8], regions: Sequence[Sequence[float]] | None = None
        ) -> list[Detection]:
            del regions
            ys, xs = np.nonzero(bgr[:, :, 0] > 200)
            if not xs.size:
                return []
            box = (float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))
            return [Detection("person", 0.3 + box[0] / 200, box)]

    settings = MotionSettings(
        min_score=0.01, min_event_seconds=0.2, pre_roll_seconds=0.5, post_roll_seconds=1.0
    )
    recorder = EventRecorder(
        rate=Fraction(fps),
        width=width,
        height=height,
        settings=settings,
        clips_dir=tmp_path,
        watcher=EventWatcher(_Bright(), cadence=0.5),
    )
    clips = []
    for index in range(60):
        image = np.full((height, width, 3), 60, np.uint8)
        if 10 <= index < 40:
            # A square walking right, 2 px a frame; the motion peaks early, at frame 12.
            x = 2 * (index - 10)
            image[40:70, x : x + 30] = 255
        frame = Frame(index, index / fps, image[:, :, 1].copy(), image)
        clip = recorder.feed(frame, (0.9 if index == 12 else 0.5) if 10 <= index < 40 else 0.0)
        clip = clip or (recorder.close() if index == 59 else None)
        if clip is not None:
            clips.append(clip)
    (clip,) = clips
    (person,) = clip.objects
    assert clip.snapshot is not None
    snapshot = read_jpeg(clip.snapshot)
    x1, y1, x2, y2 = (
        round(v * n) for v, n in zip(person["box"], (width, height, width, height), strict=True)
    )
    assert (x2 - x1, y2 - y1) == (30, 30)
    assert x1 > 30  # a late look, not the peak of motion (where the square was at x 4)
    assert snapshot[y1 + 3 : y2 - 3, x1 + 3 : x2 - 3].min() > 200  # the person is in its box
    assert snapshot[:, :x1].max() < 120  # and nowhere else
    assert snapshot[:, x2:].max() < 120
