"""Polygons on the Earth for request areas and jurisdictions: area, containment, GeoJSON parsing."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import h3

from doorstep.domain.geo import Coordinates
from doorstep.errors import InvalidInput

#: Radius of the sphere with the Earth's surface area (WGS84 authalic radius), in metres.
EARTH_RADIUS_M = 6_371_007.2
SQUARE_METRES_PER_SQUARE_MILE = 2_589_988.110336
#: Past this many positions a ring is not checked for self-intersection (the check is quadratic);
#: such rings come from official boundary files, never from a hand-drawn request area.
SELF_INTERSECTION_CHECK_LIMIT = 1_000
MAX_RING_POSITIONS = 20_000

LatLon = tuple[float, float]
Ring = tuple[LatLon, ...]


@dataclass(frozen=True, slots=True)
class Polygon:
    """A polygon of (lat, lon) vertices: one outer ring, any holes; rings are stored open."""

    exterior: Ring
    holes: tuple[Ring, ...] = ()

    def __post_init__(self) -> None:
        for ring in (self.exterior, *self.holes):
            _check_ring(ring)

    def rings(self) -> tuple[Ring, ...]:
        """Return the outer ring followed by the holes."""
        return (self.exterior, *self.holes)


@dataclass(frozen=True, slots=True)
class Region:
    """One or more polygons, such as an agency's jurisdiction."""

    polygons: tuple[Polygon, ...]

    def __post_init__(self) -> None:
        if not self.polygons:
            raise InvalidInput("a region needs at least one polygon", field="geometry")


@dataclass(frozen=True, slots=True)
class Circle:
    """A centre and a radius in metres."""

    centre: Coordinates
    radius_m: float

    def __post_init__(self) -> None:
        if isinstance(self.radius_m, bool) or not isinstance(self.radius_m, int | float):
            raise InvalidInput("the radius must be a number of metres", field="radius_m")
        if not math.isfinite(self.radius_m) or self.radius_m <= 0:
            raise InvalidInput("the radius must be a positive number of metres", field="radius_m")


def polygon(points: Iterable[LatLon], holes: Iterable[Iterable[LatLon]] = ()) -> Polygon:
    """Build a polygon from (lat, lon) points; a closing point equal to the first is dropped."""
    return Polygon(_open(points), tuple(_open(hole) for hole in holes))


def _open(points: Iterable[LatLon]) -> Ring:
    ring = tuple((float(lat), float(lon)) for lat, lon in points)
    if len(ring) > 1 and ring[0] == ring[-1]:
        ring = ring[:-1]
    return ring


def _check_ring(ring: Ring) -> None:
    if len(set(ring)) < 3:
        raise InvalidInput("a polygon ring needs at least 3 distinct points", field="geometry")
    if len(ring) > MAX_RING_POSITIONS:
        raise InvalidInput(
            f"a polygon ring may have at most {MAX_RING_POSITIONS} points", field="geometry"
        )
    for lat, lon in ring:
        if not (math.isfinite(lat) and math.isfinite(lon)):
            raise InvalidInput("polygon coordinates must be finite numbers", field="geometry")
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InvalidInput(
                "latitudes must be within ±90 and longitudes within ±180", field="geometry"
            )
    if len(ring) <= SELF_INTERSECTION_CHECK_LIMIT and _self_intersects(ring):
        raise InvalidInput("the polygon's edges cross each other", field="geometry")


def _edges(ring: Ring) -> list[tuple[LatLon, LatLon]]:
    return [(ring[i], ring[(i + 1) % len(ring)]) for i in range(len(ring))]


def _orientation(a: LatLon, b: LatLon, c: LatLon) -> int:
    cross = (b[1] - a[1]) * (c[0] - a[0]) - (b[0] - a[0]) * (c[1] - a[1])
    return (cross > 0) - (cross < 0)


def _cross(p1: LatLon, p2: LatLon, q1: LatLon, q2: LatLon) -> bool:
    """Return whether two segments cross at a point inside both (touching ends do not count)."""
    d1, d2 = _orientation(q1, q2, p1), _orientation(q1, q2, p2)
    d3, d4 = _orientation(p1, p2, q1), _orientation(p1, p2, q2)
    return d1 * d2 < 0 and d3 * d4 < 0


def _self_intersects(ring: Ring) -> bool:
    edges = _edges(ring)
    n = len(edges)
    for i in range(n):
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue
            if _cross(*edges[i], *edges[j]):
                return True
    return False


def _ring_excess(ring: Ring) -> float:
    """Return the signed spherical excess of a ring in steradians, summed edge by edge."""
    total = 0.0
    for (lat1, lon1), (lat2, lon2) in _edges(ring):
        d_lon = math.radians(lon2 - lon1)
        d_lon = (d_lon + math.pi) % (2 * math.pi) - math.pi
        t1 = math.tan(math.radians(lat1) / 2)
        t2 = math.tan(math.radians(lat2) / 2)
        total += 2 * math.atan2(math.tan(d_lon / 2) * (t1 + t2), 1 + t1 * t2)
    return total


