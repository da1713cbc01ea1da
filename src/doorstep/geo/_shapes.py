"""Polygons, regions and circles on the Earth: validity, area and containment (see ``geometry``)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import cast

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
