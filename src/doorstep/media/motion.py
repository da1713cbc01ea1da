"""Fast motion detection on the luma plane against a running-average background."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from doorstep.errors import InvalidInput
from doorstep.media.zones import Zone, motion_mask, zone_mask


@dataclass(frozen=True, slots=True)
class MotionSettings:
    """How motion is measured and how scores become events; defaults suit a doorstep camera."""

    analysis_height: int = 100
    """Frames are halved while they stay at least this many rows high (so 100..199 rows)."""
    blur: int = 5
    """Odd Gaussian kernel size (pixels at analysis size) that hides sensor noise."""
    pixel_threshold: int = 24
    """A pixel counts as changed when it differs from the background by more than this (0..255)."""
    background_rate: float = 0.05
    """How fast the background follows the scene (0..1 per frame)."""
    min_score: float = 0.004
    """Fraction of the motion-zone area that must change for a frame to count as motion."""
    min_event_seconds: float = 0.3
    """Motion must last this long before an event starts."""
    pre_roll_seconds: float = 3.0
    """Footage kept from before the event started."""
    post_roll_seconds: float = 5.0
    """Footage kept after the last motion; new motion within it extends the same event."""
    max_clip_seconds: float | None = None
    """A longer event is cut into clips (segments) of at most this long; None: never cut."""

    def __post_init__(self) -> None:
        checks = {
            "analysis_height": 16 <= self.analysis_height <= 2160,
            "blur": self.blur >= 0 and (self.blur == 0 or self.blur % 2 == 1),
            "pixel_threshold": 0 < self.pixel_threshold < 255,
            "background_rate": 0.0 < self.background_rate <= 1.0,
            "min_score": 0.0 < self.min_score <= 1.0,
            "min_event_seconds": self.min_event_seconds >= 0.0,
            "pre_roll_seconds": self.pre_roll_seconds >= 0.0,
            "post_roll_seconds": self.post_roll_seconds >= 0.0,
            "max_clip_seconds": self.max_clip_seconds is None or self.max_clip_seconds >= 1.0,
        }
        for name, ok in checks.items():
            if not ok:
                raise InvalidInput(
                    f"motion setting {name}={getattr(self, name)!r} is out of range", field=name
                )


DEFAULT_SETTINGS = MotionSettings()
"""The settings used when none are given."""


class MotionDetector:
    """Score each frame's motion as the changed fraction of the motion-zone area (0..1)."""

    def __init__(
        self,
        width: int,
        height: int,
        *,
        zones: Sequence[Zone] = (),
        privacy_zones: Sequence[Zone] = (),
        settings: MotionSettings = DEFAULT_SETTINGS,
    ) -> None:
        self.settings = settings
        self.halvings = 0
        small_w, small_h = width, height
        while small_h // 2 >= settings.analysis_height and small_w >= 2:
            small_w, small_h = small_w // 2, small_h // 2
            self.halvings += 1
        self.size = (small_w, small_h)
        mask = motion_mask(zones, (), small_w, small_h)
        if privacy_zones:
            # Blurring spreads a privacy edge outwards, so keep a margin around privacy zones.
            hidden = zone_mask(privacy_zones, small_w, small_h)
            margin = max(3, settings.blur)
            grown = cv2.dilate(hidden, np.ones((margin, margin), np.uint8))
            mask[grown > 0] = 0
            self._hidden: npt.NDArray[np.bool_] | None = grown > 0
        else:
            self._hidden = None
        self.mask = mask
        self.area = int(cv2.countNonZero(mask))
        self._background: npt.NDArray[np.float32] | None = None
        self._changed = np.empty((small_h, small_w), np.uint8)

    def score(self, luma: npt.NDArray[np.uint8]) -> float:
        """Return this frame's motion score and fold the frame into the background."""
        small = shrink(luma, self.halvings)
        if self._hidden is not None:
            small[self._hidden] = 0
        if self.settings.blur:
            k = self.settings.blur
            small = cv2.GaussianBlur(small, (k, k), 0).astype(np.uint8, copy=False)
        if self._background is None:
            self._background = small.astype(np.float32)
            return 0.0
        background_u8 = cv2.convertScaleAbs(self._background)
        diff = cv2.absdiff(small, background_u8)
        cv2.threshold(
            diff, self.settings.pixel_threshold, 255, cv2.THRESH_BINARY, dst=self._changed
        )
        cv2.bitwise_and(self._changed, self.mask, dst=self._changed)
        cv2.accumulateWeighted(small, self._background, self.settings.background_rate)
        if self.area == 0:
            return 0.0
        return int(cv2.countNonZero(self._changed)) / self.area

    def regions(self, min_share: float = 0.0005) -> list[tuple[float, float, float, float]]:
        """Boxes (x1, y1, x2, y2, full-frame pixels) round the last frame's changed areas."""
        if self._background is None:
            return []
        grown = cv2.dilate(self._changed, np.ones((5, 5), np.uint8))
        count, _, stats, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
        scale = float(2**self.halvings)
        least = min_share * self._changed.size
        return [
            (float(x) * scale, float(y) * scale, float(x + w) * scale, float(y + h) * scale)
            for x, y, w, h, area in stats[1:count]
            if area >= least
        ]

    def reset(self) -> None:
        """Forget the background, e.g. after a reconnect or a scene cut."""
        self._background = None


def shrink(image: npt.NDArray[np.uint8], halvings: int) -> npt.NDArray[np.uint8]:
    """Halve ``image`` ``halvings`` times, each output pixel the mean of a 2×2 block."""
    # Bilinear at exactly half size averages each 2×2 block, which equals INTER_AREA
    # but runs several times faster; that is most of the per-frame budget.
    small = image
    for _ in range(halvings):
        rows, cols = small.shape[0] // 2, small.shape[1] // 2
        half = cv2.resize(
            small[: rows * 2, : cols * 2], (cols, rows), interpolation=cv2.INTER_LINEAR
        )
        small = half.astype(np.uint8, copy=False)
    if small is image:
        small = image.copy()
    return small
