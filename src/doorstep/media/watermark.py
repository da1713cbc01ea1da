"""Burn a visible watermark into every frame of footage handed to an agency."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from doorstep.media._clipfile import ClipWriter
from doorstep.media.source import open_source

Image = npt.NDArray[np.uint8]

_FONT = cv2.FONT_HERSHEY_SIMPLEX


def _fit_scale(lines: Sequence[str], width: int) -> float:
    """The largest font scale (up to 0.6) at which the longest line fits the frame's width."""
    longest = max((len(line) for line in lines), default=1)
    (text_width, _), _ = cv2.getTextSize("M" * max(longest, 1), _FONT, 1.0, 1)
    return float(min(0.6, max(0.2, (width - 8) / max(text_width, 1) * 1.6)))


def stamp(image: Image, lines: Sequence[str]) -> Image:
    """Draw ``lines`` in white on a dark band across the bottom of a BGR frame, in place."""
    height, width = image.shape[:2]
    scale = _fit_scale(lines, width)
    (_, text_height), baseline = cv2.getTextSize("Ag", _FONT, scale, 1)
    line_height = text_height + baseline + 2
    band = min(height, line_height * len(lines) + 4)
    region = image[height - band :, :]
    # Darken rather than black out: the picture under the band stays visible as context.
    region[:] = (region.astype(np.uint16) * 2 // 5).astype(np.uint8)
    for index, line in enumerate(lines):
        y = height - band + 2 + text_height + index * line_height
        cv2.putText(image, line, (4, y), _FONT, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return image


def watermark_file(src: str | Path, dst: str | Path, lines: Sequence[str]) -> int:
    """Write ``src`` to ``dst`` as H.264 MP4 with ``lines`` burned into every frame."""
    with open_source(src) as source:
        writer = ClipWriter(Path(dst), rate=source.rate, width=source.width, height=source.height)
        try:
            for frame in source.frames():
                assert frame.image is not None
                writer.write(stamp(frame.image, lines))
        finally:
            writer.close()
        return writer.frames_written
