"""Open a video source (file, RTSP/HTTP stream, webcam) and yield its frames."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import av
import av.container
import numpy as np
import numpy.typing as npt

from doorstep.errors import DoorstepError
from doorstep.media.errors import (
    CameraRefusedLogin,
    DamagedMedia,
    NotVideo,
    SourceUnavailable,
)
from doorstep.media.zones import Zone, blackout, privacy_mask

NETWORK_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://")
_LUMA_FIRST_FORMATS = ("yuv", "yuvj", "nv12", "nv21", "gray")
# Seconds to wait for a network camera to answer, and for each read once it has: a camera that
# stops sending (a stalled stream) is given up on after the second, and reconnected.
NETWORK_TIMEOUT = (10.0, 10.0)
RTSP_TRANSPORTS = ("tcp", "udp")
_RTSP_PROBE_MICROSECONDS = "1000000"


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded video frame, privacy zones already blacked out."""

    index: int
    pts: float
    luma: npt.NDArray[np.uint8]
    """Grayscale (Y plane) image; a zero-copy view of the decoder's frame unless blacked out."""
    image: npt.NDArray[np.uint8] | None = None
    """BGR image, present when the source was opened with ``color=True``."""
    audio: tuple[av.AudioFrame, ...] = field(default=())
    """Audio decoded since the previous video frame, when the source was opened with audio."""


def is_network(spec: str) -> bool:
    """Tell whether ``spec`` names a network stream."""
    return spec.lower().startswith(NETWORK_SCHEMES)


def is_webcam(spec: str) -> bool:
    """Tell whether ``spec`` names a local V4L2 camera."""
    return spec.startswith("/dev/video")