def ring_area_m2(ring: Ring) -> float:
    """Return the area enclosed by a ring on the sphere, in square metres."""
    excess = abs(_ring_excess(ring))
    # The ring splits the sphere in two; the request area is always the smaller side.
    return min(excess, 4 * math.pi - excess) * EARTH_RADIUS_M**2


def polygon_area_m2(shape: Polygon) -> float:
    """Return a polygon's area on the sphere in square metres, holes subtracted."""
    return ring_area_m2(shape.exterior) - sum(ring_area_m2(hole) for hole in shape.holes)


def circle_area_m2(circle: Circle) -> float:
    """Return the area of a spherical cap of the circle's radius, in square metres."""
    angle = circle.radius_m / EARTH_RADIUS_M
    return 2 * math.pi * EARTH_RADIUS_M**2 * (1 - math.cos(angle))


def destination(centre: Coordinates, bearing_rad: float, distance_m: float) -> LatLon:
    """Return the point ``distance_m`` from ``centre`` along a great circle at ``bearing_rad``."""
    lat1, lon1 = math.radians(centre.lat), math.radians(centre.lon)
    d = distance_m / EARTH_RADIUS_M
    lat2 = math.asin(
        math.sin(lat1) * math.cos(d) + math.cos(lat1) * math.sin(d) * math.cos(bearing_rad)
    )
    lon2 = lon1 + math.atan2(
        math.sin(bearing_rad) * math.sin(d) * math.cos(lat1),
        math.cos(d) - math.sin(lat1) * math.sin(lat2),
    )
    return math.degrees(lat2), (math.degrees(lon2) + 540) % 360 - 180


def circle_polygon(circle: Circle, sides: int = 64) -> Polygon:
    """Return a polygon that encloses the circle (vertices pushed out so the edges clear it)."""
    reach = circle.radius_m / math.cos(math.pi / sides)
    ring = tuple(destination(circle.centre, 2 * math.pi * i / sides, reach) for i in range(sides))
    return Polygon(ring)


def ring_contains(ring: Ring, point: LatLon) -> bool:
    """Return whether a point lies inside a ring (even-odd rule in the lat/lon plane)."""
    lat, lon = point
    inside = False
    for (lat1, lon1), (lat2, lon2) in _edges(ring):
        if (lon1 > lon) != (lon2 > lon):
            crossing = lat1 + (lon - lon1) * (lat2 - lat1) / (lon2 - lon1)
            if lat < crossing:
                inside = not inside
    return inside


def polygon_contains(shape: Polygon, point: LatLon) -> bool:
    """Return whether a point lies inside the polygon and outside its holes."""
    if not ring_contains(shape.exterior, point):
        return False
    return not any(ring_contains(hole, point) for hole in shape.holes)


def _bbox(points: Iterable[LatLon]) -> tuple[float, float, float, float]:
    lats, lons = zip(*points, strict=True)
    return min(lats), min(lons), max(lats), max(lons)


def polygon_within(inner: Polygon, outer: Region) -> bool:
    """Return whether every part of ``inner`` lies inside ``outer``."""
    if not any(all(polygon_contains(p, v) for v in inner.exterior) for p in outer.polygons):
        return False
    lo_lat, lo_lon, hi_lat, hi_lon = _bbox(inner.exterior)
    inner_edges = _edges(inner.exterior)
    for shape in outer.polygons:
        for ring in shape.rings():
            for a, b in _edges(ring):
                if max(a[0], b[0]) < lo_lat or min(a[0], b[0]) > hi_lat:
                    continue
                if max(a[1], b[1]) < lo_lon or min(a[1], b[1]) > hi_lon:
                    continue
                if any(_cross(a, b, p, q) for p, q in inner_edges):
                    return False
        # A hole of the jurisdiction that sits wholly inside the area would be a gap in it.
        for hole in shape.holes:
            if any(ring_contains(inner.exterior, v) for v in hole):
                return False
    return True


def cells_covering(shape: Polygon, resolution: int) -> frozenset[str]:
    """Return every H3 cell that overlaps the polygon at ``resolution``, with a safety margin."""
    outline = h3.LatLngPoly(list(shape.exterior), *[list(hole) for hole in shape.holes])
    cells = set(h3.h3shape_to_cells(outline, resolution))
    step = h3.average_hexagon_edge_length(resolution, unit="m") / 3
    for ring in shape.rings():
        for a, b in _edges(ring):
            length = h3.great_circle_distance(a, b, unit="m")
            samples = max(1, math.ceil(length / step))
            for i in range(samples + 1):
                t = i / samples
                point = (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)
                # Neighbours too: a boundary can clip the corner of a cell between two samples.
                cells.update(h3.grid_disk(h3.latlng_to_cell(*point, resolution), 1))
    return frozenset(cells)


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
        raise InvalidInput(f"{where}: {err.detail}", field="geometry") from err


def parse_geojson(geometry: Mapping[str, Any]) -> Region:
    """Parse a GeoJSON Polygon or MultiPolygon geometry into a region, with a clear error."""
    if not isinstance(geometry, Mapping):
        raise InvalidInput("the geometry must be a GeoJSON object", field="geometry")
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
