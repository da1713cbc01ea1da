"""Maps drawn on the server: a jurisdiction, its cells and request areas projected into one SVG."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from doorstep.geo.geometry import parse_geojson
from doorstep.geo.jurisdiction import cell_boundary, jurisdiction_outline

LatLon = tuple[float, float]
SVG_WIDTH = 640


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


def _shade(count: int, top: int) -> str:
    # Darker for more cameras; presentation attributes, so nothing inline for the CSP to refuse.
    level = 0.25 + 0.75 * (count / max(top, 1))
    return f"rgba(31, 94, 110, {level:.2f})"


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
    return {
        "width": projection.width,
        "height": projection.height,
        "outline": [projection.points(ring) for ring in outline],
        "cells": cells,
        "requests": [
            {"id": rfa_id, "points": projection.points(ring)}
            for rfa_id, area in areas
            for ring in _geojson_rings(area)
        ],
    }


def outline_svg(geometry: dict[str, Any], inside: dict[str, Any] | None = None) -> dict[str, Any]:
    """A jurisdiction (and optionally a request area within it) as SVG points."""
    rings = _geojson_rings(geometry)
    projection = Projection(rings, width=360)
    return {
        "width": projection.width,
        "height": projection.height,
        "outline": [projection.points(ring) for ring in rings],
        "area": [projection.points(ring) for ring in _geojson_rings(inside)] if inside else [],
    }
