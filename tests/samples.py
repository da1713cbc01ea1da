"""Small media files made in the test session: an H.264 MP4 clip and a JPEG snapshot."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest


def tiny_clip(
    path: Path, *, frames: int = 24, width: int = 160, height: int = 96, audio: bool = False
) -> Path:
    """Write a short faststart H.264 MP4 of a square moving across a grey frame."""
    with av.open(str(path), mode="w", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=Fraction(12))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if audio:
            sound = container.add_stream("aac", rate=16000)
            samples = np.zeros((1, 16000 * frames // 12), dtype=np.float32)
            tone = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            tone.sample_rate = 16000
            for packet in sound.encode(tone):
                container.mux(packet)
            for packet in sound.encode():
                container.mux(packet)
        for index in range(frames):
            image = np.full((height, width, 3), 90, dtype=np.uint8)
            x = 4 + index * 4
            image[30:60, x : x + 30] = (40, 200, 240)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def tiny_jpeg() -> bytes:
    """A small JPEG snapshot."""
    image = np.full((96, 160, 3), 120, dtype=np.uint8)
    ok, encoded = cv2.imencode(".jpg", image)
    assert ok
    return encoded.tobytes()


#: Real footage and labelled photos beside the project (``../shared/data``); never shipped.
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def shared_data(path: Path) -> Path:
    """``path`` under the shared data, or skip the test; with ``CI=true`` it must be there."""
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs the shared data at {path}")
        pytest.skip(f"shared data not found at {path}")
    return path
