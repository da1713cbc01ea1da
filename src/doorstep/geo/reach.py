"""Where an agency alert may reach: whole public cells inside the agency's jurisdiction.

An alert given as H3 cells reaches every home whose public cell lies in one of them (a home's
public cell is matched against each alert cell and its parents). H3 cells do not nest exactly:
a coarse cell's descendants stick out of its outline. So an alert is judged by what it reaches:
every cell is expanded to its public-resolution descendants, and each of those must be covered
by the jurisdiction's outline. A cell sticking out, even by one public cell, is refused.

``public_cells_inside`` is that rule, and the only one: a Request for Assistance reaches only
those of the public cells its area meets that pass it (``domain.rfa``), its owners, clips and
feed alert alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import h3
import numpy as np
import shapely

from doorstep.errors import Conflict, Forbidden, InvalidInput
from doorstep.geo.geometry import parse_geojson

#: Alert cells coarser than this are refused: they are regions, not neighbourhoods.
COARSEST_ALERT_RESOLUTION = 5
#: Cells one alert may name.
MAX_ALERT_CELLS = 500
#: Public cells one alert may reach in all (the same bound as a jurisdiction's own cells).
MAX_ALERT_REACH = 50_000
#: Offending cells named in a refusal, at most.
_NAMED = 5


def _jurisdiction(region_geojson: dict[str, Any]) -> shapely.Geometry:
    """The outline on record read as every other rule reads it (``parse_geojson``), never repaired.

    Parts that touch or overlap are one region, as for requests; an outline GEOS finds invalid
    is refused, since a repaired one could cover more than the one verified.
    """
    try:
        return parse_geojson(region_geojson).geometry
    except (InvalidInput, AttributeError, KeyError, TypeError, ValueError) as err:
        raise Conflict("the agency's jurisdiction on record is not a valid outline") from err


def _outline(cell: str) -> shapely.Polygon:
    return shapely.Polygon([(float(lon), float(lat)) for lat, lon in h3.cell_to_boundary(cell)])


def public_cells_inside(public_cells: Iterable[str], jurisdiction: shapely.Geometry) -> set[str]:
    """Of public cells (homes' cells), those whose whole hexagon the jurisdiction covers.

    ``jurisdiction`` is the outline as shapely geometry (x=lon, y=lat). A cell on the border,
    even one touching the outline from inside with a corner outside, is not inside.
    """
    cells = sorted(set(public_cells))
    if not cells:
        return set()
    outlines = np.array([_outline(cell) for cell in cells], dtype=object)
    covered = shapely.covers(jurisdiction, outlines)
    return {cell for cell, inside in zip(cells, covered, strict=True) if inside}


def normalise_cells(cells: Sequence[object], public_resolution: int) -> list[str]:
    """Check the cells an alert names and bring finer ones up to the public resolution.

    Refused with ``InvalidInput`` (field ``cells``): none or too many, anything that is not an
    H3 cell, a cell coarser than ``COARSEST_ALERT_RESOLUTION``, or a reach over
    ``MAX_ALERT_REACH`` public cells.
    """
    if not cells or len(cells) > MAX_ALERT_CELLS:
        raise InvalidInput(f"an alert covers 1 to {MAX_ALERT_CELLS} cells", field="cells")
    coarsest = min(COARSEST_ALERT_RESOLUTION, public_resolution)
    clean: set[str] = set()
    for cell in cells:
        if not isinstance(cell, str) or not h3.is_valid_cell(cell):
            raise InvalidInput(f"{cell!r} is not an H3 cell", field="cells")
        resolution = h3.get_resolution(cell)
        if resolution < coarsest:
            raise InvalidInput(f"use cells of resolution {coarsest} or finer", field="cells")
        # Alerts go to areas, not doors: nothing finer than the public resolution.
        clean.add(
            h3.cell_to_parent(cell, public_resolution) if resolution > public_resolution else cell
        )
    reach = sum(7 ** (public_resolution - h3.get_resolution(cell)) for cell in clean)
    if reach > MAX_ALERT_REACH:
        raise InvalidInput(
            f"an alert may reach at most {MAX_ALERT_REACH:,} cells of resolution "
            f"{public_resolution}; this one would reach {reach:,}",
            field="cells",
        )
    return sorted(clean)


def reach(cells: Sequence[str], public_resolution: int) -> dict[str, list[str]]:
    """Each alert cell and the public cells (homes' cells) it reaches."""
    reached: dict[str, list[str]] = {}
    for cell in cells:
        if h3.get_resolution(cell) >= public_resolution:
            reached[cell] = [cell]
        else:
            reached[cell] = [str(c) for c in h3.cell_to_children(cell, public_resolution)]
    return reached


def _outside(
    cells: Sequence[str], jurisdiction: dict[str, Any], public_resolution: int
) -> list[str]:
    region = _jurisdiction(jurisdiction)
    reached = reach(cells, public_resolution)
    homes = {home for many in reached.values() for home in many}
    outside = homes - public_cells_inside(homes, region)
    return [cell for cell in cells if any(home in outside for home in reached[cell])]


def check_alert_cells(
    cells: Sequence[object], jurisdiction: dict[str, Any], public_resolution: int
) -> list[str]:
    """The cells an agency may alert, normalised; ``Forbidden`` if any reaches past its outline."""
    clean = normalise_cells(cells, public_resolution)
    outside = _outside(clean, jurisdiction, public_resolution)
    if outside:
        named = ", ".join(outside[:_NAMED]) + (" …" if len(outside) > _NAMED else "")
        raise Forbidden(
            "alerts may only cover the agency's own jurisdiction: these cells reach homes "
            f"outside it: {named}",
            extra={"cells_outside": outside[:_NAMED]},
        )
    return clean
