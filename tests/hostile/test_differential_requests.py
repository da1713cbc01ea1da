"""Differential requests (I1, I3): an agency that asks about nearly the same area learns nothing.

The attack of issue 18, item 3: three requests over one rectangle, the second with a 22 x 16 m
hole at one home and the third with the hole moved 33 m, answered "asked 14 / 13 / 14" and so
placed that home to about 20 m. Cameras are now asked by public cell alone, so a hole smaller
than a cell changes nobody asked; and two requests that differ by a few whole cells are refused,
so no cell's count can be read off as a difference.
"""

from __future__ import annotations

import math
from typing import Any

import h3
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from doorstep.transparency import counts as disclosure_counts
from doorstep.transparency.counts import CountRange
from tests.agencies.test_api import HOME, verified_agency
from tests.cameras.test_api_devices import _camera
from tests.factories import resident
from tests.requests.test_api import post_rfa

pytestmark = pytest.mark.usefixtures("client")

K = 5
RESOLUTION = 8
M_PER_DEG_LAT = 111_195.0
LatLon = tuple[float, float]


def _offset(lat: float, lon: float, north_m: float, east_m: float) -> LatLon:
    return (
        lat + north_m / M_PER_DEG_LAT,
        lon + east_m / (M_PER_DEG_LAT * math.cos(math.radians(lat))),
    )


def _ring(points: list[LatLon]) -> list[list[float]]:
    positions = [[lon, lat] for lat, lon in points]
    return [*positions, positions[0]]


def _rectangle(centre: LatLon, width_m: float, height_m: float) -> list[LatLon]:
    """Corners counter-clockwise from the south-west."""
    lat, lon = centre
    return [
        _offset(lat, lon, -height_m / 2, -width_m / 2),
        _offset(lat, lon, -height_m / 2, width_m / 2),
        _offset(lat, lon, height_m / 2, width_m / 2),
        _offset(lat, lon, height_m / 2, -width_m / 2),
    ]


def _owner(app: FastAPI, email: str, position: LatLon) -> tuple[TestClient, str]:
    owner = TestClient(app)
    home = {"lat": position[0], "lon": position[1]}
    csrf = resident(owner, email, display_name="Owner", home=home)
    _camera(owner, csrf, requests_opt_in=True)
    return owner, csrf


def _polygon(outer: list[LatLon], *holes: list[LatLon]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [_ring(outer), *(_ring(hole) for hole in holes)]}


def _post(agency: TestClient, csrf: str, case: str, polygon: dict[str, Any]) -> Any:
    return post_rfa(agency, csrf, case_number=case, centre=None, radius_m=None, polygon=polygon)


def _shown(counts: dict[str, Any]) -> list[CountRange]:
    return [
        CountRange(counts[name]["at_least"], counts[name]["at_most"], counts["k"])
        for name in ("asked", "shared", "clips_shared")
    ]


def test_a_hole_at_one_home_moved_from_request_to_request_tells_nothing(app: FastAPI) -> None:
    home = (HOME["lat"], HOME["lon"])
    # Fourteen homes about the target within the rectangle, the target among them.
    spots = [(0.0, 0.0)] + [
        (north, east)
        for north in (-180.0, -60.0, 60.0, 180.0)
        for east in (-150.0, -50.0, 50.0, 150.0)
        if (north, east) != (-60.0, -50.0)
    ][:13]
    owners = [
        _owner(app, f"home{i}@example.org", _offset(*home, north, east))
        for i, (north, east) in enumerate(spots)
    ]
    target, _target_csrf = owners[0]
    agency, csrf, _agency_id = verified_agency(app)

    # 0.37 sq mi around the target; a 22 x 16 m hole at its home, then the hole moved 33 m.
    outer = _rectangle(home, 990.0, 968.0)
    hole_here = list(reversed(_rectangle(home, 22.0, 16.0)))
    hole_moved = list(reversed(_rectangle(_offset(*home, 0.0, 33.0), 22.0, 16.0)))
    answers = [
        _post(agency, csrf, case, polygon)
        for case, polygon in (
            ("PPB-2026-0101", _polygon(outer)),
            ("PPB-2026-0102", _polygon(outer, hole_here)),
            ("PPB-2026-0103", _polygon(outer, hole_moved)),
        )
    ]
    accepted = [answer.json() for answer in answers if answer.status_code == 201]
    refused = [answer.json() for answer in answers if answer.status_code != 201]
    assert accepted, [answer.text for answer in answers]
    for problem in refused:
        assert problem["reason"] == "overlaps_earlier_request", problem
    # What the agency reads of each accepted request is the same, and coarse: the hole asked
    # one home fewer in the old code (14 / 13 / 14); now it changes nobody asked.
    seen = [agency.get(f"/api/v1/requests/{rfa['id']}").json()["counts"] for rfa in accepted]
    assert all(counts == seen[0] for counts in seen), seen
    assert all(disclosure_counts.is_coarse(shown) for shown in _shown(seen[0]))
    assert seen[0]["asked"]["at_least"] >= K
    # The home in the hole was asked by every request: no outline finer than a cell parts it
    # from its neighbours.
    reached = {item["request"]["id"] for item in target.get("/api/v1/inbox").json()}
    assert reached == {rfa["id"] for rfa in accepted}


