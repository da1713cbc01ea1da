"""An agency drawing a request area that is larger than the area Doorstep measures (I10).

Each test is an attack an agency could send through the API: a hole far outside the ring that is
subtracted anyway, a figure-eight ring whose lobes cancel in a signed sum (at a size the old
crossing check skipped), long straight edges whose geodesics cut into the region they bound, and
an outline that only breaks once stored. Each must be refused with a clear 4xx problem, and no
request is published (so no owner is asked). A jurisdiction gets the same checks.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from doorstep.accounts.roles import Role
from doorstep.geo.geometry import MAX_AREA_POSITIONS
from tests.agencies.test_api import HOME, staff, verified_agency
from tests.factories import resident
from tests.requests.test_api import post_rfa

METRES_PER_DEGREE = 111_320.0
SQUARE_METRES_PER_SQUARE_MILE = 2_589_988.110336
#: Inside the Portland jurisdiction of ``verified_agency``, around its test home.
ORIGIN = (HOME["lat"], HOME["lon"])


def _position(north_m: float, east_m: float, origin: tuple[float, float] = ORIGIN) -> list[float]:
    """A GeoJSON [lon, lat] position offset from ``origin`` by metres north and east."""
    lat, lon = origin
    return [
        lon + east_m / (METRES_PER_DEGREE * math.cos(math.radians(lat))),
        lat + north_m / METRES_PER_DEGREE,
    ]


def _square(side_m: float, origin: tuple[float, float]) -> list[list[float]]:
    half = side_m / 2
    ring = [
        _position(n, e, origin)
        for n, e in ((-half, -half), (-half, half), (half, half), (half, -half))
    ]
    return [*ring, ring[0]]


def _refused(response: Any) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["detail"]
    return problem


def _nothing_published(client: TestClient) -> None:
    assert client.get("/api/v1/requests").json() == []


def _post_polygon(agency: TestClient, csrf: str, rings: list[list[list[float]]]) -> Any:
    return post_rfa(
        agency, csrf, centre=None, radius_m=None, polygon={"type": "Polygon", "coordinates": rings}
    )


def test_a_hole_far_outside_the_ring_cannot_shrink_the_area(
    app: FastAPI, client: TestClient
) -> None:
    agency, csrf, _agency_id = verified_agency(app)
    # 2.81 sq mi drawn around the neighbourhood ...
    outer = _square(math.sqrt(2.81 * SQUARE_METRES_PER_SQUARE_MILE), ORIGIN)
    # ... and a 2.51 sq mi "hole" near 0°, 0°, so that outer - hole = 0.30 sq mi.
    hole = _square(math.sqrt(2.51 * SQUARE_METRES_PER_SQUARE_MILE), (0.05, 0.05))
    problem = _refused(_post_polygon(agency, csrf, [outer, hole]))
    assert problem["status"] == 422
    assert "hole" in problem["detail"]
    assert "outer ring" in problem["detail"]
    _nothing_published(client)


def test_a_hole_across_the_ring_is_refused(app: FastAPI, client: TestClient) -> None:
    agency, csrf, _agency_id = verified_agency(app)
    east, north = _position(0, 500)
    problem = _refused(
        _post_polygon(agency, csrf, [_square(1_000, ORIGIN), _square(600, (north, east))])
    )
    assert "hole" in problem["detail"]
    _nothing_published(client)


def _figure_eight(points: int, left_sq_mi: float, right_sq_mi: float) -> list[list[float]]:
    """A lemniscate of Gerono with lobes of the given areas, wound in opposite directions.

    x = a cos t, y = b sin t cos t: each lobe's area is 2ab/3, and its two halves cross at the
    middle, where no vertex lies, so the crossing is a true one.
    """
    height = 1_500.0
    ring = []
    for i in range(points):
        t = 2 * math.pi * (i + 0.5) / points
        lobe = left_sq_mi if math.cos(t) < 0 else right_sq_mi
        width = lobe * SQUARE_METRES_PER_SQUARE_MILE / (2 * height / 3)
        ring.append(_position(height * math.sin(t) * math.cos(t), width * math.cos(t)))
    return [*ring, ring[0]]


def test_a_figure_eight_of_1200_points_is_refused(app: FastAPI, client: TestClient) -> None:
    agency, csrf, _agency_id = verified_agency(app)
    # Lobes of 0.80 and 0.72 sq mi: a signed sum of the two makes 0.08 sq mi.
    problem = _refused(_post_polygon(agency, csrf, [_figure_eight(1_200, 0.80, 0.72)]))
    assert problem["status"] == 422
    assert "cross" in problem["detail"]
    _nothing_published(client)


def test_a_request_outline_has_a_bounded_number_of_points(app: FastAPI, client: TestClient) -> None:
    agency, csrf, _agency_id = verified_agency(app)
    count = MAX_AREA_POSITIONS + 1
    ring = [
        _position(400 * math.sin(2 * math.pi * i / count), 400 * math.cos(2 * math.pi * i / count))
        for i in range(count)
    ]
    problem = _refused(_post_polygon(agency, csrf, [[*ring, ring[0]]]))
    assert problem["reason"] == "area_too_detailed"
    _nothing_published(client)


def _county_agency(app: FastAPI) -> tuple[TestClient, str]:
    """A verified agency whose jurisdiction is a county-wide band 1.2° of longitude across."""
    agency = TestClient(app)
    csrf = resident(agency, "sheriff@county.example", display_name="Sheriff")
    west, east, south, north = -123.1, -121.9, 45.45, 45.56
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    body = {
        "name": "County Sheriff",
        "kind": "law_enforcement",
        "jurisdiction": {"type": "Polygon", "coordinates": [ring]},
        "contact": "records@county.example",
    }
    applied = agency.post("/api/v1/agencies", json=body, headers={"x-csrf-token": csrf})
    assert applied.status_code == 201, applied.text
    admin, admin_csrf = staff(app, "admin-county@doorstep.example", Role.ADMIN)
    verified = admin.post(
        f"/api/v1/agencies/{applied.json()['id']}/verify", headers={"x-csrf-token": admin_csrf}
    )
    assert verified.status_code == 200, verified.text
    return agency, csrf


def test_long_straight_edges_cannot_hide_area(app: FastAPI, client: TestClient) -> None:
    agency, csrf = _county_agency(app)
    # A band 89 m tall along the 45.5° parallel, 78 km long: 2.7 sq mi of cells and cameras.
    # Its south edge is one straight edge; the geodesic between its ends bows 122 m north,
    # past the north edge, so measuring the vertices with geodesic edges gives 0.24 sq mi.
    lat, west, east, height = 45.5, -123.0, -122.0, 0.0008
    north = [[east - (east - west) * i / 200, lat + height] for i in range(201)]
    ring = [[west, lat], [east, lat], *north, [west, lat]]
    problem = _refused(_post_polygon(agency, csrf, [ring]))
    assert problem["reason"] == "area_too_large"
    _nothing_published(client)


def test_a_figure_eight_jurisdiction_is_refused_at_any_size(client: TestClient) -> None:
    csrf = resident(client, "chief@eight.example")
    body = {
        "name": "Eight Police",
        "kind": "law_enforcement",
        "jurisdiction": {"type": "Polygon", "coordinates": [_figure_eight(1_200, 3.0, 2.0)]},
        "contact": "x@y.example",
    }
    problem = _refused(client.post("/api/v1/agencies", json=body, headers={"x-csrf-token": csrf}))
    assert problem["field"] == "jurisdiction"
    assert "cross" in problem["detail"]
    assert client.get("/api/v1/agencies/mine").status_code == 404


def test_a_hole_inside_the_ring_is_still_accepted_and_taken_away(app: FastAPI) -> None:
    agency, csrf, _agency_id = verified_agency(app)
    response = _post_polygon(agency, csrf, [_square(600, ORIGIN), _square(100, ORIGIN)])
    assert response.status_code == 201, response.text
    expected = (600**2 - 100**2) / SQUARE_METRES_PER_SQUARE_MILE
    assert math.isclose(response.json()["area_sq_mi"], expected, rel_tol=0.01)


def test_an_area_that_breaks_when_stored_is_refused(app: FastAPI, client: TestClient) -> None:
    """A slit 3 cm wide is valid as sent, but closes up when positions are kept to 0.1 m.

    Accepted, it would be stored as a ring that runs along itself, and the request's public page
    could not read it back: a request hidden from the public.
    """
    agency, csrf, _agency_id = verified_agency(app)
    west, east, south, north = -122.684, -122.674, 45.520, 45.528
    ring = [
        [west, south],
        [east, south],
        [east, 45.5240001],
        [-122.679, 45.5240001],
        [-122.679, 45.5240004],
        [east, 45.5240004],
        [east, north],
        [west, north],
        [west, south],
    ]
    problem = _refused(_post_polygon(agency, csrf, [ring]))
    assert problem["status"] == 422
    assert "decimal places" in problem["detail"]
    _nothing_published(client)
