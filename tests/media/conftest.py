"""Video fixtures generated with PyAV once per test session."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt
import pytest

WIDTH, HEIGHT, FPS = 320, 240, 10
SQUARE = 40


@dataclass(frozen=True)
class Mover:
    """A bright square that moves across frames ``first``..``last`` (inclusive) along a row."""

    first: int
    last: int
    x0: int
    y: int
    step: int = 5

    def position(self, index: int) -> tuple[int, int] | None:
        if not self.first <= index <= self.last:
            return None
        return self.x0 + (index - self.first) * self.step, self.y


@dataclass(frozen=True)
class Footage:
    """A generated video file and what moves in it."""

    path: Path
    frames: int
    movers: tuple[Mover, ...]


def background() -> npt.NDArray[np.uint8]:
    """A static, textured scene (smoothed noise) so the encoder has detail to keep."""
    rng = np.random.default_rng(7)
    noise = rng.integers(40, 160, size=(HEIGHT // 8, WIDTH // 8, 3), dtype=np.uint8)
    return cv2.resize(noise, (WIDTH, HEIGHT), interpolation=cv2.INTER_CUBIC).astype(np.uint8)


def write_footage(
    path: Path,
    *,
    frames: int,
    movers: tuple[Mover, ...],
    audio: bool = False,
    faststart: bool = False,
) -> Footage:
    """Encode the scene with its movers as H.264 MP4, with a 440 Hz tone when ``audio``."""
    scene = background()
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), mode="w", format="mp4", options=options) as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.options = {"preset": "ultrafast", "crf": "20"}
        sound = container.add_stream("aac", rate=16000) if audio else None
        samples_per_frame = 16000 // FPS
        for index in range(frames):
            image = scene.copy()
            for mover in movers:
                spot = mover.position(index)
                if spot is not None:
                    x, y = spot
                    image[y : y + SQUARE, x : x + SQUARE] = 255
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = index
            container.mux(video.encode(frame))
            if sound is not None:
                t = (np.arange(samples_per_frame) + index * samples_per_frame) / 16000
                tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32).reshape(1, -1)
                chunk = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
                chunk.sample_rate = 16000
                chunk.pts = index * samples_per_frame
                chunk.time_base = Fraction(1, 16000)
                container.mux(sound.encode(chunk))
        container.mux(video.encode(None))
        if sound is not None:
            container.mux(sound.encode(None))
    return Footage(path=path, frames=frames, movers=movers)


FootageFactory = Callable[..., Footage]


@pytest.fixture(scope="session")
def footage_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("footage")


@pytest.fixture(scope="session")
def one_mover(footage_dir: Path) -> Footage:
    """120 frames; a square crosses the left half during frames 40..59."""
    return write_footage(
        footage_dir / "one-mover.mp4", frames=120, movers=(Mover(40, 59, 20, 100),)
    )


@pytest.fixture(scope="session")
def two_bursts(footage_dir: Path) -> Footage:
    """Two movements: frames 20..29 and 150..159, far more than a post-roll apart."""
    return write_footage(
        footage_dir / "two-bursts.mp4",
        frames=200,
        movers=(Mover(20, 29, 20, 100), Mover(150, 159, 20, 100)),
    )


@pytest.fixture(scope="session")
def privacy_scene(footage_dir: Path) -> Footage:
    """One square always moving in the top-right corner, one in the bottom-left at 30..49."""
    return write_footage(
        footage_dir / "privacy.mp4",
        frames=100,
        movers=(Mover(0, 99, 200, 10, step=1), Mover(30, 49, 10, 180)),
    )


@pytest.fixture(scope="session")
def with_audio(footage_dir: Path) -> Footage:
    """Like ``one_mover`` but 80 frames long and with a tone audio track."""
    return write_footage(
        footage_dir / "with-audio.mp4", frames=80, movers=(Mover(30, 45, 20, 100),), audio=True
    )


@pytest.fixture(scope="session")
def faststart_footage(footage_dir: Path) -> Footage:
    """Index at the front, so a cut-off copy still opens and decodes up to the cut."""
    return write_footage(
        footage_dir / "faststart.mp4",
        frames=100,
        movers=(Mover(30, 45, 20, 100),),
        faststart=True,
    )
