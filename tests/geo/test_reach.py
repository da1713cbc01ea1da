"""Alert cells: every home a cell reaches lies inside the jurisdiction, or the alert is refused."""

from __future__ import annotations

from typing import Any

import h3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from doorstep.errors import Conflict, Forbidden, InvalidInput
from doorstep.geo import geometry
from doorstep.geo import reach as alerts

RES = 8
SOUTH, NORTH, WEST, EAST = 45.49, 45.57, -122.72, -122.60
BOX: dict[str, Any] = {
    "type": "Polygon",
    "coordinates": [[[WEST, SOUTH], [EAST, SOUTH], [EAST, NORTH], [WEST, NORTH], [WEST, SOUTH]]],
}
CENTRE = (45.53, -122.66)


def _inside(cell: str) -> bool:
    return all(
        SOUTH <= float(lat) <= NORTH and WEST <= float(lon) <= EAST
        for lat, lon in h3.cell_to_boundary(cell)
    )


def test_the_coarse_cell_around_a_jurisdiction_is_refused() -> None:
    coarse = h3.latlng_to_cell(*CENTRE, 5)
    with pytest.raises(Forbidden) as refused:
        alerts.check_alert_cells([coarse], BOX, RES)
    assert refused.value.extra["cells_outside"] == [coarse]


def test_a_cell_inside_whose_children_stick_out_is_refused() -> None:
    # H3 cells do not nest: find a resolution-7 cell whose outline is inside the box while
    # one of its resolution-8 children pokes out.
    candidates = h3.grid_disk(h3.latlng_to_cell(*CENTRE, 7), 6)
    for cell in candidates:
        if _inside(cell) and not all(_inside(c) for c in h3.cell_to_children(cell, RES)):
            with pytest.raises(Forbidden):
                alerts.check_alert_cells([cell], BOX, RES)
            return
    pytest.skip("no resolution-7 cell here has children outside its own outline")


def test_cells_are_bounded_in_resolution_number_and_reach() -> None:
    home = h3.latlng_to_cell(*CENTRE, RES)
    with pytest.raises(InvalidInput, match="resolution 5 or finer"):
        alerts.check_alert_cells([h3.cell_to_parent(home, 4)], BOX, RES)
    with pytest.raises(InvalidInput, match="1 to"):
        alerts.check_alert_cells([], BOX, RES)
    with pytest.raises(InvalidInput, match="1 to"):
        alerts.check_alert_cells([home] * (alerts.MAX_ALERT_CELLS + 1), BOX, RES)
    with pytest.raises(InvalidInput, match="not an H3 cell"):
        alerts.check_alert_cells(["zzz"], BOX, RES)
    many = list(h3.grid_disk(h3.latlng_to_cell(*CENTRE, 5), 8))[: alerts.MAX_ALERT_CELLS]
    with pytest.raises(InvalidInput, match="at most"):
        alerts.normalise_cells(many, 9)
    # Finer than public cells: taken up to them.
    fine = h3.latlng_to_cell(*CENTRE, 12)
    assert alerts.check_alert_cells([fine], BOX, RES) == [home]


def test_an_outline_on_record_that_is_not_valid_is_never_repaired() -> None:
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[WEST, SOUTH], [EAST, NORTH], [EAST, SOUTH], [WEST, NORTH], [WEST, SOUTH]]
        ],
    }
    with pytest.raises(Conflict):
        alerts.check_alert_cells([h3.latlng_to_cell(*CENTRE, RES)], bowtie, RES)


def test_of_public_cells_only_those_wholly_inside_pass() -> None:
    inside = h3.latlng_to_cell(*CENTRE, RES)
    straddling = h3.latlng_to_cell(45.53, EAST, RES)
    region = geometry.parse_geojson(BOX).geometry
    assert alerts.public_cells_inside([inside, straddling], region) == {inside}
    # The same rule refuses the straddling cell as an alert.
    with pytest.raises(Forbidden):
        alerts.check_alert_cells([straddling], BOX, RES)
    assert alerts.check_alert_cells([inside], BOX, RES) == [inside]


def test_an_outline_of_parts_side_by_side_is_one_region() -> None:
    # Two halves of the box sharing an edge: read as one region, as requests read it.
    middle = (WEST + EAST) / 2
    halves: dict[str, Any] = {
        "type": "MultiPolygon",
        "coordinates": [
            [[[w, SOUTH], [e, SOUTH], [e, NORTH], [w, NORTH], [w, SOUTH]]]
            for w, e in ((WEST, middle), (middle, EAST))
        ],
    }
    across = h3.latlng_to_cell(45.53, middle, RES)
    assert _inside(across)
    assert alerts.check_alert_cells([across], halves, RES) == [across]


@settings(max_examples=60, deadline=None)
@given(
    lat=st.floats(45.40, 45.66),
    lon=st.floats(-122.82, -122.50),
    resolution=st.integers(5, RES),
)
def test_whatever_is_accepted_reaches_only_homes_inside(
    lat: float, lon: float, resolution: int
) -> None:
    cell = h3.latlng_to_cell(lat, lon, resolution)
    try:
        accepted = alerts.check_alert_cells([cell], BOX, RES)
    except Forbidden:
        return
    for reached in alerts.reach(accepted, RES).values():
        assert all(_inside(home) for home in reached)
