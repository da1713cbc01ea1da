"""A real Doorstep agent whose camera is a 720p picture stamped with the wall-clock time.

Run by ``bench/doorbell.py`` as ``python bench/_stamped_agent.py --state-dir D [agent options]``.
Everything is the product's own agent (capture loop, motion, recording, upload, live view,
WebRTC) except where the frames come from: instead of a file or a camera, a still street
picture with a moving block when asked for motion, and along its top edge a barcode of the
millisecond the frame was made. A page that reads the barcode back from the video it shows
knows the glass-to-glass latency of that frame.

Reads lines from stdin: ``motion on`` / ``motion off``; prints ``motion-start <epoch ms>`` when
the first moving frame is made.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from _stamp import BAR_HEIGHT, stamp

WIDTH, HEIGHT, FPS = 1280, 720, 30


class StampedSource:
    """Just enough of ``VideoSource`` for the agent: frames made live, paced at ``FPS``."""

    spec = "stamped:720p"
    loop = False
    color = True
    has_audio = False
    audio_rate = None
    audio_layout = None
    frame_count = 0
    privacy = None

    def __init__(self, background: np.ndarray[Any, Any], motion: threading.Event) -> None:
        self.width, self.height = WIDTH, HEIGHT
        self.rate = Fraction(FPS)
        self.fps = float(FPS)
        self._background = background
        self._motion = motion
        self._closed = False

    def __enter__(self) -> StampedSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._closed = True

    def frames(self) -> Iterator[Any]:
        from doorstep.media.source import Frame

        start = time.monotonic()
        index = 0
        moving_since: float | None = None
        while not self._closed:
            due = start + index / FPS
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            image = self._background.copy()
            if self._motion.is_set():
                if moving_since is None:
                    moving_since = time.monotonic()
                    print(f"motion-start {int(time.time() * 1000)}", flush=True)
                x = int((time.monotonic() - moving_since) * 400) % (WIDTH - 200)
                cv2.rectangle(image, (x, 250), (x + 200, 650), (40, 40, 200), -1)
            else:
                moving_since = None
            stamp(image, int(time.time() * 1000))
            luma = np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
            yield Frame(index=index, pts=index / FPS, luma=luma, image=image)
            index += 1


def background() -> np.ndarray[Any, Any]:
    """A plain porch: a wall, a door and a path, made here so the bench needs no file."""
    image = np.full((HEIGHT, WIDTH, 3), (150, 170, 180), np.uint8)
    cv2.rectangle(image, (540, 120), (740, 600), (60, 80, 120), -1)
    cv2.rectangle(image, (0, 600), (WIDTH, HEIGHT), (110, 120, 120), -1)
    image[BAR_HEIGHT : BAR_HEIGHT + 4] = 0
    return image


def main() -> int:
    motion = threading.Event()

    def read_commands() -> None:
        for line in sys.stdin:
            if line.strip() == "motion on":
                motion.set()
            elif line.strip() == "motion off":
                motion.clear()

    threading.Thread(target=read_commands, daemon=True).start()
    picture = background()

    def open_stamped(_spec: str | Path, **_options: Any) -> StampedSource:
        return StampedSource(picture, motion)

    # The agent modules look the opener up by name: point every one that has it at ours.
    import doorstep.agent.cli as agent_cli

    for name, module in list(sys.modules.items()):
        if name.startswith("doorstep.agent") and hasattr(module, "open_source"):
            module.open_source = open_stamped  # type: ignore[attr-defined]
    return int(agent_cli.main_agent(["--source", "stamped:720p", "--no-realtime", *sys.argv[1:]]))


if __name__ == "__main__":
    sys.exit(main())
