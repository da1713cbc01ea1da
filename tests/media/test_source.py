from pathlib import Path

import pytest

from doorstep.errors import Unavailable, UnsupportedMedia
from doorstep.media.errors import DamagedMedia, NotVideo, SourceUnavailable
from doorstep.media.source import Backoff, Frame, VideoSource, open_source, reconnecting_frames
from tests.media.conftest import HEIGHT, WIDTH, Footage


def test_source_reports_size_rate_and_frames(one_mover: Footage) -> None:
    with open_source(one_mover.path) as source:
        frames = list(source.frames())
        assert (source.width, source.height, source.fps, source.has_audio) == (
            WIDTH,
            HEIGHT,
            10.0,
            False,
        )
    assert [f.index for f in frames] == list(range(one_mover.frames))
    assert frames[10].pts == pytest.approx(1.0)
    assert frames[0].luma.shape == (HEIGHT, WIDTH)
    assert frames[0].image is not None
    assert frames[0].image.shape == (HEIGHT, WIDTH, 3)


def test_grey_only_source_skips_colour(one_mover: Footage) -> None:
    with open_source(one_mover.path, color=False) as source:
        first = next(source.frames())
    assert first.image is None


def test_looping_file_keeps_going(one_mover: Footage) -> None:
    with open_source(one_mover.path, loop=True, color=False) as source:
        frames = [f for _, f in zip(range(one_mover.frames + 5), source.frames(), strict=False)]
    assert frames[-1].index == one_mover.frames + 4
    assert frames[-1].pts > frames[one_mover.frames - 1].pts


def test_audio_frames_come_with_video_when_asked(with_audio: Footage) -> None:
    with open_source(with_audio.path, audio=True) as source:
        samples = sum(chunk.samples for frame in source.frames() for chunk in frame.audio)
        assert source.has_audio
    assert samples > 16000 * 5


def test_truncated_file_yields_what_it_can_then_names_file_and_count(
    faststart_footage: Footage, tmp_path: Path
) -> None:
    data = faststart_footage.path.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 3 // 4])
    decoded: list[Frame] = []
    with pytest.raises(DamagedMedia) as caught, open_source(cut, color=False) as source:
        decoded.extend(source.frames())
    assert caught.value.frames_decoded == len(decoded)
    assert len(decoded) > 0
    assert "cut.mp4" in str(caught.value)
    assert f"after {len(decoded)} decoded frames" in str(caught.value)
    assert isinstance(caught.value, UnsupportedMedia)


def test_non_video_file_is_refused_by_name(tmp_path: Path) -> None:
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video at all\n" * 50)
    with pytest.raises(NotVideo, match="notes.mp4"):
        open_source(notes)


def test_missing_file_is_unavailable_by_name(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match="no such file") as caught:
        open_source(tmp_path / "gone.mp4")
    assert "gone.mp4" in str(caught.value)
    assert isinstance(caught.value, Unavailable)


def test_backoff_doubles_up_to_a_minute() -> None:
    delays = Backoff().delays()
    assert [next(delays) for _ in range(9)] == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_reconnect_waits_longer_each_time_then_streams(one_mover: Footage) -> None:
    attempts: list[int] = []
    slept: list[float] = []

    def flaky_camera() -> VideoSource:
        attempts.append(1)
        if len(attempts) <= 4:
            raise SourceUnavailable("rtsp://door.example/stream", "connection refused")
        return open_source(one_mover.path, color=False)

    frames = reconnecting_frames(flaky_camera, sleep=slept.append, clock=lambda: 0.0)
    first = [f for _, f in zip(range(3), frames, strict=False)]
    assert slept == [1, 2, 4, 8]
    assert [f.index for f in first] == [0, 1, 2]


def test_reconnect_after_stream_ends_keeps_counting_frames(one_mover: Footage) -> None:
    slept: list[float] = []
    frames = reconnecting_frames(
        lambda: open_source(one_mover.path, color=False), sleep=slept.append, clock=lambda: 0.0
    )
    taken = [f for _, f in zip(range(one_mover.frames + 2), frames, strict=False)]
    assert slept == [1]
    assert taken[-1].index == one_mover.frames + 1
