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
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard, cast

import h3
import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import polygon as shapely_polygon

from doorstep.errors import InvalidInput
from doorstep.geo.cells import Coordinates

#: Radius of the sphere with the Earth's surface area (WGS84 authalic radius), in metres.
EARTH_RADIUS_M = 6_371_007.2
SQUARE_METRES_PER_SQUARE_MILE = 2_589_988.110336
#: Positions in any one ring of any polygon.
MAX_RING_POSITIONS = 20_000
#: Positions over all the rings of a request area: a hand-drawn area (or a circle's 64 sides)
#: needs far fewer; an outline finer than this is no longer something a person drew.
MAX_AREA_POSITIONS = 500
#: Positions over all the rings of a jurisdiction, and rings over all its polygons: official
#: boundary files are detailed, but a bound keeps checking one quick.
MAX_REGION_POSITIONS = 100_000
MAX_REGION_RINGS = 2_000
#: Decimal places of degrees a request area is stored with (about 0.1 m); it is checked, measured
#: and targeted as stored, so what is kept is exactly what passed.
STORED_DIGITS = 6
#: Edges are cut into pieces at most this long (degrees) before the geodesic area is taken, so the
#: ellipsoid's geodesics follow the straight longitude-latitude edges that define the region.
AREA_SEGMENT_DEG = 0.001

_GEOD = Geod(ellps="WGS84")
_REASON = re.compile(r"^(?P<what>.*?)\s*\[(?P<x>\S+) (?P<y>\S+)\]$")

LatLon = tuple[float, float]
Ring = tuple[LatLon, ...]


@dataclass(frozen=True, slots=True)
class Polygon:
    """A valid polygon of (lat, lon) vertices: one outer ring, any holes; rings are stored open."""

    exterior: Ring
    holes: tuple[Ring, ...] = ()
    _shape: shapely.Polygon = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        for number, ring in enumerate(self.rings()):
            _check_ring(ring, number)
        object.__setattr__(self, "_shape", _valid_shape(self.exterior, self.holes))

    def rings(self) -> tuple[Ring, ...]:
        """Return the outer ring followed by the holes."""
        return (self.exterior, *self.holes)

    @property
    def positions(self) -> int:
        """How many vertices the polygon has over all its rings."""
        return sum(len(ring) for ring in self.rings())

    @property
    def geometry(self) -> shapely.Polygon:
        """The polygon as a prepared, valid shapely geometry in (x=lon, y=lat)."""
        return self._shape


@dataclass(frozen=True, slots=True)
class Region:
    """One or more polygons, such as an agency's jurisdiction: the union of their regions."""

    polygons: tuple[Polygon, ...]
    _shape: shapely.Geometry = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not self.polygons:
            raise InvalidInput("a region needs at least one polygon", field="geometry")
        # Parts may touch or overlap (districts drawn side by side): the region is their union.
        union = (
            self.polygons[0].geometry
            if len(self.polygons) == 1
            else shapely.union_all([p.geometry for p in self.polygons])
        )
        shapely.prepare(union)
        object.__setattr__(self, "_shape", union)

    @property
    def geometry(self) -> shapely.Geometry:
        """The region as one prepared shapely geometry in (x=lon, y=lat)."""
        return self._shape


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


def stored(shape: Polygon) -> Polygon:
    """The polygon with its positions rounded as they are stored, checked again."""
    try:
        return polygon(
            [(round(lat, STORED_DIGITS), round(lon, STORED_DIGITS)) for lat, lon in shape.exterior],
            [
                [(round(lat, STORED_DIGITS), round(lon, STORED_DIGITS)) for lat, lon in hole]
                for hole in shape.holes
            ],
        )
    except InvalidInput as err:
        raise InvalidInput(
            f"with positions kept to {STORED_DIGITS} decimal places (about 0.1 m), {err.detail}; "
            "keep vertices and edges further apart",
            field=err.field,
            extra=err.extra,
        ) from err


