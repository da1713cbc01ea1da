"""Small counts are withheld (I1, I3), and cell counts are estimated low without listing cells."""

from __future__ import annotations

import h3
import pytest

from doorstep.errors import InvalidInput
from doorstep.geo.cells import Coordinates, cells_along, cells_in_area, k_anonymous_count


@pytest.mark.parametrize(("n", "shown"), [(0, None), (1, None), (4, None), (5, 5), (120, 120)])
def test_counts_under_k_are_withheld_zero_included(n: int, shown: int | None) -> None:
    assert k_anonymous_count(n, 5) == shown


def test_k_must_be_positive() -> None:
    with pytest.raises(ValueError, match="k must be"):
        k_anonymous_count(3, 0)


def test_an_integer_too_large_for_a_float_is_not_a_coordinate() -> None:
    with pytest.raises(InvalidInput, match="finite"):
        Coordinates(10**400, 0)


def test_the_area_estimate_uses_the_largest_nearby_cell() -> None:
    near = [(45.5, -122.6), (0.0, 10.0), (60.0, 10.0)]
    largest = max(h3.cell_area(h3.latlng_to_cell(lat, lon, 8), unit="m^2") for lat, lon in near)
    assert cells_in_area(largest * 1000, 8, near) == pytest.approx(1000)
    assert cells_in_area(-1.0, 8, near) == 0
    average = h3.average_hexagon_area(8, unit="m^2")
    assert cells_in_area(average * 10, 8, []) == pytest.approx(10)


def test_a_line_meets_a_cell_at_least_every_two_edges() -> None:
    edge = h3.average_hexagon_edge_length(8, unit="m")
    assert cells_along(edge * 200, 8) == pytest.approx(100)


def test_estimates_refuse_resolutions_finer_than_public() -> None:
    with pytest.raises(ValueError, match="resolution"):
        cells_along(1000.0, 10)
    with pytest.raises(ValueError, match="resolution"):
        cells_in_area(1000.0, 10, [])
