"""The H3 cells a polygon meets, and the area of one cell (see ``geometry``)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import h3
import numpy as np
import shapely

from doorstep.geo._shapes import Polygon, _geodesic_area_m2


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