def _cell_outline(cell: str, scale: float) -> list[LatLon]:
    """The cell's corners drawn ``scale`` of the way out from its centre (inside the cell)."""
    clat, clon = h3.cell_to_latlng(cell)
    return [
        (clat + (lat - clat) * scale, clon + (lon - clon) * scale)
        for lat, lon in h3.cell_to_boundary(cell)
    ]


def _with_spike(cell: str, neighbour: str, scale: float) -> list[LatLon]:
    """The shrunken cell with a 10 m wide spike out to the neighbour's centre."""
    corners = _cell_outline(cell, scale)
    nlat, nlon = h3.cell_to_latlng(neighbour)
    # The side facing the neighbour: the one whose middle is nearest its centre.
    sides = range(len(corners))
    side = min(
        sides,
        key=lambda i: math.dist(
            (
                (corners[i][0] + corners[(i + 1) % 6][0]) / 2,
                (corners[i][1] + corners[(i + 1) % 6][1]) / 2,
            ),
            (nlat, nlon),
        ),
    )
    a, b = corners[side], corners[(side + 1) % 6]
    mid = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
    along = (b[0] - a[0], b[1] - a[1])
    length = math.hypot(*along)
    # Five metres either side of the spike's axis, as a step along the side (in degrees).
    half = 5.0 / M_PER_DEG_LAT / length
    step = (along[0] * half, along[1] * half)
    spike = [
        (mid[0] - step[0], mid[1] - step[1]),
        (nlat - step[0], nlon - step[1]),
        (nlat + step[0], nlon + step[1]),
        (mid[0] + step[0], mid[1] + step[1]),
    ]
    return [*corners[: side + 1], *spike, *corners[side + 1 :]]


def test_two_requests_one_cell_apart_are_not_both_answered(app: FastAPI) -> None:
    cell = h3.latlng_to_cell(HOME["lat"], HOME["lon"], RESOLUTION)
    neighbour = sorted(h3.grid_ring(cell, 1))[0]
    # Homes in the cell, and one home alone in the neighbouring cell: the pair's difference.
    clat, clon = h3.cell_to_latlng(cell)
    for i in range(K + 2):
        _owner(app, f"home{i}@example.org", _offset(clat, clon, 20.0 * i - 60.0, 15.0))
    nlat, nlon = h3.cell_to_latlng(neighbour)
    _owner(app, "lone@example.org", (nlat, nlon))
    agency, csrf, _agency_id = verified_agency(app)

    first = _post(agency, csrf, "PPB-2026-0201", _polygon(_cell_outline(cell, 0.8)))
    assert first.status_code == 201, first.text
    second = _post(agency, csrf, "PPB-2026-0202", _polygon(_with_spike(cell, neighbour, 0.8)))
    # Answered, the pair would read the lone home's count off as the difference of theirs.
    assert second.status_code == 422, second.text
    problem = second.json()
    assert problem["reason"] == "overlaps_earlier_request"
    assert problem["request"] == first.json()["id"]
    # Nothing about who is where rides on the refusal.
    assert not {"asked", "shared", "counts"} & set(problem)
    # The other order is refused the same way: a request that drops a cell of an earlier one.
    other, other_csrf, _other_id = verified_agency(app, "Fire District 9", "fire@fd9.example")
    wide = _post(other, other_csrf, "FD9-1", _polygon(_with_spike(cell, neighbour, 0.8)))
    assert wide.status_code == 201, wide.text
    narrow = _post(other, other_csrf, "FD9-2", _polygon(_cell_outline(cell, 0.8)))
    assert narrow.status_code == 422, narrow.text
    assert narrow.json()["reason"] == "overlaps_earlier_request"
    # Exactly the same area again asks exactly the same owners: allowed, and reads the same.
    again = _post(agency, csrf, "PPB-2026-0203", _polygon(_cell_outline(cell, 0.8)))
    assert again.status_code == 201, again.text
    assert again.json()["counts"] == first.json()["counts"]


def test_refusal_is_about_cells_not_about_who_lives_there(app: FastAPI) -> None:
    # No camera anywhere: the near duplicate is refused all the same, so the refusal itself
    # tells nothing about the cameras in the cells that differ.
    cell = h3.latlng_to_cell(HOME["lat"], HOME["lon"], RESOLUTION)
    neighbour = sorted(h3.grid_ring(cell, 1))[0]
    agency, csrf, _agency_id = verified_agency(app)
    assert _post(agency, csrf, "A-1", _polygon(_cell_outline(cell, 0.8))).status_code == 201
    second = _post(agency, csrf, "A-2", _polygon(_with_spike(cell, neighbour, 0.8)))
    assert second.status_code == 422
    assert second.json()["reason"] == "overlaps_earlier_request"
