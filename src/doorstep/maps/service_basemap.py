"""Drawing a street plan as vector tiles in the Protomaps basemap schema, in one PMTiles archive.

protomaps-leaflet paints layers ``earth``, ``landuse``, ``water``, ``roads`` and ``buildings`` by
their ``kind`` and labels roads and places by ``name``; the demo's tiles use those names, so the
renderer that draws an OpenStreetMap extract from a Protomaps build draws them the same way.
"""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from doorstep.maps.models import Line, StreetPlan
from doorstep.maps.rules import tiles_over, world_xy
from doorstep.maps.rules_mvt import EXTENT, Feature, GeomType, encode_tile
from doorstep.maps.rules_pmtiles import Extent, build_archive

#: The demo's tile zooms: Protomaps builds stop at 15 too, and the renderer overzooms past it.
MIN_ZOOM = 12
MAX_ZOOM = 15
#: How far past its edge a tile's shapes reach, in tile units, so lines join without seams.
BUFFER = 64

_LAYERS = ("earth", "landuse", "water", "roads", "buildings", "places")


def _world(line: Line) -> list[tuple[float, float]]:
    return [world_xy(lon, lat) for lon, lat in line]


def _shapes(plan: StreetPlan) -> list[tuple[str, BaseGeometry, dict[str, Any]]]:
    """Every shape of the plan in world coordinates, with its layer and properties."""
    shapes: list[tuple[str, BaseGeometry, dict[str, Any]]] = []
    for area in plan.areas:
        properties: dict[str, Any] = {"kind": area.kind}
        if area.name:
            properties["name"] = area.name
        shapes.append((area.layer, Polygon(_world(area.ring)), properties))
    for street in plan.streets:
        properties = {"kind": street.kind, "name": street.name}
        shapes.append(("roads", LineString(_world(street.line)), properties))
    for ring in plan.buildings:
        shapes.append(("buildings", Polygon(_world(ring)), {"kind": "building"}))
    for place in plan.places:
        x, y = world_xy(place.lon, place.lat)
        shapes.append(("places", Point(x, y), {"kind": "locality", "name": place.label}))
    return shapes


def _parts(geometry: BaseGeometry, scale: float, x: int, y: int) -> list[Feature]:
    """The features of a clipped shape in the coordinates of tile (x, y)."""

    def local(coords: Any) -> list[tuple[int, int]]:
        return [
            (round((cx * scale - x) * EXTENT), round((cy * scale - y) * EXTENT))
            for cx, cy in coords
        ]

    features: list[Feature] = []
    for part in getattr(geometry, "geoms", [geometry]):
        if part.is_empty:
            continue
        if isinstance(part, Polygon):
            rings = [local(part.exterior.coords)] + [local(r.coords) for r in part.interiors]
            features.append(Feature(GeomType.POLYGON, rings))
        elif isinstance(part, LineString):
            features.append(Feature(GeomType.LINE, [local(part.coords)]))
        elif isinstance(part, Point):
            features.append(Feature(GeomType.POINT, [local(part.coords)]))
    return features


def tile(shapes: list[tuple[str, BaseGeometry, dict[str, Any]]], z: int, x: int, y: int) -> bytes:
    """The MVT bytes of tile z/x/y: land everywhere, then whatever of the plan falls in it."""
    scale = float(1 << z)
    pad = BUFFER / EXTENT
    box = ((x - pad) / scale, (y - pad) / scale, (x + 1 + pad) / scale, (y + 1 + pad) / scale)
    layers: dict[str, list[Feature]] = {name: [] for name in _LAYERS}
    land = shapely.box(*box)
    layers["earth"] = [
        Feature(f.geom_type, f.parts, {"kind": "earth"}) for f in _parts(land, scale, x, y)
    ]
    west, north, east, south = box
    for layer, shape, properties in shapes:
        left, top, right, bottom = shape.bounds
        if right < west or left > east or bottom < north or top > south:
            continue
        if layer == "places":
            if not shape.within(land):
                continue
            clipped: BaseGeometry = shape
        else:
            clipped = shapely.clip_by_rect(shape, *box)
        for feature in _parts(clipped, scale, x, y):
            layers[layer].append(Feature(feature.geom_type, feature.parts, properties))
    return encode_tile(layers)


def build(plan: StreetPlan) -> bytes:
    """The PMTiles archive of ``plan``: gzipped vector tiles over its bounds, zooms 12 to 15."""
    shapes = _shapes(plan)
    tiles = {
        (z, x, y): tile(shapes, z, x, y)
        for z in range(MIN_ZOOM, MAX_ZOOM + 1)
        for x, y in tiles_over(plan.bounds, z)
    }
    metadata = {
        "name": plan.name,
        "attribution": plan.attribution,
        "type": "baselayer",
        "format": "pbf",
        "vector_layers": [{"id": name, "fields": {}} for name in _LAYERS],
    }
    extent = Extent(MIN_ZOOM, MAX_ZOOM, plan.bounds, plan.centre, MAX_ZOOM)
    return build_archive(tiles, extent, metadata)
