"""Polygons on the Earth for request areas and jurisdictions: validity, area, cells, GeoJSON.

A polygon is the region its rings enclose when their edges are drawn as straight lines in
longitude and latitude, which is how containment (``polygon_contains``), targeting
(``cells_covering``) and the jurisdiction test (``polygon_within``) all read it. Every polygon is
checked by GEOS (through shapely) when it is made, whatever its size: an invalid shape — crossing
edges, a hole outside its outline, holes that overlap — is refused with the reason, never repaired.
Its area is then measured on the WGS84 ellipsoid (pyproj ``Geod``) over that same region, so the
area the request policy checks is the area of what a request reaches.

Longitudes are not wrapped: a shape whose edge spans more than 180° of longitude (one that would
cross the 180° meridian) is refused with a clear message; a jurisdiction there is given as two
polygons, one each side of the meridian.

Rings are (lat, lon) tuples here; GeoJSON positions are [lon, lat]; shapely geometries are
(x=lon, y=lat).

This module is the one door to all of it; the work lives beside it by concept: the shapes, their
areas and containment in ``_shapes``, the cells a shape meets in ``_coverage``, reading GeoJSON
in ``_geojson``.
"""

from __future__ import annotations

from doorstep.geo._coverage import cell_area_m2, cells_covering
from doorstep.geo._geojson import check_outline_size, parse_geojson
from doorstep.geo._shapes import (
    AREA_SEGMENT_DEG,
    EARTH_RADIUS_M,
    MAX_AREA_POSITIONS,
    MAX_REGION_POSITIONS,
    MAX_REGION_RINGS,
    MAX_RING_POSITIONS,
    SQUARE_METRES_PER_SQUARE_MILE,
    STORED_DIGITS,
    Circle,
    LatLon,
    Polygon,
    Region,
    Ring,
    circle_area_m2,
    circle_polygon,
    destination,
    polygon,
    polygon_area_m2,
    polygon_contains,
    polygon_within,
    region_contains,
    ring_area_m2,
    stored,
)

__all__ = [
    "AREA_SEGMENT_DEG",
    "Circle",
    "EARTH_RADIUS_M",
    "LatLon",
    "MAX_AREA_POSITIONS",
    "MAX_REGION_POSITIONS",
    "MAX_REGION_RINGS",
    "MAX_RING_POSITIONS",
    "Polygon",
    "Region",
    "Ring",
    "SQUARE_METRES_PER_SQUARE_MILE",
    "STORED_DIGITS",
    "cell_area_m2",
    "cells_covering",
    "check_outline_size",
    "circle_area_m2",
    "circle_polygon",
    "destination",
    "parse_geojson",
    "polygon",
    "polygon_area_m2",
    "polygon_contains",
    "polygon_within",
    "region_contains",
    "ring_area_m2",
    "stored",
]