def _open(points: Iterable[LatLon]) -> Ring:
    ring = tuple((float(lat), float(lon)) for lat, lon in points)
    if len(ring) > 1 and ring[0] == ring[-1]:
        ring = ring[:-1]
    return ring


def _ring_name(number: int) -> str:
    return "the outer ring" if number == 0 else f"ring {number} (a hole)"


def _check_ring(ring: Ring, number: int) -> None:
    name = _ring_name(number)
    if len(ring) > MAX_RING_POSITIONS:
        raise InvalidInput(
            f"{name}: a polygon ring may have at most {MAX_RING_POSITIONS} points", field="geometry"
        )
    for lat, lon in ring:
        if not (math.isfinite(lat) and math.isfinite(lon)):
            raise InvalidInput("polygon coordinates must be finite numbers", field="geometry")
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InvalidInput(
                "latitudes must be within ±90 and longitudes within ±180", field="geometry"
            )
    if len(set(ring)) < 3:
        raise InvalidInput(
            f"{name}: a polygon ring needs at least 3 distinct points", field="geometry"
        )
    lons = np.array([lon for _, lon in ring])
    if np.any(np.abs(lons - np.roll(lons, -1)) > 180):
        raise InvalidInput(
            f"{name} has an edge spanning more than 180° of longitude: shapes that cross the "
            "180° meridian are not supported (edges are read as straight lines in longitude "
            "and latitude); give a jurisdiction there as two polygons, one each side",
            field="geometry",
        )


def _shapely_ring(ring: Ring) -> shapely.LinearRing:
    """A ring as a closed shapely ring in (lon, lat), built in one call."""
    return cast(shapely.LinearRing, shapely.linearrings(np.asarray(ring, dtype=float)[:, ::-1]))


def _shapely_polygon(exterior: Ring, holes: Sequence[Ring] = ()) -> shapely.Polygon:
    shell = _shapely_ring(exterior)
    if not holes:
        return shapely.polygons(shell)
    return shapely.polygons(shell, holes=[_shapely_ring(h) for h in holes])


def _where(reason: str) -> tuple[str, str]:
    """Split a GEOS reason into what is wrong and where, as 'near latitude …, longitude …'."""
    match = _REASON.match(reason)
    if match is None:
        return reason, ""
    try:
        lon, lat = float(match["x"]), float(match["y"])
    except ValueError:
        return match["what"], ""
    return match["what"], f" near latitude {lat:.6f}, longitude {lon:.6f}"


_PLAIN_REASONS = {
    "Self-intersection": "edges cross or overlap each other",
    "Ring Self-intersection": "a ring touches or runs along itself",
    "Too few points": "a ring needs at least 3 distinct points",
    "Holes are nested": "a hole lies inside another hole",
    "Interior is disconnected": (
        "its holes cut it into separate pieces (give each piece as its own polygon)"
    ),
    "Duplicate Rings": "two of its rings are the same",
    "Invalid Coordinate": "a coordinate is not a finite number",
}


def _invalid(subject: str, reason: str) -> InvalidInput:
    what, where = _where(reason)
    plain = _PLAIN_REASONS.get(what, what[:1].lower() + what[1:])
    return InvalidInput(
        f"{subject} is not a valid polygon: {plain}{where} (GEOS: {reason})",
        field="geometry",
        extra={"geometry_error": what},
    )


def _valid_shape(exterior: Ring, holes: tuple[Ring, ...]) -> shapely.Polygon:
    """The polygon as shapely geometry, or ``InvalidInput`` naming what GEOS finds wrong."""
    shell = _shapely_polygon(exterior)
    if not shapely.is_valid(shell):
        raise _invalid(_ring_name(0), shapely.is_valid_reason(shell))
    if holes:
        shapely.prepare(shell)
        for number, hole in enumerate(holes, start=1):
            gap = _shapely_polygon(hole)
            if not shapely.is_valid(gap):
                raise _invalid(_ring_name(number), shapely.is_valid_reason(gap))
            if not shell.contains(gap):
                raise InvalidInput(
                    f"ring {number} is a hole but does not lie inside the outer ring (the first "
                    "ring is the outline, the others are holes in it; a hole outside it or "
                    "across its edge would take away area the polygon does not have)",
                    field="geometry",
                    extra={"geometry_error": "Hole lies outside shell"},
                )
    shape = _shapely_polygon(exterior, holes)
    if not shapely.is_valid(shape):
        raise _invalid("the polygon", shapely.is_valid_reason(shape))
    shapely.prepare(shape)
    return shape


