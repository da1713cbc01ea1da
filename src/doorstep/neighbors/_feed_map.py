"""The feed's map: hexagons of the cells around home drawn as SVG, with no tiles from elsewhere."""

from __future__ import annotations

import math
from typing import Any

import h3

MAP_SIZE = 600
MAP_MARGIN = 12


def map_shapes(centre: str, cells: list[str], counts: dict[str, int]) -> list[dict[str, Any]]:
    """Hexagons of ``cells`` projected around ``centre`` into the map's pixel box."""
    lat0, lon0 = h3.cell_to_latlng(centre)
    squeeze = math.cos(math.radians(lat0))
    outlines = {
        cell: [((lon - lon0) * squeeze, lat0 - lat) for lat, lon in h3.cell_to_boundary(cell)]
        for cell in cells
    }
    xs = [x for outline in outlines.values() for x, _ in outline]
    ys = [y for outline in outlines.values() for _, y in outline]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1.0
    scale = (MAP_SIZE - 2 * MAP_MARGIN) / span
    shapes = []
    for cell, outline in outlines.items():
        count = counts.get(cell, 0)
        level = 0 if count == 0 else 1 if count == 1 else 2 if count < 5 else 3 if count < 10 else 4
        # One decimal of a pixel: the drawing is only as fine as the cell outlines it shows.
        points = " ".join(
            f"{MAP_MARGIN + (x - min(xs)) * scale:.1f},{MAP_MARGIN + (y - min(ys)) * scale:.1f}"
            for x, y in outline
        )
        # The same outline in degrees, for the street map the page draws when it can.
        ring = [[round(lat, 6), round(lon, 6)] for lat, lon in h3.cell_to_boundary(cell)]
        shapes.append(
            {
                "cell": cell,
                "count": count,
                "level": level,
                "points": points,
                "home": cell == centre,
                "ring": ring,
            }
        )
    return shapes


def street_map_cells(shapes: list[dict[str, Any]]) -> dict[str, Any]:
    """The same cells in degrees for the street map; a cell's shade follows its level."""
    cells = [
        {
            "ring": s["ring"],
            "count": s["count"],
            "home": s["home"],
            "level": 0.08 + 0.18 * s["level"],
        }
        for s in shapes
    ]
    return {"cells": cells}
