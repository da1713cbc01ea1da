"""Random request areas, with holes and crossings: refused, or measured and targeted honestly (I10).

For every figure hypothesis draws, Doorstep either refuses it or accepts a polygon that GEOS finds
valid, whose accepted area is never less than the geodesic area (pyproj, WGS84) of the region it
reaches, and whose cells are exactly the H3 cells whose hexagon meets that region. The reference
area is measured here independently, with edges cut ten times finer; "never less" allows a
relative 1e-6 for that cutting and 1 m² for pyproj's floating point (its sums run over the whole
Earth's area), far below anything an agency could use (the smallest request is 64,750 m²).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import h3
import pytest
import shapely
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import polygon as shapely_polygon

from doorstep.errors import InvalidInput
from doorstep.geo.cells import Coordinates
from doorstep.geo.geometry import (
    AREA_SEGMENT_DEG,
    SQUARE_METRES_PER_SQUARE_MILE,
    Circle,
    LatLon,
    Polygon,
    cells_covering,
    circle_polygon,
    polygon_area_m2,
    polygon_contains,
    stored,
)
from doorstep.requests.rules import MAX_AREA_SQ_MI, MIN_AREA_SQ_MI, RfaDraft, check_rfa, polygon

GEOD = Geod(ellps="WGS84")
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
#: A jurisdiction far larger than any figure drawn below, around Portland.
CENTRE = (45.53, -122.66)
JURISDICTION = polygon([(45.40, -122.85), (45.40, -122.45), (45.66, -122.45), (45.66, -122.85)])
METRES_PER_DEGREE = 111_320.0
TOLERANCE = 1e-6
TOLERANCE_M2 = 1.0
T = TypeVar("T")
#: Modest runs keep the suite quick; no example database is written into the checkout.
EXAMPLES = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _offset(origin: LatLon, north_m: float, east_m: float) -> LatLon:
    lat, lon = origin
    return (
        lat + north_m / METRES_PER_DEGREE,
        lon + east_m / (METRES_PER_DEGREE * math.cos(math.radians(lat))),
    )


@st.composite
def rings(draw: st.DrawFn, centre: LatLon, radius: tuple[float, float]) -> list[LatLon]:
    """A ring around ``centre``: angles in order give a simple star, out of order a crossing."""
    count = draw(st.integers(3, 12))
    angles = draw(st.lists(st.floats(0, 2 * math.pi), min_size=count, max_size=count, unique=True))
    if draw(st.sampled_from([True, True, True, False])):
        angles.sort()
    lengths = draw(
        st.lists(st.floats(*radius), min_size=count, max_size=count),
    )
    return [
        _offset(centre, r * math.sin(a), r * math.cos(a))
        for a, r in zip(angles, lengths, strict=True)
    ]


@st.composite
def figures(draw: st.DrawFn) -> tuple[list[LatLon], list[list[LatLon]]]:
    """An outer ring and up to three holes, each inside, across or outside it, or crossing."""
    shell = draw(rings(CENTRE, (250.0, 900.0)))
    holes = []
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2, 3]))):
        where = _offset(CENTRE, draw(st.floats(-1_200, 1_200)), draw(st.floats(-1_200, 1_200)))
        holes.append(draw(rings(where, (20.0, 300.0))))
    return shell, holes


def _raw(shell: list[LatLon], holes: list[list[LatLon]]) -> shapely.Polygon:
    """The figure as drawn, in (lon, lat), with no check of any kind."""
    return shapely.Polygon(
        [(lon, lat) for lat, lon in shell], [[(lon, lat) for lat, lon in hole] for hole in holes]
    )


def _reference_area_m2(region: shapely.Polygon) -> float:
    """The region's geodesic area on WGS84, its straight lon-lat edges cut ten times finer."""
    dense = shapely.segmentize(region, AREA_SEGMENT_DEG / 10)
    area, _ = GEOD.geometry_area_perimeter(shapely_polygon.orient(dense, sign=1.0))
    return abs(float(area))


def _hexagon(cell: str) -> shapely.Polygon:
    return shapely.Polygon([(lon, lat) for lat, lon in h3.cell_to_boundary(cell)])


def _cells_meeting(region: shapely.Polygon, resolution: int) -> set[str]:
    """Every cell whose hexagon meets the region, by testing every cell of a wide enough disk."""
    west, south, east, north = region.bounds
    middle = h3.latlng_to_cell((south + north) / 2, (west + east) / 2, resolution)
    half_diagonal = h3.great_circle_distance((south, west), (north, east), unit="m") / 2
    k = math.ceil(half_diagonal / h3.average_hexagon_edge_length(resolution, unit="m")) + 2
    disk = h3.grid_disk(middle, k)
    meeting = {cell for cell in disk if region.intersects(_hexagon(cell))}
    # The disk was wide enough: nothing on its rim meets the region.
    assert not meeting & set(h3.grid_ring(middle, k))
    return meeting


