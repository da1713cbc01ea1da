"""Maps drawn on the server: a jurisdiction, its cells and request areas projected into one SVG."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from doorstep.geo.geometry import parse_geojson
from doorstep.geo.jurisdiction import cell_boundary, jurisdiction_outline

LatLon = tuple[float, float]
SVG_WIDTH = 640
#: Digits of a degree in the street map's data: the stored precision of outlines (about 0.1 m).
MAP_DIGITS = 6


class Projection:
    """Maps (lat, lon) into an SVG box, keeping shapes true near the middle latitude."""

    def __init__(self, rings: Sequence[Sequence[LatLon]], width: int = SVG_WIDTH) -> None:
        lats = [lat for ring in rings for lat, _ in ring]
        lons = [lon for ring in rings for _, lon in ring]
        self.south, self.north = min(lats), max(lats)
        self.west, self.east = min(lons), max(lons)
        self.squash = math.cos(math.radians((self.south + self.north) / 2))
        span_x = max((self.east - self.west) * self.squash, 1e-9)
        span_y = max(self.north - self.south, 1e-9)
        self.scale = (width - 20) / span_x
        self.width = width
        self.height = round(span_y * self.scale + 20)

    def point(self, lat: float, lon: float) -> str:
        """One point as 'x,y'."""
        x = 10 + (lon - self.west) * self.squash * self.scale
        y = 10 + (self.north - lat) * self.scale
        return f"{x:.1f},{y:.1f}"

    def points(self, ring: Sequence[LatLon]) -> str:
        """A ring as an SVG points attribute."""
        return " ".join(self.point(lat, lon) for lat, lon in ring)


def _geojson_rings(geometry: dict[str, Any]) -> list[list[LatLon]]:
    return [list(shape.exterior) for shape in parse_geojson(geometry).polygons]


def latlon_ring(ring: Sequence[LatLon]) -> list[list[float]]:
    """A ring as [lat, lon] pairs for the street map in the page, to the stored digits."""
    return [[round(lat, MAP_DIGITS), round(lon, MAP_DIGITS)] for lat, lon in ring]


def _shade(count: int, top: int) -> str:
    # Darker for more cameras; presentation attributes, so nothing inline for the CSP to refuse.
    return f"rgba(31, 94, 110, {_level(count, top):.2f})"


def _level(count: int, top: int) -> float:
    return round(0.25 + 0.75 * (count / max(top, 1)), 2)


def camera_map_svg(
    jurisdiction: dict[str, Any],
    counts: dict[str, int],
    areas: Sequence[tuple[str, dict[str, Any]]],
) -> dict[str, Any]:
    """The jurisdiction, the k-anonymous cells and the requests' areas (id, GeoJSON), projected."""
    outline = jurisdiction_outline(jurisdiction)
    projection = Projection(outline)
    top = max(counts.values(), default=1)
    cells = [
        {
            "cell": cell,
            "count": count,
            "points": projection.points(cell_boundary(cell)),
            "fill": _shade(count, top),
        }
        for cell, count in sorted(counts.items())
    ]
    request_rings = [(rfa_id, ring) for rfa_id, area in areas for ring in _geojson_rings(area)]
    return {
        "width": projection.width,
        "height": projection.height,
        "outline": [projection.points(ring) for ring in outline],
        "cells": cells,
        "requests": [
            {"id": rfa_id, "points": projection.points(ring)} for rfa_id, ring in request_rings
        ],
        # The same shapes in degrees, for the street map the page draws over its base map.
        "geo": {
            "outline": [latlon_ring(ring) for ring in outline],
            "cells": [
                {
                    "ring": latlon_ring(cell_boundary(cell)),
                    "count": count,
                    "level": _level(count, top),
                }
                for cell, count in sorted(counts.items())
            ],
            "requests": [latlon_ring(ring) for _rfa_id, ring in request_rings],
        },
    }


def outline_svg(geometry: dict[str, Any], inside: dict[str, Any] | None = None) -> dict[str, Any]:
    """A jurisdiction (and optionally a request area within it) as SVG points."""
    rings = _geojson_rings(geometry)
    area = _geojson_rings(inside) if inside else []
    projection = Projection(rings, width=360)
    return {
        "width": projection.width,
        "height": projection.height,
        "outline": [projection.points(ring) for ring in rings],
        "area": [projection.points(ring) for ring in area],
        "geo": {
            "outline": [latlon_ring(ring) for ring in rings],
            "areas": [latlon_ring(ring) for ring in area],
        },
    }


def areas_geo(areas: Sequence[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Areas (a label, a GeoJSON region) in degrees, for a street map of them alone."""
    rings = [(label, ring) for label, area in areas for ring in _geojson_rings(area)]
    return {
        "areas": [latlon_ring(ring) for _label, ring in rings],
        "area_labels": [label for label, _ring in rings],
    }
