"""The video source against a real RTSP camera: TCP and UDP, a wrong password, a stall."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest

from doorstep.media.errors import CameraRefusedLogin, DamagedMedia, NotVideo, SourceUnavailable
from doorstep.media.source import Backoff, Frame, open_source, reconnecting_frames
from tests.agent import _rtsp
from tests.agent._rtsp import PASSWORD, RtspCamera, rtsp_camera

__all__ = ["rtsp_camera"]

QUICK = (5.0, 2.0)


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_h264_frames_arrive_over_each_transport(rtsp_camera: RtspCamera, transport: str) -> None:
    with open_source(rtsp_camera.url(), transport=transport, timeout=QUICK) as source:
        assert (source.width, source.height) == (320, 240)
        assert source.fps == pytest.approx(10.0)
        frames = []
        for frame in source.frames():
            frames.append(frame)
            if len(frames) == 15:
                break
    assert [frame.index for frame in frames] == list(range(15))
    assert frames[-1].image is not None
    assert frames[-1].image.shape == (240, 320, 3)


def test_the_right_password_opens_the_locked_camera(rtsp_camera: RtspCamera) -> None:
    with open_source(rtsp_camera.url(password=PASSWORD), timeout=QUICK) as source:
        assert next(iter(source.frames())).luma.shape == (240, 320)


def test_a_wrong_password_says_so_and_never_shows_it(rtsp_camera: RtspCamera) -> None:
    wrong = "Wrong-horse-77"
    with pytest.raises(CameraRefusedLogin) as caught:
        open_source(rtsp_camera.url(password=wrong), timeout=QUICK)
    said = caught.value.detail
    assert "refused the user name or password (401)" in said
    assert f"rtsp://***@127.0.0.1:{rtsp_camera.port}/locked" in said
    assert wrong not in said
    assert wrong not in str(caught.value)
    assert wrong not in repr(caught.value.extra)


def test_a_stalled_stream_is_given_up_within_the_read_timeout(rtsp_camera: RtspCamera) -> None:
    with open_source(rtsp_camera.url(), timeout=QUICK) as source:
        frames = source.frames()
        for _ in range(5):
            next(frames)
        rtsp_camera.send("stall")
        stalled_at = time.monotonic()
        with pytest.raises(SourceUnavailable, match=r"stalled \(nothing arrived for 2 s\)"):
            _drain(frames)
        waited = time.monotonic() - stalled_at
    assert 1.5 <= waited < 10


def _drain(frames: Iterator[Frame]) -> None:
    # Frames already on their way may still come in; then nothing does.
    deadline = time.monotonic() + 10
    for _ in frames:
        assert time.monotonic() < deadline, "the stalled stream was never given up"


def test_reconnects_to_a_restarted_camera_logging_no_password(
    rtsp_camera: RtspCamera, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    slept: list[float] = []
    log = logging.getLogger("test.rtsp")
    frames = reconnecting_frames(
        lambda: open_source(rtsp_camera.url(password=PASSWORD), timeout=QUICK),
        backoff=Backoff(first=0.2, cap=1.0, jitter=0.5),
        sleep=slept.append,
        on_retry=lambda err, delay: log.warning("%s; again in %.1f s", err.detail, delay),
    )
    for _ in range(5):
        next(frames)
    rtsp_camera.restart()
    index = next(frames).index
    while not slept:
        index = next(frames).index
    assert index >= 5
    assert 0.1 <= slept[0] <= 0.2
    assert "the stream" in caplog.text
    assert PASSWORD not in caplog.text


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_a_camera_that_answers_but_sends_nothing_is_unavailable_not_unreadable(
    rtsp_camera: RtspCamera, transport: str
) -> None:
    rtsp_camera.send("stall")
    with pytest.raises(SourceUnavailable) as caught:
        open_source(rtsp_camera.url(), transport=transport, timeout=(3.0, 2.0))
    assert type(caught.value) is SourceUnavailable
    assert "not a video" not in caught.value.detail


def test_unreadable_and_damaged_video_errors_hide_the_cameras_password() -> None:
    url = "rtsp://porch:tulip-Kettle-42@192.0.2.7/door"
    for error in (
        NotVideo(url, f"Invalid data found when processing input: '{url}'"),
        DamagedMedia(url, 12, f"Broken pipe: '{url}'"),
    ):
        assert "tulip-Kettle-42" not in str(error)
        assert "rtsp://***@192.0.2.7/door" in error.detail


def test_without_gstreamer_ci_fails_naming_the_packages_and_a_desk_skips(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_rtsp, "SYSTEM_PYTHON", "/nonexistent/python3")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="apt-get install python3-gi"):
        _rtsp.check_gstreamer()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="gir1.2-gst-rtsp-server-1.0"):
        _rtsp.check_gstreamer()
