"""A cap on clip length: long events become segments written as they complete; news as they run."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from doorstep.media.motion import MotionSettings
from doorstep.media.recorder import Clip, EventNews, EventRecorder, MotionEvent, segment
from tests.media.test_recorder import decoded_frames
from tests.media.test_trigger import FPS, still

SETTINGS = MotionSettings(
    min_score=0.1,
    min_event_seconds=0.3,
    pre_roll_seconds=2.0,
    post_roll_seconds=3.0,
    max_clip_seconds=10.0,
)


def moving(index: int, bursts: tuple[range, ...]) -> float:
    return 0.5 if any(index in burst for burst in bursts) else 0.0


def test_a_long_event_is_cut_into_contiguous_segments() -> None:
    scores = [moving(i, (range(30, 280),)) for i in range(400)]
    pieces = segment(scores, settings=SETTINGS, fps=FPS)
    assert [(e.start_frame, e.end_frame, e.segment, e.final) for e in pieces] == [
        (10, 109, 0, False),
        (110, 209, 1, False),
        (210, 309, 2, True),
    ]
    # The next event starts again at segment 0.
    again = segment(
        [*scores, *[moving(i, (range(0, 10),)) for i in range(60)]], settings=SETTINGS, fps=FPS
    )
    assert [(e.segment, e.final) for e in again][-1] == (0, True)


def test_without_a_cap_an_event_is_one_clip() -> None:
    scores = [moving(i, (range(30, 280),)) for i in range(400)]
    uncapped = replace(SETTINGS, max_clip_seconds=None)
    (whole,) = segment(scores, settings=uncapped, fps=FPS)
    assert (whole.start_frame, whole.end_frame, whole.final) == (10, 309, True)


def feed(recorder: EventRecorder, scores: list[float]) -> list[tuple[int, Clip]]:
    out = []
    for index, score in enumerate(scores):
        clip = recorder.feed(still(index, shade=index % 200), score)
        if clip is not None:
            out.append((index, clip))
    return out


def test_segments_are_written_as_they_complete_and_share_the_event(tmp_path: Path) -> None:
    recorder = EventRecorder(rate=FPS, width=64, height=48, settings=SETTINGS, clips_dir=tmp_path)
    scores = [moving(i, (range(30, 280),)) for i in range(260)]
    done = feed(recorder, scores)
    # The event still runs (the footage "crashed" here, never closed), yet two segments are
    # complete files: a crash loses at most the segment being written.
    assert recorder.segmenter.active
    assert [(at, clip.event.segment) for at, clip in done] == [(109, 0), (209, 1)]
    first, second = (clip for _, clip in done)
    assert first.event_id == second.event_id != ""
    for clip in (first, second):
        assert clip.video is not None
        assert len(decoded_frames(clip.video)) == clip.event.frame_count == 100
    assert second.event.start_frame == first.event.end_frame + 1
    assert second.metadata is not None
    assert f'"event_id": "{first.event_id}"' in second.metadata.read_text()
    tail = recorder.close()
    assert tail is not None
    assert (tail.event.segment, tail.event.final, tail.event_id) == (2, True, first.event_id)


def test_a_new_event_gets_a_new_id() -> None:
    recorder = EventRecorder(rate=FPS, width=64, height=48, settings=SETTINGS)
    done = feed(recorder, [moving(i, (range(10, 20), range(100, 110))) for i in range(200)])
    assert len({clip.event_id for _, clip in done}) == 2


def test_news_of_the_start_comes_before_the_label_and_before_any_clip() -> None:
    news: list[tuple[int, EventNews]] = []
    looked: list[int] = []
    index = 0

    def labeler(images: list[npt.NDArray[np.uint8]]) -> tuple[str, ...]:
        looked.append(len(images))
        return ("person",)

    recorder = EventRecorder(
        rate=FPS,
        width=64,
        height=48,
        settings=SETTINGS,
        labeler=labeler,
        on_news=lambda item: news.append((index, item)),
    )
    clips = []
    for index in range(120):
        clip = recorder.feed(still(index), moving(index, (range(30, 60),)))
        if clip is not None:
            clips.append((index, clip))
    (ended_at, clip) = clips[0]
    started, labelled = (item for _, item in news[:2])
    assert started.started
    assert started.labels == ()
    assert started.image is not None
    assert (started.event_id, started.start_frame) == (clip.event_id, 10)
    assert not labelled.started
    assert labelled.labels == ("person",)
    # Labelled while the motion still went on, long before the clip ended.
    assert news[1][0] < 60 < ended_at
    assert clip.event.labels == ("person",)


def test_a_press_during_an_event_is_news_and_labels_every_later_segment() -> None:
    news: list[EventNews] = []
    recorder = EventRecorder(rate=FPS, width=64, height=48, settings=SETTINGS, on_news=news.append)
    pieces: list[MotionEvent] = []
    for index in range(320):
        if index == 50:
            recorder.trigger("ring")
        clip = recorder.feed(still(index), moving(index, (range(30, 250),)))
        if clip is not None:
            pieces.append(clip.event)
    assert [(n.started, n.labels) for n in news] == [(True, ()), (False, ("ring",))]
    assert [(p.segment, p.labels) for p in pieces] == [
        (0, ("ring",)),
        (1, ("ring",)),
        (2, ("ring",)),
    ]
