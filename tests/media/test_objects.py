"""Following objects across frames: one track per object, stationary ones, seconds in zones."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest

from doorstep.cameras.rules import object_alerts
from doorstep.errors import InvalidInput
from doorstep.media.detect import Detection
from doorstep.media.objects import EventWatcher, ObjectTracker, as_object, inside, named_zones

SIZE = (1000, 500)
PORCH = ((0.0, 0.5), (0.5, 0.5), (0.5, 1.0), (0.0, 1.0))


def _person(x: float, y: float = 100.0, label: str = "person") -> Detection:
    return Detection(label, 0.8, (x, y, x + 100.0, y + 300.0))


def test_one_object_seen_on_many_frames_is_one_track() -> None:
    tracker = ObjectTracker()
    for step in range(10):
        seen = tracker.update([_person(100 + 10 * step), _person(700, label="vehicle")], step)
        assert len(seen) == 2
    assert sorted((t.id, t.label) for t in tracker.tracks) == [(1, "person"), (2, "vehicle")]
    walker = tracker.tracks[0]
    assert walker.seconds == 9
    assert walker.box == (190.0, 100.0, 290.0, 400.0)
    assert walker.path[-1] == (9, 240.0, 400.0)


def test_a_box_that_barely_moves_becomes_stationary_and_moving_again_clears_it() -> None:
    tracker = ObjectTracker(stationary_seconds=10)
    for second in range(15):
        tracker.update([_person(500 + (second % 2), label="vehicle")], second)
    parked = tracker.tracks[0]
    assert parked.stationary
    walker = ObjectTracker(stationary_seconds=10)
    for second in range(15):
        walker.update([_person(100 + 30 * second)], second)
    assert not walker.tracks[0].stationary
    tracker.update([_person(560, label="vehicle")], 15)
    assert not parked.stationary


def test_a_parked_car_does_not_alert_but_a_moving_one_would() -> None:
    tracker = ObjectTracker(stationary_seconds=10)
    for second in range(12):
        tracker.update([_person(500, label="vehicle")], second)
    rules = {"vehicle": {"mode": "alert", "zones": [], "dwell_seconds": 0}}
    seen = as_object(tracker.tracks[0], SIZE)
    assert seen["stationary"] is True
    assert not object_alerts(seen, rules, ignore_stationary=True)
    assert object_alerts(seen, rules, ignore_stationary=False)


def test_seconds_inside_a_zone_count_where_the_feet_are() -> None:
    tracker = ObjectTracker(zones={"porch": PORCH}, frame_size=SIZE)
    # Feet at x 150 (inside the porch's left half) for 4 s, then at x 650 (outside) for 3 s.
    for second in range(5):
        tracker.update([_person(100 + second)], second)
    for second in range(5, 8):
        tracker.update([_person(600 + second)], second)
    track = tracker.tracks[0] if len(tracker.tracks) == 1 else None
    assert track is None  # a jump of 500 px is another object for an IoU tracker
    first, second_track = tracker.history
    assert first.zone_seconds == {"porch": 4.0}
    assert second_track.zone_seconds == {}
    obj = as_object(first, SIZE)
    assert obj == {
        "label": "person",
        "score": 0.8,
        "box": [0.104, 0.2, 0.204, 0.8],
        "stationary": False,
        "seconds": 4.0,
        "zones": {"porch": 4.0},
    }


def test_dwell_in_a_zone_meets_the_rule_only_after_enough_seconds() -> None:
    tracker = ObjectTracker(zones={"porch": PORCH}, frame_size=SIZE)
    rules = {"person": {"mode": "alert", "zones": ["porch"], "dwell_seconds": 5}}
    met = []
    for second in range(8):
        tracker.update([_person(100 + 5 * second)], second)
        met.append(object_alerts(as_object(tracker.tracks[0], SIZE), rules, ignore_stationary=True))
    assert met == [False] * 5 + [True] * 3


def test_a_track_unseen_for_a_while_is_forgotten_but_kept_in_the_history() -> None:
    tracker = ObjectTracker(forget_after=2)
    tracker.update([_person(100)], 0)
    tracker.update([], 5)
    assert tracker.tracks == []
    assert [t.id for t in tracker.history] == [1]
    tracker.update([_person(100)], 6)
    assert [t.id for t in tracker.tracks] == [2]


def test_zones_are_read_and_checked() -> None:
    zones = named_zones([{"name": "porch", "polygon": [list(p) for p in PORCH]}])
    assert zones == {"porch": PORCH}
    assert inside((0.25, 0.75), zones["porch"])
    assert not inside((0.75, 0.75), zones["porch"])
    for bad in (
        {"porch": 1},
        [{"name": "x"}],
        [{"name": "x", "polygon": [[0, 0], [2, 0], [0, 1]]}],
    ):
        with pytest.raises(InvalidInput):
            named_zones(bad)


class _Seen:
    """A stand-in detector: returns what it is told, and records the regions it got."""

    def __init__(self, found: list[list[Detection]]) -> None:
        self.found = found
        self.regions: list[Sequence[Sequence[float]] | None] = []

    def detect(
        self, bgr: npt.NDArray[np.uint8], regions: Sequence[Sequence[float]] | None = None
    ) -> list[Detection]:
        assert bgr.ndim == 3
        self.regions.append(regions)
        return self.found.pop(0) if self.found else []


def test_the_watcher_looks_at_its_cadence_and_tells_of_new_labels_and_new_alerts() -> None:
    image = np.zeros((500, 1000, 3), np.uint8)
    rules = {
        "person": {"mode": "alert", "zones": [], "dwell_seconds": 1},
        "animal": {"mode": "off"},
    }
    fake = _Seen([[_person(100), _person(500, label="animal")], [_person(102)], [_person(104)], []])
    watcher = EventWatcher(
        fake,
        cadence=0.5,
        keep=lambda labels: [label for label in labels if label != "animal"],
        alerts=lambda seen: object_alerts(seen, rules, ignore_stationary=True),
        regions=lambda: [(0.0, 0.0, 10.0, 10.0)],
    )
    news = [watcher.look(image, t) for t in (0.0, 0.2, 0.6, 1.2, 1.8)]
    # 0.0: a person (new label); 0.2: too soon; 0.6: nothing new; 1.2: in view 1.2 s, meets
    # the rule; 1.8: nothing seen, nothing new. The animal's label is off: never kept.
    assert news == [True, False, False, True, False]
    assert watcher.labels == ("person",)
    assert fake.regions[0] == [(0.0, 0.0, 10.0, 10.0)]
    [seen] = watcher.objects()
    assert seen["label"] == "person"
    assert seen["seconds"] == 1.2
    watcher.begin()
    assert watcher.objects() == []
    assert len(watcher.labels) == 0
