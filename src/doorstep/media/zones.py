"""Motion zones and privacy zones: polygons in normalised frame coordinates."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from doorstep.errors import InvalidInput

Mask = npt.NDArray[np.uint8]
"""A single-channel mask: 255 inside, 0 outside."""


@dataclass(frozen=True, slots=True)
class Zone:
    """A polygon whose corners are fractions (0..1) of the frame width and height."""

    points: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        _check_polygon(self.points, field="zone")

    def to_pixels(self, width: int, height: int) -> npt.NDArray[np.int32]:
        """Return the corners in pixels of a ``width`` × ``height`` frame, shaped for fillPoly."""
        corners = [(round(x * width), round(y * height)) for x, y in self.points]
        return np.array(corners, dtype=np.int32).reshape(-1, 1, 2)


def parse_zone(
    text: str, *, frame_size: tuple[int, int] | None = None, field: str = "zone"
) -> Zone:
    """Parse ``"x1,y1 x2,y2 x3,y3 ..."``: all values ≤ 1 are fractions, otherwise pixels."""
    points: list[tuple[float, float]] = []
    for pair in text.split():
        parts = pair.split(",")
        if len(parts) != 2:
            raise InvalidInput(f"{field} point {pair!r} is not of the form x,y", field=field)
        try:
            x, y = float(parts[0]), float(parts[1])
        except ValueError as err:
            raise InvalidInput(f"{field} point {pair!r} is not two numbers", field=field) from err
        points.append((x, y))
    _check_polygon(points, field=field)
    if any(v > 1.0 for point in points for v in point):
        if frame_size is None:
            raise InvalidInput(
                f"{field} {text!r} is in pixels but the frame size is unknown; use fractions 0..1",
                field=field,
            )
        width, height = frame_size
        points = [(x / width, y / height) for x, y in points]
    if any(not 0.0 <= v <= 1.0 for point in points for v in point):
        raise InvalidInput(f"{field} {text!r} reaches outside the frame", field=field)
    return Zone(tuple(points))


def _check_polygon(points: Sequence[tuple[float, float]], *, field: str) -> None:
    if len(points) < 3:
        raise InvalidInput(f"{field} needs at least 3 points, got {len(points)}", field=field)
    if not all(math.isfinite(v) for point in points for v in point):
        raise InvalidInput(f"{field} has a coordinate that is not a finite number", field=field)
    if any(v < 0 for point in points for v in point):
        raise InvalidInput(f"{field} has a negative coordinate", field=field)
    # Shoelace formula: a polygon whose corners are all on one line covers nothing.
    area = 0.0
    for (x1, y1), (x2, y2) in zip(points, [*points[1:], points[0]], strict=True):
        area += x1 * y2 - x2 * y1
    if abs(area) < 1e-12:
        raise InvalidInput(f"{field} has zero area", field=field)


def zone_mask(zones: Iterable[Zone], width: int, height: int) -> Mask:
    """Rasterise the union of ``zones`` at ``width`` × ``height`` (255 inside)."""
    mask = np.zeros((height, width), dtype=np.uint8)
    polygons = [zone.to_pixels(width, height) for zone in zones]
    if polygons:
        cv2.fillPoly(mask, polygons, 255)
    return mask


def privacy_mask(privacy_zones: Sequence[Zone], width: int, height: int) -> Mask | None:
    """Rasterise the privacy zones, or ``None`` when there are none (nothing to black out)."""
    if not privacy_zones:
        return None
    return zone_mask(privacy_zones, width, height)


def motion_mask(
    zones: Sequence[Zone], privacy_zones: Sequence[Zone], width: int, height: int
) -> Mask:
    """Where motion counts: inside any motion zone (whole frame if none), never in privacy zones."""
    if zones:
        mask = zone_mask(zones, width, height)
    else:
        mask = np.full((height, width), 255, dtype=np.uint8)
    if privacy_zones:
        mask[zone_mask(privacy_zones, width, height) > 0] = 0
    return mask


def blackout(frame: npt.NDArray[np.uint8], privacy: Mask | None) -> npt.NDArray[np.uint8]:
    """Set every privacy pixel of ``frame`` to 0 in place and return it."""
    if privacy is not None:
        frame[privacy > 0] = 0
    return frame
