"""Polygons for request areas and jurisdictions: GEOS validity, the meridian, regions, cells."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import h3
import pytest
import shapely

from doorstep.errors import InvalidInput, PolicyRefused
from doorstep.geo.cells import Coordinates
from doorstep.geo.geometry import (
    MAX_AREA_POSITIONS,
    MAX_REGION_POSITIONS,
    MAX_REGION_RINGS,
    Circle,
    LatLon,
    Region,
    cells_covering,
    parse_geojson,
    polygon,
    polygon_area_m2,
    polygon_contains,
    polygon_within,
    region_contains,
)
from doorstep.requests.rules import RfaDraft, check_rfa

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SQUARE = [(45.50, -122.70), (45.50, -122.68), (45.52, -122.68), (45.52, -122.70)]


def _box(south: float, west: float, north: float, east: float) -> list[LatLon]:
    return [(south, west), (south, east), (north, east), (north, west)]


def _figure_eight(points: int) -> list[LatLon]:
    """Two lobes that cross in the middle, where no vertex lies, wound in opposite directions."""
    ring = []
    for i in range(points):
        t = 2 * math.pi * (i + 0.5) / points
        ring.append((45.51 + 0.005 * math.sin(t) * math.cos(t), -122.69 + 0.01 * math.cos(t)))
    return ring


def _refusal(make: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        make()
    return caught.value


@pytest.mark.parametrize("points", [8, 999, 1_200, 20_000])
def test_a_figure_eight_is_refused_at_any_size(points: int) -> None:
    refused = _refusal(lambda: polygon(_figure_eight(points)))
    assert "cross" in refused.detail
    assert "near latitude 45.51" in refused.detail


@pytest.mark.parametrize(
    "hole",
    [
        _box(0.01, 0.01, 0.02, 0.02),
        _box(45.515, -122.69, 45.53, -122.685),
        _box(45.49, -122.71, 45.53, -122.67),
    ],
    ids=["far-away", "across-the-edge", "around-the-outline"],
)
def test_a_hole_that_is_not_inside_its_outline_is_refused(hole: list[LatLon]) -> None:
    refused = _refusal(lambda: polygon(SQUARE, [hole]))
    assert "ring 1 is a hole but does not lie inside the outer ring" in refused.detail


@pytest.mark.parametrize(
    ("holes", "words"),
    [
        (
            [_box(45.505, -122.695, 45.515, -122.685), _box(45.507, -122.693, 45.51, -122.69)],
            "hole",
        ),
        (
            [_box(45.505, -122.695, 45.515, -122.685), _box(45.51, -122.69, 45.517, -122.683)],
            "cross",
        ),
        ([[(45.50, -122.69), (45.51, -122.68), (45.52, -122.69), (45.51, -122.70)]], "pieces"),
    ],
    ids=["nested", "overlapping", "cutting-it-apart"],
)
def test_holes_that_overlap_or_cut_the_polygon_apart_are_refused(
    holes: list[list[LatLon]], words: str
) -> None:
    refused = _refusal(lambda: polygon(SQUARE, holes))
    assert words in refused.detail


def test_a_hole_touching_its_outline_at_one_point_is_valid() -> None:
    shape = polygon(SQUARE, [[(45.50, -122.69), (45.505, -122.685), (45.505, -122.695)]])
    assert shapely.is_valid(shape.geometry)
    assert polygon_area_m2(shape) < polygon_area_m2(polygon(SQUARE))


def test_an_invalid_polygon_is_never_repaired() -> None:
    refused = _refusal(lambda: polygon([(0, 0), (1, 1), (1, 0), (0, 1)]))
    assert refused.extra["geometry_error"] == "Self-intersection"


def test_an_edge_across_the_180th_meridian_is_refused() -> None:
    refused = _refusal(lambda: polygon(_box(-17.0, 179.9, -16.9, -179.9)))
    assert "180° meridian" in refused.detail


def test_a_circle_across_the_meridian_is_refused_clearly() -> None:
    draft = RfaDraft(
        case_number="FJ-1",
        incident_type="Burglary",
        offence_category="burglary",
        description="A window was forced at the back of a house.",
        area=Circle(Coordinates(-16.95, 179.999), 300.0),
        start=NOW - timedelta(hours=2),
        end=NOW - timedelta(hours=1),
    )
    fiji = polygon(_box(-17.5, 177.0, -16.0, 180.0))
    refused = _refusal(lambda: check_rfa(draft, jurisdiction=fiji, existing_for_case=0, now=NOW))
    assert "180° meridian" in refused.detail


def test_a_cell_across_the_meridian_meets_the_parts_on_both_sides() -> None:
    east = polygon(_box(-0.01, 179.99, 0.01, 180.0))
    west = polygon(_box(-0.01, -180.0, 0.01, -179.99))
    straddling = h3.latlng_to_cell(0.0, 179.99999, 9)
    lons = [lon for _, lon in h3.cell_to_boundary(straddling)]
    assert max(lons) - min(lons) > 180
    assert straddling in cells_covering(east, 9)
    assert straddling in cells_covering(west, 9)
    # ... and nothing far away, as a cell read as a band round the world would.
    assert all(abs(h3.cell_to_latlng(c)[0]) < 0.02 for c in cells_covering(east, 9))


def test_a_region_is_the_union_of_its_parts() -> None:
    left = polygon(_box(45.50, -122.70, 45.52, -122.68))
    right = polygon(_box(45.50, -122.68, 45.52, -122.66))
    overlapping = polygon(_box(45.51, -122.69, 45.53, -122.67))
    region = Region((left, right, overlapping))
    across = polygon(_box(45.505, -122.69, 45.525, -122.67))
    assert polygon_within(across, region)
    assert region_contains(region, (45.525, -122.675))
    assert not polygon_within(polygon(_box(45.505, -122.69, 45.535, -122.67)), region)


def test_a_request_may_go_round_a_hole_in_the_jurisdiction_but_not_over_it() -> None:
    lake = _box(45.509, -122.691, 45.511, -122.689)
    jurisdiction = Region((polygon(SQUARE, [lake]),))
    over = polygon(_box(45.505, -122.695, 45.515, -122.685))
    around = polygon(over.exterior, [_box(45.508, -122.692, 45.512, -122.688)])
    assert not polygon_within(over, jurisdiction)
    assert polygon_within(around, jurisdiction)


def test_points_on_the_edge_are_inside_and_holes_are_not() -> None:
    shape = polygon(SQUARE, [_box(45.505, -122.695, 45.515, -122.685)])
    assert polygon_contains(shape, (45.50, -122.69))
    assert polygon_contains(shape, (45.502, -122.69))
    assert not polygon_contains(shape, (45.51, -122.69))
    assert not polygon_contains(shape, (45.53, -122.69))


def test_the_cells_of_a_holed_jurisdiction_are_exactly_those_meeting_it() -> None:
    shape = polygon(_box(45.45, -122.80, 45.60, -122.55), [_box(45.50, -122.72, 45.55, -122.62)])
    cells = cells_covering(shape, 8)
    middle = h3.latlng_to_cell(45.525, -122.675, 8)
    disk = h3.grid_disk(middle, 20)
    meeting = {
        c
        for c in disk
        if shape.geometry.intersects(
            shapely.Polygon([(lon, lat) for lat, lon in h3.cell_to_boundary(c)])
        )
    }
    assert not meeting & set(h3.grid_ring(middle, 20))
    assert cells == meeting
    assert middle not in cells


def test_a_request_outline_has_a_bounded_number_of_points() -> None:
    count = MAX_AREA_POSITIONS + 1
    ring = [
        (
            45.51 + 0.004 * math.sin(2 * math.pi * i / count),
            -122.69 + 0.006 * math.cos(2 * math.pi * i / count),
        )
        for i in range(count)
    ]
    draft = RfaDraft(
        case_number="PPB-1",
        incident_type="Burglary",
        offence_category="burglary",
        description="A window was forced at the back of a house.",
        area=polygon(ring),
        start=NOW - timedelta(hours=2),
        end=NOW - timedelta(hours=1),
    )
    with pytest.raises(PolicyRefused) as caught:
        check_rfa(draft, jurisdiction=polygon(SQUARE), existing_for_case=0, now=NOW)
    assert caught.value.extra["reason"] == "area_too_detailed"


def test_geojson_errors_name_the_polygon_and_ring() -> None:
    good = [
        [[-122.70, 45.50], [-122.68, 45.50], [-122.68, 45.52], [-122.70, 45.52], [-122.70, 45.50]]
    ]
    hole = [[0.01, 0.01], [0.02, 0.01], [0.02, 0.02], [0.01, 0.01]]
    refused = _refusal(
        lambda: parse_geojson({"type": "MultiPolygon", "coordinates": [good, [good[0], hole]]})
    )
    assert refused.detail.startswith("polygon 1: ring 1 is a hole")
    assert refused.field == "geometry"


def test_a_geometry_past_the_region_limits_is_refused_before_it_is_read() -> None:
    ring: list[Any] = [["not", "read"]] * (MAX_REGION_POSITIONS + 1)
    refused = _refusal(lambda: parse_geojson({"type": "Polygon", "coordinates": [ring]}))
    assert f"{MAX_REGION_POSITIONS:,} points" in refused.detail
    rings: list[Any] = [[["not", "read"]] * 4] * (MAX_REGION_RINGS + 1)
    refused = _refusal(lambda: parse_geojson({"type": "Polygon", "coordinates": rings}))
    assert f"{MAX_REGION_RINGS:,} rings" in refused.detail
