import math
from datetime import UTC, datetime, timedelta
from typing import Any

import h3
import pytest

from doorstep.errors import InvalidInput, PolicyRefused
from doorstep.geo.cells import Coordinates
from doorstep.geo.geometry import (
    EARTH_RADIUS_M,
    SQUARE_METRES_PER_SQUARE_MILE,
    cells_covering,
    circle_area_m2,
    destination,
    polygon_area_m2,
    ring_area_m2,
)
from doorstep.geo.reach import public_cells_inside
from doorstep.requests.rules import (
    Circle,
    Polygon,
    Region,
    RfaDraft,
    check_rfa,
    is_about_assembly,
    parse_geojson,
    polygon,
    reach,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
START = NOW - timedelta(hours=5)
CENTRE = Coordinates(40.73, -73.99)
JURISDICTION = polygon([(40.70, -74.02), (40.70, -73.96), (40.76, -73.96), (40.76, -74.02)])
# Radius of a 0.1 square-mile circle.
RADIUS_M = 287.0


def draft(**changes: Any) -> RfaDraft:
    fields: dict[str, Any] = {
        "case_number": "24-001234",
        "incident_type": "Package theft",
        "offence_category": "burglary",
        "description": "A person in a red hoodie took two parcels from porches on Elm St.",
        "area": Circle(CENTRE, RADIUS_M),
        "start": START,
        "end": START + timedelta(hours=1),
        **changes,
    }
    return RfaDraft(**fields)


def refusal(
    changes: dict[str, Any], existing: int = 0, where: Polygon | Region = JURISDICTION
) -> str:
    with pytest.raises(PolicyRefused) as caught:
        check_rfa(draft(**changes), jurisdiction=where, existing_for_case=existing, now=NOW)
    reason: str = caught.value.extra["reason"]
    return reason


def test_a_good_request_is_validated() -> None:
    rfa = check_rfa(
        draft(case_number="  24-001234 "), jurisdiction=JURISDICTION, existing_for_case=1, now=NOW
    )
    assert rfa.case_number == "24-001234"
    assert rfa.area_sq_mi == pytest.approx(0.1, rel=0.01)
    assert h3.latlng_to_cell(CENTRE.lat, CENTRE.lon, rfa.resolution) in rfa.cells
    assert h3.latlng_to_cell(40.74, -73.99, rfa.resolution) not in rfa.cells


def test_every_camera_inside_the_area_falls_in_a_targeted_cell() -> None:
    rfa = check_rfa(draft(), jurisdiction=JURISDICTION, existing_for_case=0, now=NOW)
    inside = [
        destination(CENTRE, math.radians(bearing), distance)
        for bearing in range(0, 360, 3)
        for distance in (0.0, 100.0, 200.0, 280.0, 286.9)
    ]
    cells = {h3.latlng_to_cell(lat, lon, rfa.resolution) for lat, lon in inside}
    assert cells <= rfa.cells


def test_polygon_area_is_accepted_and_reaches_the_cells_it_meets() -> None:
    square = polygon([(40.725, -73.995), (40.725, -73.99), (40.729, -73.99), (40.729, -73.995)])
    rfa = check_rfa(draft(area=square), jurisdiction=JURISDICTION, existing_for_case=0, now=NOW)
    assert rfa.polygon == square
    assert rfa.cells == cells_covering(square, rfa.resolution)
    assert h3.latlng_to_cell(40.727, -73.992, rfa.resolution) in rfa.cells
    assert h3.latlng_to_cell(40.727, -73.98, rfa.resolution) not in rfa.cells
    assert h3.latlng_to_cell(40.7251, -73.9949, rfa.resolution) in rfa.cells


def _inside_box(cell: str, box: Polygon) -> bool:
    (south, west), (north, east) = box.exterior[0], box.exterior[2]
    corners = [(float(lat), float(lon)) for lat, lon in h3.cell_to_boundary(cell)]
    return all(south <= lat <= north and west <= lon <= east for lat, lon in corners)


def test_an_area_at_the_border_reaches_only_the_cells_inside_the_jurisdiction() -> None:
    # Wholly inside, along the south edge: some cells it meets stick out of the jurisdiction.
    strip = polygon([(40.7001, -73.995), (40.7001, -73.99), (40.7041, -73.99), (40.7041, -73.995)])
    rfa = check_rfa(draft(area=strip), jurisdiction=JURISDICTION, existing_for_case=0, now=NOW)
    meets = cells_covering(strip, rfa.resolution)
    sticking_out = {cell for cell in meets if not _inside_box(cell, JURISDICTION)}
    assert sticking_out
    assert rfa.cells == meets - sticking_out
    assert all(_inside_box(cell, JURISDICTION) for cell in rfa.cells)
    # The one rule alerts obey decides it.
    assert rfa.cells == public_cells_inside(meets, JURISDICTION.geometry)


def test_an_area_reaching_no_cell_inside_the_jurisdiction_is_refused() -> None:
    # A jurisdiction smaller than one cell: no cell lies wholly inside it.
    small = polygon([(40.727, -73.993), (40.727, -73.987), (40.733, -73.987), (40.733, -73.993)])
    with pytest.raises(PolicyRefused) as caught:
        check_rfa(
            draft(area=Circle(CENTRE, 150.0)), jurisdiction=small, existing_for_case=0, now=NOW
        )
    assert caught.value.extra["reason"] == "no_cells_inside_jurisdiction"
    assert caught.value.field == "area"
    assert "inside" in caught.value.detail


def test_the_reach_is_the_cells_and_their_area() -> None:
    rfa = check_rfa(draft(), jurisdiction=JURISDICTION, existing_for_case=0, now=NOW)
    shown = rfa.reach
    assert shown == reach(rfa.cells)
    assert shown.cells == len(rfa.cells)
    total = sum(h3.cell_area(cell, unit="m^2") for cell in rfa.cells)
    assert shown.sq_mi * SQUARE_METRES_PER_SQUARE_MILE == pytest.approx(total, rel=0.01)
    # A cell's hexagon is larger than the drawn area's share of it: the reach is never less.
    assert shown.sq_mi >= rfa.area_sq_mi


@pytest.mark.parametrize("case_number", ["", "   "])
def test_case_number_is_required(case_number: str) -> None:
    assert refusal({"case_number": case_number}) == "case_number_missing"


@pytest.mark.parametrize(
    ("radius", "reason"),
    [
        (100.0, "area_too_small"),
        (143.0, "area_too_small"),
        (643.0, "area_too_large"),
        (2000.0, "area_too_large"),
    ],
)
def test_area_must_be_between_the_limits(radius: float, reason: str) -> None:
    assert refusal({"area": Circle(CENTRE, radius)}) == reason


@pytest.mark.parametrize("radius", [144.0, 641.0])
def test_area_limits_are_inclusive_of_nearby_sizes(radius: float) -> None:
    rfa = check_rfa(
        draft(area=Circle(CENTRE, radius)), jurisdiction=JURISDICTION, existing_for_case=0, now=NOW
    )
    assert 0.025 <= rfa.area_sq_mi <= 0.5


@pytest.mark.parametrize(
    "centre",
    [Coordinates(40.80, -73.99), Coordinates(40.7015, -73.99), Coordinates(40.73, -73.9605)],
    ids=["far-outside", "straddles-south-edge", "straddles-east-edge"],
)
def test_area_must_lie_wholly_in_the_jurisdiction(centre: Coordinates) -> None:
    assert refusal({"area": Circle(centre, RADIUS_M)}) == "outside_jurisdiction"


def test_a_hole_in_the_jurisdiction_inside_the_area_is_refused() -> None:
    hole = [(40.7295, -73.9905), (40.7295, -73.9895), (40.7305, -73.9895), (40.7305, -73.9905)]
    holed = polygon(JURISDICTION.exterior, [hole])
    assert refusal({}, where=holed) == "outside_jurisdiction"


def test_any_polygon_of_a_multi_polygon_jurisdiction_will_do() -> None:
    far = polygon([(51.0, 0.0), (51.0, 0.1), (51.1, 0.1), (51.1, 0.0)])
    region = Region((far, JURISDICTION))
    rfa = check_rfa(draft(), jurisdiction=region, existing_for_case=0, now=NOW)
    assert h3.latlng_to_cell(CENTRE.lat, CENTRE.lon, rfa.resolution) in rfa.cells


@pytest.mark.parametrize(
    ("length", "reason"),
    [
        (timedelta(minutes=14, seconds=59), "window_too_short"),
        (timedelta(hours=12, seconds=1), "window_too_long"),
    ],
)
def test_window_length_limits(length: timedelta, reason: str) -> None:
    assert refusal({"end": START + length}) == reason


@pytest.mark.parametrize("length", [timedelta(minutes=15), timedelta(hours=12)])
def test_window_limits_are_inclusive(length: timedelta) -> None:
    start = NOW - timedelta(hours=13)
    rfa = check_rfa(
        draft(start=start, end=start + length),
        jurisdiction=JURISDICTION,
        existing_for_case=0,
        now=NOW,
    )
    assert rfa.end - rfa.start == length


def test_window_must_be_in_the_past() -> None:
    assert (
        refusal({"start": NOW - timedelta(minutes=30), "end": NOW + timedelta(minutes=1)})
        == "window_not_past"
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"start": START.replace(tzinfo=None)},
        {"end": START.replace(tzinfo=None) + timedelta(hours=1)},
        {"end": START},
        {"end": START - timedelta(hours=1)},
    ],
)
def test_malformed_windows_are_invalid_input(changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_rfa(draft(**changes), jurisdiction=JURISDICTION, existing_for_case=0, now=NOW)
    assert not isinstance(caught.value, PolicyRefused)


@pytest.mark.parametrize("existing", [2, 3])
def test_at_most_two_requests_per_case(existing: int) -> None:
    assert refusal({}, existing=existing) == "case_limit"


ASSEMBLY_TEXTS = [
    "Protest on Main St",
    "Looking for footage of the protesters",
    "DEMONSTRATION outside city hall",
    "Marchers blocked the road",
    "Rally at the park",
    "Union picket line",
    "Candlelight vigil",
    "Unlawful assembly",
    "Workers on strike",
    "Sit-in at the library",
]


@pytest.mark.parametrize("text", ASSEMBLY_TEXTS)
def test_requests_about_assembly_are_refused(text: str) -> None:
    assert is_about_assembly(text)
    assert refusal({"description": text}) == "protest"


def test_incident_type_is_checked_for_assembly_too() -> None:
    assert refusal({"incident_type": "Rally disturbance"}) == "protest"


@pytest.mark.parametrize(
    "text",
    [
        "Burglary on 3 March, rear window forced",
        "Break-in on March 14th",
        "Car broken into in March 2026",
        "Paint thrown over a white picket fence",
        "Man in grey hoodie damaged a car",
        "Marchetti bakery window smashed",
        "Remonstrated with the driver, then he left",
    ],
)
def test_similar_words_are_not_assembly(text: str) -> None:
    assert not is_about_assembly(text)


def test_race_only_description_is_refused() -> None:
    assert refusal({"description": "Looking for a black male"}) == "race_only"


def test_octant_of_the_earth_has_an_eighth_of_its_area() -> None:
    # Edges are straight in longitude and latitude: the octant is the box 0-90° by 0-90°.
    octant = ((0.0, 0.0), (0.0, 90.0), (90.0, 90.0), (90.0, 0.0))
    assert ring_area_m2(octant) == pytest.approx(4 * math.pi * EARTH_RADIUS_M**2 / 8, rel=1e-8)


def test_small_square_area_matches_the_flat_estimate_on_the_ellipsoid() -> None:
    side = 0.01
    square = polygon([(0.0, 0.0), (0.0, side), (side, side), (side, 0.0)])
    # At the equator a degree of latitude spans a(1 - e²) radians' worth, of longitude a.
    a, e2 = 6_378_137.0, 0.00669437999014
    flat = a * (1 - e2) * a * math.radians(side) ** 2
    assert polygon_area_m2(square) == pytest.approx(flat, rel=1e-4)


def test_ring_direction_does_not_change_area() -> None:
    ring = JURISDICTION.exterior
    assert ring_area_m2(ring) == pytest.approx(ring_area_m2(tuple(reversed(ring))))


def test_holes_are_subtracted() -> None:
    outer = [(0.0, 0.0), (0.0, 0.02), (0.02, 0.02), (0.02, 0.0)]
    hole = [(0.005, 0.005), (0.005, 0.015), (0.015, 0.015), (0.015, 0.005)]
    assert polygon_area_m2(polygon(outer, [hole])) == pytest.approx(
        polygon_area_m2(polygon(outer)) * 0.75, rel=1e-4
    )


def test_circle_area_is_close_to_pi_r_squared() -> None:
    assert circle_area_m2(Circle(CENTRE, 500.0)) == pytest.approx(math.pi * 500.0**2, rel=1e-6)


@pytest.mark.parametrize("radius", [0.0, -5.0, math.nan, math.inf])
def test_circle_needs_a_positive_finite_radius(radius: float) -> None:
    with pytest.raises(InvalidInput):
        Circle(CENTRE, radius)


SQUARE_GEOJSON = [[-74.0, 40.7], [-73.99, 40.7], [-73.99, 40.71], [-74.0, 40.71], [-74.0, 40.7]]


def test_geojson_polygon_is_parsed_as_lat_lon() -> None:
    region = parse_geojson({"type": "Polygon", "coordinates": [SQUARE_GEOJSON]})
    assert region.polygons[0].exterior[0] == (40.7, -74.0)
    assert len(region.polygons[0].exterior) == 4


def test_geojson_multipolygon_with_a_hole() -> None:
    hole = [[-73.996, 40.704], [-73.994, 40.704], [-73.994, 40.706], [-73.996, 40.704]]
    other = [[p[0] + 1, p[1]] for p in SQUARE_GEOJSON]
    region = parse_geojson(
        {"type": "MultiPolygon", "coordinates": [[SQUARE_GEOJSON, hole], [other]]}
    )
    assert len(region.polygons) == 2
    assert len(region.polygons[0].holes) == 1


BAD_GEOJSON: list[Any] = [
    {"type": "Point", "coordinates": [0, 0]},
    {"type": "Polygon"},
    {"type": "Polygon", "coordinates": []},
    {"type": "Polygon", "coordinates": [SQUARE_GEOJSON[:3]]},
    {"type": "Polygon", "coordinates": [SQUARE_GEOJSON[:-1] + [[-74.0, 40.705]]]},
    {
        "type": "Polygon",
        "coordinates": [[[-74.0, math.nan], *SQUARE_GEOJSON[1:-1], [-74.0, math.nan]]],
    },
    {"type": "Polygon", "coordinates": [[[-74.0, math.inf], *SQUARE_GEOJSON[1:]]]},
    {"type": "Polygon", "coordinates": [[[200.0, 40.7], *SQUARE_GEOJSON[1:-1], [200.0, 40.7]]]},
    {"type": "Polygon", "coordinates": [[[-74.0, 95.0], *SQUARE_GEOJSON[1:-1], [-74.0, 95.0]]]},
    {"type": "Polygon", "coordinates": [[[True, 40.7], *SQUARE_GEOJSON[1:]]]},
    # JSON integers have no size limit; one too large for a float must not become an overflow.
    {"type": "Polygon", "coordinates": [[[10**400, 40.7], *SQUARE_GEOJSON[1:-1], [10**400, 40.7]]]},
    {"type": "Polygon", "coordinates": [["-74.0,40.7", *SQUARE_GEOJSON[1:]]]},
    {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
    {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0], [1, 1], [0, 0]]]},
    {"type": "MultiPolygon", "coordinates": []},
    "Polygon",
]


@pytest.mark.parametrize("geometry", BAD_GEOJSON)
def test_malformed_geojson_is_refused_clearly(geometry: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_geojson(geometry)
    assert caught.value.field == "geometry"
