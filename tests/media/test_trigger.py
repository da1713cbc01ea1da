"""A trigger (a doorbell press) records like motion would: pre-roll, a label, post-roll."""

from pathlib import Path

import numpy as np

from doorstep.media.motion import MotionSettings
from doorstep.media.recorder import Clip, EventRecorder, EventSegmenter, EventStarted, MotionEvent
from doorstep.media.source import Frame
from tests.media.test_recorder import decoded_frames

FPS = 10.0
SETTINGS = MotionSettings(
    min_score=0.1, min_event_seconds=0.3, pre_roll_seconds=2.0, post_roll_seconds=3.0
)


def still(index: int, shade: int = 90) -> Frame:
    image = np.full((48, 64, 3), shade, dtype=np.uint8)
    return Frame(index=index, pts=index / FPS, luma=image[:, :, 0].copy(), image=image)


def test_trigger_on_a_still_scene_starts_an_event_with_pre_roll() -> None:
    segmenter = EventSegmenter(SETTINGS, FPS)
    for index in range(50):
        assert segmenter.push(index, 0.0) is None
    started = segmenter.trigger(49, "ring")
    assert started == EventStarted(start_frame=29, trigger_frame=49)
    ends = [segmenter.push(index, 0.0) for index in range(50, 100)]
    (event,) = [e for e in ends if isinstance(e, MotionEvent)]
    assert (event.start_frame, event.trigger_frame, event.end_frame) == (29, 49, 79)
    assert event.labels == ("ring",)


def test_trigger_during_an_event_extends_it_and_adds_the_label() -> None:
    segmenter = EventSegmenter(SETTINGS, FPS)
    results = [segmenter.push(i, 0.5 if 20 <= i < 25 else 0.0) for i in range(40)]
    assert any(isinstance(r, EventStarted) for r in results)
    assert not any(isinstance(r, MotionEvent) for r in results)
    assert segmenter.trigger(39, "ring") is None
    assert segmenter.trigger(40, "ring") is None
    ends = [segmenter.push(i, 0.0) for i in range(40, 120)]
    (event,) = [e for e in ends if isinstance(e, MotionEvent)]
    # Motion alone would have ended at 24 + 30 = 54; the press at 40 keeps it until 70.
    assert (event.start_frame, event.end_frame) == (0, 70)
    assert event.labels == ("ring",)


def test_trigger_after_an_event_never_overlaps_it() -> None:
    segmenter = EventSegmenter(SETTINGS, FPS)
    results = [segmenter.push(i, 0.5 if 10 <= i < 15 else 0.0) for i in range(46)]
    (first,) = [r for r in results if isinstance(r, MotionEvent)]
    assert first.end_frame == 44
    started = segmenter.trigger(45, "ring")
    assert started == EventStarted(start_frame=45, trigger_frame=45)
    assert first.labels == ()


def test_labels_do_not_leak_into_the_next_event() -> None:
    segmenter = EventSegmenter(SETTINGS, FPS)
    segmenter.trigger(0, "ring")
    results = [segmenter.push(i, 0.5 if 100 <= i < 105 else 0.0) for i in range(200)]
    events = [r for r in results if isinstance(r, MotionEvent)]
    assert [e.labels for e in events] == [("ring",), ()]


def recorded(triggers: dict[int, str], *, frames: int, clips: Path | None) -> list[Clip]:
    recorder = EventRecorder(
        rate=FPS,
        width=64,
        height=48,
        settings=SETTINGS,
        clips_dir=clips,
        labeler=lambda _images: ("person",),
    )
    out: list[Clip | None] = []
    for index in range(frames):
        if index in triggers:
            recorder.trigger(triggers[index])
        out.append(recorder.feed(still(index, shade=index), 0.0))
    out.append(recorder.close())
    return [clip for clip in out if clip is not None]


def test_recorder_trigger_writes_the_pre_roll_frames_it_held(tmp_path: Path) -> None:
    # Pressed before frame 50 is fed: the press belongs to frame 49, the last one seen.
    (clip,) = recorded({50: "ring"}, frames=120, clips=tmp_path)
    assert (clip.event.start_frame, clip.event.trigger_frame, clip.event.end_frame) == (29, 49, 79)
    assert clip.event.labels == ("ring",)
    assert clip.video is not None
    assert clip.snapshot is not None
    decoded = decoded_frames(clip.video)
    assert len(decoded) == clip.event.frame_count
    # The frames are the held ones: frame i was painted with shade i.
    assert abs(int(decoded[0].mean()) - 29) <= 2
    assert abs(int(decoded[-1].mean()) - 79) <= 2


def test_recorder_trigger_before_any_frame_starts_at_the_first() -> None:
    (clip,) = recorded({0: "ring"}, frames=60, clips=None)
    assert (clip.event.start_frame, clip.event.end_frame) == (0, 30)
    assert clip.event.labels == ("ring",)


def test_labeler_labels_join_the_trigger_label() -> None:
    recorder = EventRecorder(
        rate=FPS, width=64, height=48, settings=SETTINGS, labeler=lambda _images: ("person",)
    )
    clips = []
    for index in range(80):
        if index == 10:
            recorder.trigger("ring")
        clips.append(recorder.feed(still(index), 0.5 if 12 <= index < 16 else 0.0))
    (clip,) = [c for c in clips if c is not None]
    assert clip.event.labels == ("ring", "person")


def test_pipeline_trigger_records_a_ring_clip(tmp_path: Path) -> None:
    from doorstep.agent._pipeline import Pipeline
    from doorstep.media.motion import MotionDetector

    recorder = EventRecorder(rate=FPS, width=64, height=48, settings=SETTINGS, clips_dir=tmp_path)
    pipeline = Pipeline((64, 48, FPS, None), MotionDetector(64, 48, settings=SETTINGS), recorder)
    clips = []
    for index in range(100):
        if index == 40:
            pipeline.trigger("ring")
        clips.append(pipeline.feed(still(index)))
    clips.append(recorder.close())
    (clip,) = [c for c in clips if c is not None]
    assert clip.event.labels == ("ring",)
    assert (clip.event.start_frame, clip.event.end_frame) == (19, 69)
