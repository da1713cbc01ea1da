"""A jurisdiction's outline as cells: the cap on how many, estimated before any is listed."""

from __future__ import annotations

import math
from typing import Any

import h3

from doorstep.errors import InvalidInput
from doorstep.geo import cells as geo
from doorstep.geo import geometry
from doorstep.geo.geometry import Circle, Polygon, parse_geojson

#: A jurisdiction is covered by cells at the public resolution; past this many it is refused.
MAX_JURISDICTION_CELLS = 50_000
#: Listing a polygon's cells walks its bounding box: a thin outline with a vast box is refused too.
MAX_BOUNDING_BOX_CELLS = 10 * MAX_JURISDICTION_CELLS
#: Points in a jurisdiction's outline over all its rings, and rings over all its polygons.
MAX_JURISDICTION_POSITIONS = geometry.MAX_REGION_POSITIONS
MAX_JURISDICTION_RINGS = geometry.MAX_REGION_RINGS


def polygon_geojson(shape: Polygon) -> dict[str, Any]:
    """A polygon as a GeoJSON geometry ([lon, lat] positions, closed rings)."""
    rings = []
    for ring in shape.rings():
        digits = geometry.STORED_DIGITS
        positions = [[round(lon, digits), round(lat, digits)] for lat, lon in ring]
        rings.append([*positions, positions[0]])
    return {"type": "Polygon", "coordinates": rings}


def cells_of(region_geojson: dict[str, Any], resolution: int) -> list[str]:
    """Cells at ``resolution`` that overlap a GeoJSON region.

    Every refusal is an ``InvalidInput`` on the field ``jurisdiction``: an outline too detailed to
    check, a malformed one, or one whose estimated cell count (from its area, outline length and
    bounding box) is over the limit, which is told before a single cell is listed.
    """
    try:
        # The outline's size is checked first, before any of it is parsed (the domain's one check).
        region = parse_geojson(region_geojson)
    except InvalidInput as err:
        raise InvalidInput(
            f"the jurisdiction is not valid: {err.detail}", field="jurisdiction"
        ) from err
    except (OverflowError, ValueError) as err:
        raise InvalidInput(
            "the jurisdiction is not a valid GeoJSON Polygon or MultiPolygon", field="jurisdiction"
        ) from err
    try:
        estimate, box = estimated_cells(region, resolution)
        if estimate > MAX_JURISDICTION_CELLS or box > MAX_BOUNDING_BOX_CELLS:
            raise _too_large(estimate, box)
        cells: set[str] = set()
        for shape in region.polygons:
            cells.update(geometry.cells_covering(shape, resolution))
            if len(cells) > MAX_JURISDICTION_CELLS:
                raise _too_large(len(cells), box)
    except (OverflowError, ValueError, h3.H3BaseException) as err:
        raise InvalidInput(
            "the jurisdiction could not be mapped to cells; check its outline", field="jurisdiction"
        ) from err
    return sorted(cells)


def _too_large(cells: int, box: int) -> InvalidInput:
    if cells > MAX_JURISDICTION_CELLS:
        detail = (
            f"the jurisdiction is too large to map: it covers about {cells:,} cells, and at most "
            f"{MAX_JURISDICTION_CELLS:,} are allowed; give the area your agency serves"
        )
    else:
        detail = (
            "the jurisdiction is too spread out to map: its outline spans a box of about "
            f"{box:,} cells, and at most {MAX_BOUNDING_BOX_CELLS:,} are allowed"
        )
    return InvalidInput(
        detail,
        field="jurisdiction",
        extra={
            "estimated_cells": cells,
            "max_cells": MAX_JURISDICTION_CELLS,
            "bounding_box_cells": box,
            "max_bounding_box_cells": MAX_BOUNDING_BOX_CELLS,
        },
    )


def _ring_box(ring: geometry.Ring) -> tuple[float, float, float, float]:
    """South, west, north, east bounds of a ring."""
    lats = [lat for lat, _ in ring]
    lons = [lon for _, lon in ring]
    return min(lats), min(lons), max(lats), max(lons)


def _ring_length_m(ring: geometry.Ring) -> float:
    return sum(
        float(h3.great_circle_distance(a, b, unit="m"))
        for a, b in zip(ring, (*ring[1:], ring[0]), strict=True)
    )


def _box_area_m2(ring: geometry.Ring) -> float:
    """The area of the latitude-longitude box around a ring, across the antimeridian if narrower."""
    south, west, north, east = _ring_box(ring)
    span = east - west
    if span > 180:
        # Read the other way round, as h3 does: the ring crosses the antimeridian.
        shifted = [lon % 360 for _, lon in ring]
        span = max(shifted) - min(shifted)
    band = abs(math.sin(math.radians(north)) - math.sin(math.radians(south)))
    return geometry.EARTH_RADIUS_M**2 * math.radians(span) * band


def estimated_cells(region: geometry.Region, resolution: int) -> tuple[int, int]:
    """Estimate, without listing any, the cells covering a region and the cells in its boxes.

    The first counts cells inside the outer rings (holes are ignored: h3 still walks them) and
    half the cells along every ring (about half of those have their centre outside, and only
    those add to the cells inside); the second the cells of the polygons' bounding boxes, which
    bound the work of listing them. Both err low, so a region is never refused on a guess alone.
    """
    cells = box = 0.0
    for shape in region.polygons:
        south, west, north, east = _ring_box(shape.exterior)
        near = [shape.exterior[0], ((south + north) / 2, (west + east) / 2)]
        cells += geo.cells_in_area(geometry.ring_area_m2(shape.exterior), resolution, near)
        outline_m = sum(_ring_length_m(ring) for ring in shape.rings())
        cells += geo.cells_along(outline_m, resolution) / 2
        box += geo.cells_in_area(_box_area_m2(shape.exterior), resolution, near)
    return math.floor(cells), math.floor(box)


def bounding_box(shape: Circle | Polygon) -> tuple[float, float, float, float]:
    """South, west, north, east bounds of an area (a circle's enclosing polygon)."""
    outline = geometry.circle_polygon(shape) if isinstance(shape, Circle) else shape
    lats = [lat for lat, _ in outline.exterior]
    lons = [lon for _, lon in outline.exterior]
    return min(lats), min(lons), max(lats), max(lons)


def jurisdiction_outline(region_geojson: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """The jurisdiction's outer rings as (lat, lon) lists, for drawing."""
    region = parse_geojson(region_geojson)
    return [list(shape.exterior) for shape in region.polygons]


def cell_boundary(cell: str) -> list[tuple[float, float]]:
    """A cell's corners as (lat, lon)."""
    return [(float(lat), float(lon)) for lat, lon in h3.cell_to_boundary(cell)]
