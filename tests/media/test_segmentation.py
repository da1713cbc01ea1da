from doorstep.media.motion import MotionSettings
from doorstep.media.recorder import EventSegmenter, EventStarted, MotionEvent, segment

FPS = 10.0
SETTINGS = MotionSettings(
    min_score=0.1, min_event_seconds=0.3, pre_roll_seconds=2.0, post_roll_seconds=3.0
)


def scores(length: int, *moving: range) -> list[float]:
    return [0.5 if any(i in burst for burst in moving) else 0.0 for i in range(length)]


def test_event_has_pre_roll_and_post_roll() -> None:
    events = segment(scores(100, range(40, 50)), settings=SETTINGS, fps=FPS)
    assert [(e.start_frame, e.trigger_frame, e.last_motion_frame, e.end_frame) for e in events] == [
        (20, 40, 49, 79)
    ]


def test_motion_within_post_roll_merges_into_one_event() -> None:
    events = segment(scores(120, range(20, 25), range(45, 50)), settings=SETTINGS, fps=FPS)
    assert [(e.start_frame, e.end_frame) for e in events] == [(0, 79)]


def test_motion_after_post_roll_is_a_new_event_not_overlapping() -> None:
    events = segment(scores(120, range(20, 25), range(56, 60)), settings=SETTINGS, fps=FPS)
    assert [(e.start_frame, e.end_frame) for e in events] == [(0, 54), (55, 89)]


def test_motion_shorter_than_minimum_is_ignored() -> None:
    assert segment(scores(60, range(20, 22)), settings=SETTINGS, fps=FPS) == []


def test_event_running_at_the_end_is_closed_at_the_last_frame() -> None:
    events = segment(scores(50, range(40, 50)), settings=SETTINGS, fps=FPS)
    assert [(e.start_frame, e.end_frame) for e in events] == [(20, 49)]


def test_peak_is_the_strongest_motion_frame() -> None:
    values = scores(80, range(10, 20))
    values[15] = 0.9
    (event,) = segment(values, settings=SETTINGS, fps=FPS)
    assert (event.peak_frame, event.peak_score) == (15, 0.9)


def test_segmenter_reports_start_then_end() -> None:
    segmenter = EventSegmenter(SETTINGS, FPS)
    results = [segmenter.push(i, s) for i, s in enumerate(scores(90, range(30, 35)))]
    starts = [r for r in results if isinstance(r, EventStarted)]
    ends = [r for r in results if isinstance(r, MotionEvent)]
    assert starts == [EventStarted(start_frame=10, trigger_frame=30)]
    assert [(e.start_seconds, e.end_seconds) for e in ends] == [(1.0, 6.5)]
