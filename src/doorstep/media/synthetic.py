"""A rendered doorstep scene for the demo: a door, a porch light, and a visitor walking up.

Made with NumPy and OpenCV drawing and encoded with PyAV, so the demo needs no footage from
anywhere; the same scene is used by tests that need a realistic but private clip.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]


def _background(width: int, height: int, seed: int) -> Image:
    rng = np.random.default_rng(seed)
    image = np.zeros((height, width, 3), dtype=np.uint8)
    wall = (int(rng.integers(150, 190)), int(rng.integers(160, 200)), int(rng.integers(170, 215)))
    image[:] = wall
    # Siding lines so the picture has texture, as a real wall does.
    for y in range(0, int(height * 0.72), max(6, height // 40)):
        cv2.line(image, (0, y), (width, y), tuple(int(c * 0.92) for c in wall), 1)
    ground = int(height * 0.72)
    image[ground:] = (92, 120, 104)
    noise = rng.integers(0, 18, size=(height - ground, width, 1), dtype=np.uint8)
    image[ground:] = np.clip(image[ground:].astype(np.int16) + noise - 9, 0, 255).astype(np.uint8)
    door_w, door_h = width // 6, int(height * 0.5)
    door_x, door_y = width // 2 - door_w // 2, ground - door_h
    cv2.rectangle(
        image, (door_x - 6, door_y - 6), (door_x + door_w + 6, ground), (235, 235, 235), -1
    )
    cv2.rectangle(image, (door_x, door_y), (door_x + door_w, ground), (40, 55, 120), -1)
    cv2.circle(image, (door_x + door_w - 12, door_y + door_h // 2), 4, (60, 180, 220), -1)
    cv2.rectangle(
        image,
        (door_x + door_w + 20, door_y + 10),
        (door_x + door_w + 34, door_y + 30),
        (80, 220, 250),
        -1,
    )
    path = np.array(
        [
            [door_x, ground],
            [door_x + door_w, ground],
            [int(width * 0.75), height],
            [int(width * 0.25), height],
        ]
    )
    cv2.fillPoly(image, [path], (150, 160, 170))
    cv2.rectangle(image, (10, ground - 70), (70, ground), (70, 110, 60), -1)
    return image


def _visitor(image: Image, x: int, feet_y: int, scale: float, step: int) -> None:
    body_h = int(120 * scale)
    body_w = int(42 * scale)
    head_r = int(16 * scale)
    top = feet_y - body_h
    leg = int(10 * scale * (1 if step % 2 else -1))
    cv2.line(
        image,
        (x - body_w // 4, top + int(body_h * 0.62)),
        (x - body_w // 4 + leg, feet_y),
        (50, 40, 40),
        max(2, int(7 * scale)),
    )
    cv2.line(
        image,
        (x + body_w // 4, top + int(body_h * 0.62)),
        (x + body_w // 4 - leg, feet_y),
        (50, 40, 40),
        max(2, int(7 * scale)),
    )
    cv2.rectangle(
        image,
        (x - body_w // 2, top + 2 * head_r),
        (x + body_w // 2, top + int(body_h * 0.65)),
        (40, 90, 170),
        -1,
    )
    cv2.circle(image, (x, top + head_r), head_r, (140, 170, 210), -1)
    cv2.rectangle(
        image,
        (x + body_w // 2, top + int(body_h * 0.4)),
        (x + body_w // 2 + int(18 * scale), top + int(body_h * 0.55)),
        (60, 120, 170),
        -1,
    )


def _visitor_place(
    index: int, frames: int, width: int, height: int
) -> tuple[int, int, float] | None:
    """Where the visitor stands on frame ``index``: x, feet and scale, or None when away."""
    t = index / frames
    # Quiet for the first third, a visit in the middle, quiet again at the end.
    if not 0.3 <= t <= 0.75:
        return None
    ground = int(height * 0.72)
    phase = (t - 0.3) / 0.45
    approach = min(phase * 2.2, 1.0) if phase < 0.6 else max(0.0, 1 - (phase - 0.6) * 2.5)
    feet = int(height - 4 - approach * (height - 4 - ground))
    scale = 0.9 + 0.6 * (1 - approach)
    return int(width * (0.5 + 0.1 * (1 - approach))), feet, scale


def visitor_box(
    index: int, frames: int, width: int = 640, height: int = 360
) -> tuple[float, float, float, float] | None:
    """The visitor's box on frame ``index`` of a rendered visit, as fractions of the frame.

    The demo stores it as what its cameras saw, since the figure is drawn, not detected.
    """
    place = _visitor_place(index, frames, width, height)
    if place is None:
        return None
    x, feet, scale = place
    half = int(42 * scale) // 2 + int(18 * scale)
    top = feet - int(120 * scale)
    return (
        round(max(0, x - half) / width, 4),
        round(max(0, top) / height, 4),
        round(min(width, x + half) / width, 4),
        round(min(height, feet + int(5 * scale)) / height, 4),
    )


def render_visit(
    path: Path,
    *,
    width: int = 640,
    height: int = 360,
    fps: int = 10,
    seconds: float = 24.0,
    seed: int = 1,
) -> Path:
    """Write an MP4 of a quiet doorstep, a visitor walking up to the door, and leaving."""
    background = _background(width, height, seed)
    frames = int(seconds * fps)
    with av.open(str(path), mode="w", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "28", "preset": "veryfast"}
        for index in range(frames):
            image = background.copy()
            place = _visitor_place(index, frames, width, height)
            if place is not None:
                x, feet, scale = place
                _visitor(image, x, feet, scale, index // 2)
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