class VideoSource:
    """An open video source; iterate ``frames()`` and close it (or use it as a context manager)."""

    def __init__(
        self,
        spec: str,
        *,
        loop: bool = False,
        color: bool = True,
        audio: bool = False,
        privacy_zones: Sequence[Zone] = (),
        transport: str = "tcp",
        timeout: tuple[float, float] = NETWORK_TIMEOUT,
    ) -> None:
        self.spec = spec
        self.loop = loop and not is_network(spec) and not is_webcam(spec)
        self.color = color
        self._timeout = timeout
        self._container = _open_container(spec, transport, timeout)
        try:
            self._video = self._container.streams.video[0]
        except IndexError:
            self._container.close()
            raise NotVideo(spec, "it has no video stream") from None
        self._video.thread_type = "AUTO"
        audio_streams = self._container.streams.audio
        self.has_audio = bool(audio_streams)
        self._audio = audio_streams[0] if audio and audio_streams else None
        ctx = self._video.codec_context
        self.width: int = ctx.width
        self.height: int = ctx.height
        if self.width <= 0 or self.height <= 0:
            self._container.close()
            raise NotVideo(spec, "its video stream has no frame size")
        rate = self._video.average_rate or self._video.guessed_rate or Fraction(25)
        self.rate: Fraction = Fraction(rate)
        self.fps: float = float(self.rate)
        self.frame_count: int = int(self._video.frames or 0)
        self.privacy = privacy_mask(privacy_zones, self.width, self.height)

    @property
    def audio_rate(self) -> int | None:
        """Sample rate of the audio being decoded, or ``None`` without audio."""
        return None if self._audio is None else int(self._audio.codec_context.sample_rate)

    @property
    def audio_layout(self) -> str | None:
        """Channel layout name of the audio being decoded, or ``None`` without audio."""
        return None if self._audio is None else str(self._audio.codec_context.layout.name)

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the decoder and the file or connection."""
        self._container.close()

    def frames(self) -> Iterator[Frame]:
        """Yield frames in order; raise ``DamagedMedia`` (or ``SourceUnavailable``) on a break."""
        index = 0
        offset = 0.0
        while True:
            last_pts = offset
            for frame, pts, audio in self._decode_once(index):
                last_pts = offset + pts
                yield self._make_frame(frame, index, last_pts, audio)
                index += 1
            if self.frame_count and index < self.frame_count and not self.loop:
                raise DamagedMedia(
                    self.spec, index, f"it declares {self.frame_count} frames; the rest is missing"
                )
            if not self.loop or index == 0:
                return
            offset = last_pts + 1.0 / self.fps
            self._container.seek(0)

    def _decode_once(
        self, decoded_before: int
    ) -> Iterator[tuple[av.VideoFrame, float, tuple[Any, ...]]]:
        streams = [self._video] if self._audio is None else [self._video, self._audio]
        pending_audio: list[av.AudioFrame] = []
        decoded = 0
        try:
            for packet in self._container.demux(streams):
                for decoded_frame in packet.decode():
                    if isinstance(decoded_frame, av.AudioFrame):
                        pending_audio.append(decoded_frame)
                        continue
                    if not isinstance(decoded_frame, av.VideoFrame):
                        continue
                    pts = float(decoded_frame.time) if decoded_frame.time is not None else 0.0
                    yield decoded_frame, pts, tuple(pending_audio)
                    pending_audio = []
                    decoded += 1
        except av.error.ExitError as err:
            # PyAV's read timeout: the connection is open but nothing has come for a while.
            reason = f"the stream stalled (nothing arrived for {self._timeout[1]:g} s)"
            raise SourceUnavailable(self.spec, reason) from err
        except av.error.FFmpegError as err:
            if is_network(self.spec) or is_webcam(self.spec):
                raise SourceUnavailable(self.spec, f"the stream broke: {_said(err)}") from err
            raise DamagedMedia(self.spec, decoded_before + decoded, _said(err)) from err

    def _make_frame(
        self, frame: av.VideoFrame, index: int, pts: float, audio: tuple[Any, ...]
    ) -> Frame:
        luma = luma_view(frame)
        image = _bgr(frame) if self.color else None
        if self.privacy is not None:
            # The decoder may still reference this buffer, so black out a copy of it.
            luma = blackout(luma.copy(), self.privacy)
            if image is not None:
                blackout(image, self.privacy)
        return Frame(index=index, pts=pts, luma=luma, image=image, audio=audio)


def luma_view(frame: av.VideoFrame) -> npt.NDArray[np.uint8]:
    """Return the frame's luma as a numpy view of its Y plane, converting only if it has none."""
    if frame.format.name.startswith(_LUMA_FIRST_FORMATS):
        plane = frame.planes[0]
        rows = np.frombuffer(memoryview(plane), dtype=np.uint8).reshape(-1, plane.line_size)
        # Decoders pad each line (and sometimes add rows) for alignment.
        return rows[: frame.height, : frame.width]
    gray = frame.to_ndarray(format="gray")
    return gray.astype(np.uint8, copy=False)


def _bgr(frame: av.VideoFrame) -> npt.NDArray[np.uint8]:
    image = frame.to_ndarray(format="bgr24")
    return image.astype(np.uint8, copy=False)


def open_source(
    spec: str | Path,
    *,
    loop: bool = False,
    color: bool = True,
    audio: bool = False,
    privacy_zones: Sequence[Zone] = (),
    transport: str = "tcp",
    timeout: tuple[float, float] = NETWORK_TIMEOUT,
) -> VideoSource:
    """Open a file path, ``rtsp(s)://`` or ``http(s)://`` URL, or ``/dev/videoN`` camera.

    ``transport`` carries an RTSP camera's video over ``tcp`` (interleaved, through any NAT) or
    ``udp``; ``timeout`` is (seconds to connect, seconds a read may wait) for a network camera.
    """
    return VideoSource(
        str(spec),
        loop=loop,
        color=color,
        audio=audio,
        privacy_zones=privacy_zones,
        transport=transport,
        timeout=timeout,
    )


