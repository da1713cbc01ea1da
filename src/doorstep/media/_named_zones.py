"""Named detection zones: polygons as fractions of the frame, and whether a point is inside."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from doorstep.errors import InvalidInput

Polygon = tuple[tuple[float, float], ...]
"""Corners as fractions (0..1) of the frame's width and height."""


def named_zones(value: Any) -> dict[str, Polygon]:
    """Read ``[{"name": ..., "polygon": [[x, y], ...]}]`` (fractions) into name -> polygon."""
    zones: dict[str, Polygon] = {}
    if value is None:
        return zones
    if not isinstance(value, list):
        raise InvalidInput("detection zones must be a list", field="detection_zones")
    for item in value:
        name = item.get("name") if isinstance(item, Mapping) else None
        points = item.get("polygon") if isinstance(item, Mapping) else None
        if not isinstance(name, str) or not name or not isinstance(points, list):
            raise InvalidInput(
                'each detection zone needs a "name" and a "polygon"', field="detection_zones"
            )
        try:
            polygon = tuple((float(x), float(y)) for x, y in points)
        except (TypeError, ValueError) as err:
            raise InvalidInput(
                f"the polygon of zone {name!r} must be [x, y] pairs", field="detection_zones"
            ) from err
        if len(polygon) < 3 or not all(0 <= v <= 1 for point in polygon for v in point):
            raise InvalidInput(
                f"zone {name!r} needs at least 3 corners, as fractions 0..1 of the frame",
                field="detection_zones",
            )
        zones[name] = polygon
    return zones


def inside(point: tuple[float, float], polygon: Polygon) -> bool:
    """Whether a point (fractions of the frame) lies inside a polygon (even-odd rule)."""
    x, y = point
    result = False
    previous = polygon[-1]
    for corner in polygon:
        (x1, y1), (x2, y2) = previous, corner
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            result = not result
        previous = corner
    return result
