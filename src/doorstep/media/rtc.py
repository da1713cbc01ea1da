"""Live media for WebRTC: the capture loop's frames as a video track, the doorbell's microphone.

The video track sends the LATEST frame the capture loop handed over (privacy zones already
black): a slow peer gets fewer frames, never older ones, and nothing queues. Timestamps come
from the monotonic clock at capture, so the receiver's playout follows real time.
"""

from __future__ import annotations

import asyncio
import fractions
import threading
import time

import av
import numpy as np
import numpy.typing as npt
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

VIDEO_CLOCK = 90_000
AUDIO_RATE = 48_000
AUDIO_PTIME = 0.02
_POLL = 0.005


class FrameSlot:
    """Holds the newest BGR frame from the capture thread for any number of live tracks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._image: npt.NDArray[np.uint8] | None = None
        self._at = 0.0
        self._seq = 0

    def put(self, image: npt.NDArray[np.uint8], at: float | None = None) -> None:
        """Offer a frame (taken at monotonic time ``at``); an unsent older one is dropped."""
        with self._lock:
            self._image = image
            self._at = time.monotonic() if at is None else at
            self._seq += 1

    def latest(self) -> tuple[int, npt.NDArray[np.uint8] | None, float]:
        """The newest frame's sequence number, image and capture time."""
        with self._lock:
            return self._seq, self._image, self._at


def video_frame(image: npt.NDArray[np.uint8], pts: int) -> av.VideoFrame:
    """A BGR image as a video frame on the 90 kHz RTP clock."""
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
    frame.pts = pts
    frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
    return frame


class CaptureVideoTrack(MediaStreamTrack):
    """A video track that sends each new frame of a ``FrameSlot`` once, newest first."""

    kind = "video"

    def __init__(self, slot: FrameSlot) -> None:
        super().__init__()
        self.slot = slot
        self._sent = 0
        self._start: float | None = None
        self.frames_sent = 0

    async def recv(self) -> av.VideoFrame:
        """The next new frame; waits for the capture loop when it has none."""
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            seq, image, at = self.slot.latest()
            if image is not None and seq != self._sent:
                break
            await asyncio.sleep(_POLL)
        self._sent = seq
        if self._start is None:
            self._start = at
        self.frames_sent += 1
        return video_frame(image, int(max(0.0, at - self._start) * VIDEO_CLOCK))


def tone(hz: float, samples: int, offset: int, rate: int = AUDIO_RATE) -> npt.NDArray[np.int16]:
    """``samples`` of a sine at ``hz`` starting at sample ``offset``, at a third of full scale."""
    t = (np.arange(samples) + offset) / rate
    return (np.sin(2 * np.pi * hz * t) * 10_000).astype(np.int16)


def audio_frame(samples: npt.NDArray[np.int16], pts: int, rate: int = AUDIO_RATE) -> av.AudioFrame:
    """Mono 16-bit samples as an audio frame."""
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = rate
    frame.pts = pts
    frame.time_base = fractions.Fraction(1, rate)
    return frame


class PacedAudioTrack(MediaStreamTrack):
    """An audio track paced in real time, 20 ms a frame; subclasses say what the samples are."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._start: float | None = None
        self._sent = 0

    def samples(self, count: int, offset: int) -> npt.NDArray[np.int16]:
        """The next ``count`` samples, ``offset`` samples into the track (silence here)."""
        del offset
        return np.zeros(count, dtype=np.int16)

    async def recv(self) -> av.AudioFrame:
        """The next 20 ms, no earlier than real time."""
        if self.readyState != "live":
            raise MediaStreamError
        count = int(AUDIO_RATE * AUDIO_PTIME)
        if self._start is None:
            self._start = time.monotonic()
        else:
            wait = self._start + self._sent / AUDIO_RATE - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        frame = audio_frame(self.samples(count, self._sent), self._sent)
        self._sent += count
        return frame


class ToneTrack(PacedAudioTrack):
    """A test microphone: a steady sine (bench setups and tests of the visitor's audio)."""

    def __init__(self, hz: float) -> None:
        super().__init__()
        self.hz = hz

    def samples(self, count: int, offset: int) -> npt.NDArray[np.int16]:
        """The sine's next samples."""
        return tone(self.hz, count, offset)


class AlsaMicrophone(MediaStreamTrack):
    """The doorbell's microphone, an ALSA capture device read through PyAV."""

    kind = "audio"

    def __init__(self, device: str) -> None:
        super().__init__()
        self.container = av.open(device, format="alsa", mode="r")
        self._frames = self.container.decode(audio=0)

    async def recv(self) -> av.AudioFrame:
        """The device's next frame, read off the event loop."""
        if self.readyState != "live":
            raise MediaStreamError
        frame = await asyncio.get_running_loop().run_in_executor(None, next, self._frames)
        if not isinstance(frame, av.AudioFrame):
            raise MediaStreamError
        return frame

    def stop(self) -> None:
        """Stop the track and release the device."""
        super().stop()
        self.container.close()
