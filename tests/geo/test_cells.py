"""Location privacy: exact positions become H3 cells no finer than resolution 9."""

from __future__ import annotations

import math

import h3
import pytest

from doorstep.errors import InvalidInput
from doorstep.geo.cells import (
    Coordinates,
    cell_location,
    coarsen,
    distance_m,
    k_anonymous_counts,
    parse_coordinates,
    public_cell,
    public_location,
)

HOME = Coordinates(45.523612, -122.677144)


@pytest.mark.parametrize(
    ("lat", "lon"), [(90.1, 0), (-91, 0), (0, 180.01), (math.nan, 0), (0, math.inf)]
)
def test_impossible_coordinates_are_refused(lat: float, lon: float) -> None:
    with pytest.raises(InvalidInput):
        Coordinates(lat, lon)


def test_strings_and_booleans_are_not_coordinates() -> None:
    with pytest.raises(InvalidInput):
        Coordinates("45", 1)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        Coordinates(True, 1)


@pytest.mark.parametrize("text", ["", "45.5", "a, b", "1, 2, 3", "95, 0"])
def test_typed_coordinates_must_be_a_real_position(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_coordinates(text)


def test_typed_coordinates_are_parsed() -> None:
    assert parse_coordinates(" 45.5236 , -122.6771 ") == Coordinates(45.5236, -122.6771)


def test_public_cell_contains_the_home_and_is_coarse() -> None:
    cell = public_cell(HOME, 8)
    assert h3.get_resolution(cell) == 8
    assert h3.latlng_to_cell(HOME.lat, HOME.lon, 8) == cell
    with pytest.raises(ValueError, match="resolution"):
        public_cell(HOME, 10)


def test_the_public_centre_is_not_the_home() -> None:
    location = public_location(HOME, 9)
    centre = Coordinates(location.lat, location.lon)
    assert distance_m(centre, HOME) > 1
    assert h3.latlng_to_cell(location.lat, location.lon, 9) == location.cell


def test_cell_location_refuses_cells_finer_than_9() -> None:
    with pytest.raises(ValueError, match="resolution"):
        cell_location(h3.latlng_to_cell(HOME.lat, HOME.lon, 11))


def test_coarsen_goes_up_the_hierarchy() -> None:
    assert coarsen(public_cell(HOME, 9), 7) == public_cell(HOME, 7)


def test_small_counts_are_suppressed() -> None:
    cells = ["a"] * 5 + ["b"] * 4 + ["c"]
    assert k_anonymous_counts(cells, 5) == {"a": 5}
    assert k_anonymous_counts(cells, 1) == {"a": 5, "b": 4, "c": 1}
