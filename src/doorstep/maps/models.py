"""What maps deal in: places found by address search, the base map, and a street plan to draw."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Place:
    """An address and the point it names."""

    label: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class BaseMap:
    """The street base map pages draw under their maps, as its archive's header describes it.

    ``min_zoom`` and ``max_zoom`` are the archive's tile zooms; ``bounds`` is west, south, east,
    north and ``centre`` is lat, lon.
    """

    min_zoom: int
    max_zoom: int
    bounds: tuple[float, float, float, float]
    centre: tuple[float, float]
    tile_type: str
    attribution: str
    url: str = "/maps/base.pmtiles"


#: A line or a ring as (lon, lat) points.
Line = tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class Street:
    """A named street: its centre line, and its kind in the Protomaps basemap schema."""

    name: str
    line: Line
    kind: str = "minor_road"


@dataclass(frozen=True, slots=True)
class Area:
    """A named piece of land or water: ``layer`` and ``kind`` as in the Protomaps schema."""

    name: str
    ring: Line
    layer: str = "landuse"
    kind: str = "park"


@dataclass(frozen=True, slots=True)
class StreetPlan:
    """Everything a base map of a small neighbourhood shows."""

    name: str
    centre: tuple[float, float]
    bounds: tuple[float, float, float, float]
    streets: tuple[Street, ...]
    areas: tuple[Area, ...] = ()
    buildings: tuple[Line, ...] = ()
    attribution: str = ""
    places: tuple[Place, ...] = field(default=())