def _check_accepted(shape: Polygon, accepted_m2: float) -> None:
    region = shape.geometry
    assert shapely.is_valid(region)
    assert accepted_m2 >= _reference_area_m2(region) * (1 - TOLERANCE) - TOLERANCE_M2
    for resolution in (8, 9):
        cells = cells_covering(shape, resolution)
        assert cells == _cells_meeting(region, resolution)
        # Where a camera in the region sits, its cell is targeted.
        inside = region.representative_point()
        points = [*shape.exterior, *(p for hole in shape.holes for p in hole), (inside.y, inside.x)]
        assert {h3.latlng_to_cell(lat, lon, resolution) for lat, lon in points} <= cells


def _attempt(make: Callable[[], T]) -> T | InvalidInput:
    """What ``make`` returns, or the ``InvalidInput`` it raises."""
    try:
        return make()
    except InvalidInput as refused:
        return refused


@EXAMPLES
@given(figures())
def test_a_figure_is_refused_or_valid_measured_and_targeted_exactly(
    figure: tuple[list[LatLon], list[list[LatLon]]],
) -> None:
    shell, holes = figure
    raw = _raw(shell, holes)
    shape = _attempt(lambda: polygon(shell, holes))
    if isinstance(shape, InvalidInput):
        # Refused with a reason, and only what GEOS also finds invalid.
        event("refused")
        assert shape.detail
        assert not shapely.is_valid(raw)
        return
    event("accepted")
    assert shapely.is_valid(raw)
    assert shape.geometry.equals(raw)
    _check_accepted(shape, polygon_area_m2(shape))
    probe = raw.representative_point()
    assert polygon_contains(shape, (probe.y, probe.x))


def _draft(area: Circle | Polygon) -> RfaDraft:
    return RfaDraft(
        case_number="24-001234",
        incident_type="Package theft",
        offence_category="burglary",
        description="A person in a red hoodie took two parcels from porches on Elm St.",
        area=area,
        start=NOW - timedelta(hours=3),
        end=NOW - timedelta(hours=2),
    )


@EXAMPLES
@given(figures())
def test_a_request_never_reaches_more_than_the_area_it_was_allowed(
    figure: tuple[list[LatLon], list[list[LatLon]]],
) -> None:
    shell, holes = figure
    rfa = _attempt(
        lambda: check_rfa(
            _draft(polygon(shell, holes)), jurisdiction=JURISDICTION, existing_for_case=0, now=NOW
        )
    )
    if isinstance(rfa, InvalidInput):
        event(f"refused: {rfa.extra.get('reason') or rfa.detail[:60]}")
        assert rfa.detail
        return
    event("accepted")
    accepted_m2 = rfa.area_sq_mi * SQUARE_METRES_PER_SQUARE_MILE
    assert MIN_AREA_SQ_MI <= rfa.area_sq_mi <= MAX_AREA_SQ_MI
    assert isinstance(rfa.area, Polygon)
    assert rfa.polygon == stored(rfa.area)
    _check_accepted(rfa.polygon, accepted_m2)
    assert rfa.cells == cells_covering(rfa.polygon, rfa.resolution)


@EXAMPLES
@given(
    st.floats(-500, 500),
    st.floats(-500, 500),
    st.floats(100.0, 700.0),
)
def test_a_circle_is_measured_by_the_polygon_it_reaches(
    north_m: float, east_m: float, radius_m: float
) -> None:
    lat, lon = _offset(CENTRE, north_m, east_m)
    circle = Circle(Coordinates(lat, lon), radius_m)
    rfa = _attempt(
        lambda: check_rfa(_draft(circle), jurisdiction=JURISDICTION, existing_for_case=0, now=NOW)
    )
    if isinstance(rfa, InvalidInput):
        assert rfa.extra["reason"] in ("area_too_small", "area_too_large")
        return
    reached = stored(circle_polygon(circle))
    assert rfa.polygon == reached
    accepted_m2 = rfa.area_sq_mi * SQUARE_METRES_PER_SQUARE_MILE
    # Never less than the circle itself (a cap of that radius), nor than the polygon reached.
    assert accepted_m2 >= math.pi * radius_m**2 * (1 - 0.01)
    _check_accepted(reached, accepted_m2)


def test_valid_figures_within_the_limits_are_accepted() -> None:
    """Not every figure is refused: a plain square with a hole inside is accepted."""
    outer = [_offset(CENTRE, n, e) for n, e in ((-400, -400), (-400, 400), (400, 400), (400, -400))]
    hole = [_offset(CENTRE, n, e) for n, e in ((-50, -50), (-50, 50), (50, 50))]
    rfa = check_rfa(
        _draft(polygon(outer, [hole])), jurisdiction=JURISDICTION, existing_for_case=0, now=NOW
    )
    assert rfa.area_sq_mi == pytest.approx(
        (800**2 - 50 * 100) / SQUARE_METRES_PER_SQUARE_MILE, rel=0.01
    )
    _check_accepted(rfa.polygon, rfa.area_sq_mi * SQUARE_METRES_PER_SQUARE_MILE)