def _geodesic_area_m2(shape: shapely.Polygon) -> float:
    """The area on the WGS84 ellipsoid of a valid polygon read with straight lon-lat edges."""
    dense = shapely.segmentize(shape, AREA_SEGMENT_DEG)
    # Exterior counter-clockwise and holes clockwise, so pyproj's signed sum takes holes away.
    oriented = shapely_polygon.orient(dense, sign=1.0)
    area, _perimeter = _GEOD.geometry_area_perimeter(oriented)
    return abs(float(area))


def ring_area_m2(ring: Ring) -> float:
    """Return the area a simple ring encloses on the WGS84 ellipsoid, in square metres."""
    return _geodesic_area_m2(_shapely_polygon(ring))


def polygon_area_m2(shape: Polygon) -> float:
    """Return a polygon's area on the WGS84 ellipsoid in square metres, holes taken away."""
    return _geodesic_area_m2(shape.geometry)


def circle_area_m2(circle: Circle) -> float:
    """Return the area of a spherical cap of the circle's radius, in square metres.

    Requests are measured by the polygon that encloses the circle (``circle_polygon``), which is
    what they target; this is the circle itself, a little smaller.
    """
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
    """Return a polygon that encloses the circle (vertices pushed out so the edges clear it).

    A circle across the 180° meridian gives a polygon that is refused like any other there.
    """
    reach = circle.radius_m / math.cos(math.pi / sides)
    ring = tuple(destination(circle.centre, 2 * math.pi * i / sides, reach) for i in range(sides))
    return Polygon(ring)


def polygon_contains(shape: Polygon, point: LatLon) -> bool:
    """Return whether a point lies in the polygon (its edges included), outside its holes."""
    lat, lon = point
    return bool(shapely.intersects_xy(shape.geometry, lon, lat))


def region_contains(region: Region, point: LatLon) -> bool:
    """Return whether a point lies in any polygon of the region (edges included)."""
    lat, lon = point
    return bool(shapely.intersects_xy(region.geometry, lon, lat))


def polygon_within(inner: Polygon, outer: Region) -> bool:
    """Return whether every part of ``inner`` lies inside ``outer`` (their edges may touch)."""
    return bool(shapely.covers(outer.geometry, inner.geometry))


def _cell_outlines(cells: Sequence[str]) -> np.ndarray[Any, np.dtype[np.object_]]:
    """The cells' outlines as shapely polygons in (lon, lat), all built in one call.

    A cell across the 180° meridian is given as two copies, one each side, so that it meets
    the shapes on either side that touch the meridian.
    """
    coords: list[tuple[float, float]] = []
    indices: list[int] = []
    owners: list[int] = []
    for index, cell in enumerate(cells):
        corners = [(float(lon), float(lat)) for lat, lon in h3.cell_to_boundary(cell)]
        lons = [lon for lon, _ in corners]
        if max(lons) - min(lons) > 180:
            copies = [
                [(lon + 360 if lon < 0 else lon, lat) for lon, lat in corners],
                [(lon - 360 if lon > 0 else lon, lat) for lon, lat in corners],
            ]
        else:
            copies = [corners]
        for copy in copies:
            ring = len(owners)
            coords.extend([*copy, copy[0]])
            indices.extend([ring] * (len(copy) + 1))
            owners.append(index)
    rings = shapely.linearrings(np.array(coords), indices=np.array(indices))
    outlines = np.asarray(shapely.polygons(rings), dtype=object)
    if len(owners) == len(cells):
        return outlines
    return np.asarray(shapely.multipolygons(outlines, indices=np.array(owners)), dtype=object)


