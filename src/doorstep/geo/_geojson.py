"""GeoJSON Polygon and MultiPolygon outlines read into regions, or refused with the reason."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, TypeGuard

from doorstep.errors import InvalidInput
from doorstep.geo._shapes import (
    MAX_REGION_POSITIONS,
    MAX_REGION_RINGS,
    MAX_RING_POSITIONS,
    LatLon,
    Polygon,
    Region,
    Ring,
)


def _position(value: Any, where: str) -> LatLon:
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) not in (2, 3):
        raise InvalidInput(f"{where}: a position is [longitude, latitude]", field="geometry")
    for number in value:
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise InvalidInput(f"{where}: coordinates must be numbers", field="geometry")
        # An integer too large for a float (JSON allows any) is as out of range as infinity.
        if isinstance(number, int) and abs(number) > 360:
            raise InvalidInput(
                f"{where}: longitude must be within ±180 and latitude within ±90", field="geometry"
            )
        if not math.isfinite(number):
            raise InvalidInput(f"{where}: coordinates must be finite", field="geometry")
    lon, lat = float(value[0]), float(value[1])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput(
            f"{where}: longitude must be within ±180 and latitude within ±90", field="geometry"
        )
    return lat, lon


def _ring(value: Any, where: str) -> Ring:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise InvalidInput(f"{where}: a ring is a list of positions", field="geometry")
    if len(value) < 4:
        raise InvalidInput(f"{where}: a ring needs at least 4 positions", field="geometry")
    if len(value) > MAX_RING_POSITIONS + 1:
        raise InvalidInput(
            f"{where}: a polygon ring may have at most {MAX_RING_POSITIONS} points",
            field="geometry",
        )
    points = tuple(_position(p, f"{where}, position {i}") for i, p in enumerate(value))
    if points[0] != points[-1]:
        raise InvalidInput(
            f"{where}: a ring must end at the position it starts from", field="geometry"
        )
    return points[:-1]


def _polygon_from_rings(value: Any, where: str) -> Polygon:
    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        raise InvalidInput(f"{where}: a polygon is a non-empty list of rings", field="geometry")
    rings = [_ring(r, f"{where}, ring {i}") for i, r in enumerate(value)]
    try:
        return Polygon(rings[0], tuple(rings[1:]))
    except InvalidInput as err:
        raise InvalidInput(f"{where}: {err.detail}", field="geometry", extra=err.extra) from err


def check_outline_size(geometry: Any) -> None:
    """Refuse more rings or positions than a region may have, before any position is read.

    The one size check for every outline (request areas and jurisdictions alike); anything
    malformed is left to ``parse_geojson``, which says what is wrong with it.
    """
    if not isinstance(geometry, Mapping):
        return
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    polygons = [coordinates] if kind == "Polygon" else coordinates
    if kind not in ("Polygon", "MultiPolygon") or not _is_list(polygons):
        return
    rings = positions = 0
    for rings_of_polygon in polygons:
        if not _is_list(rings_of_polygon):
            return
        for ring in rings_of_polygon:
            if not _is_list(ring):
                return
            rings += 1
            positions += len(ring)
            if rings > MAX_REGION_RINGS:
                raise InvalidInput(
                    f"a geometry may have at most {MAX_REGION_RINGS:,} rings (outer rings and "
                    "holes); merge or leave out small parts",
                    field="geometry",
                )
            if positions > MAX_REGION_POSITIONS:
                raise InvalidInput(
                    f"a geometry's outline may have at most {MAX_REGION_POSITIONS:,} points in "
                    "all; simplify it",
                    field="geometry",
                )


def _is_list(value: object) -> TypeGuard[Sequence[Any]]:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def parse_geojson(geometry: Mapping[str, Any]) -> Region:
    """Parse a GeoJSON Polygon or MultiPolygon into a region of valid polygons, or say why not."""
    if not isinstance(geometry, Mapping):
        raise InvalidInput("the geometry must be a GeoJSON object", field="geometry")
    check_outline_size(geometry)
    kind = geometry.get("type")
    coordinates = geometry.get("coordinates")
    if kind == "Polygon":
        return Region((_polygon_from_rings(coordinates, "polygon"),))
    if kind == "MultiPolygon":
        if not isinstance(coordinates, Sequence) or isinstance(coordinates, str) or not coordinates:
            raise InvalidInput("a MultiPolygon needs a list of polygons", field="geometry")
        return Region(
            tuple(_polygon_from_rings(p, f"polygon {i}") for i, p in enumerate(coordinates))
        )
    raise InvalidInput(
        f"the geometry must be a Polygon or MultiPolygon, not {kind!r}", field="geometry"
    )