def _open_container(
    spec: str, transport: str, timeout: tuple[float, float]
) -> av.container.InputContainer:
    if transport not in RTSP_TRANSPORTS:
        raise SourceUnavailable(spec, f"the RTSP transport must be tcp or udp, not {transport!r}")
    options: dict[str, str] = {}
    try:
        if is_network(spec):
            if spec.lower().startswith(("rtsp://", "rtsps://")):
                options["rtsp_transport"] = transport
                # A live camera repeats its parameters every key frame: a second of probing
                # finds them (FFmpeg's default of 5 s made each reconnect take 3 s).
                options["analyzeduration"] = _RTSP_PROBE_MICROSECONDS
            return av.open(spec, mode="r", options=options, timeout=timeout)
        if is_webcam(spec):
            return av.open(spec, mode="r", format="v4l2")
        path = Path(spec)
        if not path.exists():
            raise SourceUnavailable(spec, "no such file")
        if not path.is_file():
            raise SourceUnavailable(spec, "not a regular file")
        return av.open(spec, mode="r")
    except av.error.HTTPUnauthorizedError as err:
        raise CameraRefusedLogin(spec) from err
    except av.error.ExitError as err:
        raise SourceUnavailable(spec, f"the camera did not answer within {timeout[0]:g} s") from err
    except (av.error.InvalidDataError, av.error.DemuxerNotFoundError) as err:
        if is_network(spec):
            # A camera that answers but sends no frames to probe: down for now, not "no video".
            raise SourceUnavailable(spec, f"no video arrived ({_said(err)})") from err
        raise NotVideo(spec, _said(err)) from err
    except (av.error.FFmpegError, OSError) as err:
        raise SourceUnavailable(spec, _said(err)) from err


def _said(err: Exception) -> str:
    """What went wrong, in words: FFmpeg's and the OS's message without errno and path."""
    strerror = getattr(err, "strerror", None)
    return strerror if isinstance(strerror, str) and strerror else str(err)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Growing delays between reconnects: first, first×factor, … capped at ``cap`` seconds.

    With ``jitter`` (0 to 1) each delay is shortened by a random part of up to that fraction,
    so cameras (or agents) that failed together do not all come back in the same second.
    """

    first: float = 1.0
    factor: float = 2.0
    cap: float = 60.0
    jitter: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError(f"jitter must be between 0 and 1, not {self.jitter}")

    def delays(self, draw: Callable[[], float] = random.random) -> Iterator[float]:
        """Yield the delay before each successive retry, forever; ``draw`` gives [0, 1)."""
        delay = self.first
        while True:
            step = min(delay, self.cap)
            yield step * (1.0 - self.jitter * draw()) if self.jitter else step
            delay = min(delay * self.factor, self.cap)


def reconnecting_frames(
    open_fn: Callable[[], VideoSource],
    *,
    backoff: Backoff = Backoff(),
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    healthy_after: float = 30.0,
    should_stop: Callable[[], bool] = lambda: False,
    on_retry: Callable[[DoorstepError, float], None] | None = None,
    draw: Callable[[], float] = random.random,
) -> Iterator[Frame]:
    """Yield frames from a live source forever, reopening it with growing delays when it fails.

    Frame indices keep counting across reconnects. A connection that stayed up for
    ``healthy_after`` seconds resets the delay to ``backoff.first``. ``on_retry`` hears each
    failure and the delay before the next try, before the wait.
    """
    delays = backoff.delays(draw)
    next_index = 0
    while not should_stop():
        connected_at: float | None = None
        try:
            with open_fn() as source:
                connected_at = clock()
                for frame in source.frames():
                    yield replace(frame, index=next_index)
                    next_index += 1
                    if should_stop():
                        return
            error: DoorstepError = SourceUnavailable(source.spec, "the stream ended")
        except (SourceUnavailable, DamagedMedia, NotVideo) as err:
            error = err
        if connected_at is not None and clock() - connected_at >= healthy_after:
            delays = backoff.delays(draw)
        delay = next(delays)
        if on_retry is not None:
            on_retry(error, delay)
        if should_stop():
            return
        sleep(delay)