def _meeting(shape: shapely.Polygon, cells: Sequence[str]) -> tuple[list[str], list[str]]:
    """The cells whose outline meets the polygon, and those of them it does not cover."""
    if not cells:
        return [], []
    outlines = _cell_outlines(cells)
    meets = shapely.intersects(shape, outlines)
    hits = [cell for cell, hit in zip(cells, meets, strict=True) if hit]
    covered = shapely.covers(shape, outlines[meets])
    return hits, [cell for cell, inside in zip(hits, covered, strict=True) if not inside]


#: No degree of latitude or longitude is longer than this many metres.
_METRES_PER_DEGREE_AT_MOST = 111_700.0


def _samples(shape: Polygon, step_m: float) -> list[list[float]]:
    """Points along every edge of the polygon at most ``step_m`` apart, as [lat, lon] pairs."""
    chunks = []
    for ring in shape.rings():
        start = np.asarray(ring, dtype=float)
        span = np.roll(start, -1, axis=0) - start
        # Lengths in degrees times the longest degree over-count metres: never too few samples.
        length_m = _METRES_PER_DEGREE_AT_MOST * np.hypot(span[:, 0], span[:, 1])
        counts = np.maximum(1, np.ceil(length_m / step_m)).astype(int)
        edge = np.repeat(np.arange(len(ring)), counts)
        first = np.repeat(np.cumsum(counts) - counts, counts)
        t = (np.arange(int(counts.sum())) - first) / counts[edge]
        chunks.append(start[edge] + span[edge] * t[:, None])
    points: list[list[float]] = np.concatenate(chunks).tolist()
    return points


def cells_covering(shape: Polygon, resolution: int) -> frozenset[str]:
    """Return exactly the H3 cells at ``resolution`` whose hexagon meets the polygon.

    A cell is in the set iff its outline (``h3.cell_to_boundary``, straight lon-lat edges like
    the polygon's) intersects the polygon, edges included; each is tested with GEOS. A cell the
    polygon covers has its centre inside, so h3's polyfill (which reads edges the same way)
    lists it; any other cell that meets it holds part of its outline, and the cells along one
    ring are connected: they are found from the cells sampled along every edge, then from the
    neighbours of each one found, until no neighbour is left untested.
    """
    outline = h3.LatLngPoly(list(shape.exterior), *[list(hole) for hole in shape.holes])
    candidates = set(h3.h3shape_to_cells(outline, resolution))
    step = h3.average_hexagon_edge_length(resolution, unit="m") / 3
    along = {h3.latlng_to_cell(lat, lon, resolution) for lat, lon in _samples(shape, step)}
    for cell in along:
        candidates.update(h3.grid_disk(cell, 1))
    found: set[str] = set()
    tested: set[str] = set()
    frontier = candidates
    while frontier:
        tested |= frontier
        hits, along_outline = _meeting(shape.geometry, sorted(frontier))
        found.update(hits)
        frontier = {n for cell in along_outline for n in h3.grid_disk(cell, 1)} - tested
    return frozenset(found)


@functools.lru_cache(maxsize=65_536)
def cell_area_m2(cell: str) -> float:
    """The area on the WGS84 ellipsoid of one H3 cell's outline, in square metres.

    Measured as request areas are (straight longitude-latitude edges, ``Geod``), so what a
    request reaches and the area it states are on one scale. A cell across the 180° meridian is
    measured with its corners on one side of it.
    """
    corners = [(float(lon), float(lat)) for lat, lon in h3.cell_to_boundary(cell)]
    if max(lon for lon, _ in corners) - min(lon for lon, _ in corners) > 180:
        corners = [(lon + 360 if lon < 0 else lon, lat) for lon, lat in corners]
    return _geodesic_area_m2(shapely.Polygon(corners))


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
