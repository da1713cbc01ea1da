"""A request reaches no home outside the agency's jurisdiction, and shows what it does reach.

The attack (review of issue 18, items 1 and 7): requests were targeted by every public cell
their area met, and only the area was checked to lie inside the jurisdiction. A cell along the
border holds homes on both sides of it, so a 0.04 sq mi rectangle wholly inside the jurisdiction
asked an owner 55 m outside it, who could then share footage from outside (up to ~0.9 km past
the border at resolution 8). A request now reaches only the cells its area meets that lie wholly
inside the jurisdiction (the rule alerts obey), or is refused when none does; its public record
shows that reach.
"""

from __future__ import annotations

import math
import re
from typing import Any

import h3
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.agencies.test_api import owner_with_clip, verified_agency
from tests.cameras.test_api_devices import _camera
from tests.factories import resident
from tests.requests.test_api import post_rfa

pytestmark = pytest.mark.usefixtures("client")

RES = 8
#: The jurisdiction of ``verified_agency``: a box.
SOUTH, NORTH, WEST, EAST = 45.49, 45.57, -122.72, -122.60
#: A home 55 m south of the jurisdiction.
OUTSIDE = {"lat": 45.48995, "lon": -122.66}
SQUARE_METRES_PER_SQUARE_MILE = 2_589_988.110336
LatLon = tuple[float, float]


def _in_box(lat: float, lon: float) -> bool:
    return SOUTH <= lat <= NORTH and WEST <= lon <= EAST


def _cell_inside(cell: str) -> bool:
    return all(_in_box(float(lat), float(lon)) for lat, lon in h3.cell_to_boundary(cell))


def _rectangle(south: float, north: float, west: float, east: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def _post(agency: TestClient, csrf: str, case: str, area: dict[str, Any]) -> Any:
    return post_rfa(agency, csrf, case_number=case, centre=None, radius_m=None, polygon=area)


def _inbox(owner: TestClient) -> set[str]:
    listed = owner.get("/api/v1/inbox")
    assert listed.status_code == 200, listed.text
    return {item["request"]["id"] for item in listed.json()}


def _alerts(owner: TestClient) -> list[str]:
    return [alert["text"] for alert in owner.get("/api/v1/alerts").json()]


def _cells_met(south: float, north: float, west: float, east: float) -> set[str]:
    """Every resolution-8 cell the rectangle meets, found by sampling it densely."""
    cells = set()
    for i in range(101):
        for j in range(101):
            lat = south + (north - south) * i / 100
            lon = west + (east - west) * j / 100
            cells.add(h3.latlng_to_cell(lat, lon, RES))
    return cells


def test_the_reviewed_rectangle_never_asks_the_owner_outside(app: FastAPI) -> None:
    outside, _csrf, _clip = owner_with_clip(app, "outside@example.org", position=OUTSIDE)
    assert not _in_box(OUTSIDE["lat"], OUTSIDE["lon"])
    agency, csrf, _agency_id = verified_agency(app)
    # 0.04 sq mi, wholly inside the jurisdiction; it meets only the cell the outside home is in,
    # which sticks out of the jurisdiction: nothing inside is left to ask.
    area = _rectangle(45.4901, 45.4946, -122.66133, -122.65867)
    posted = _post(agency, csrf, "PPB-2026-0301", area)
    assert posted.status_code == 422, posted.text
    problem = posted.json()
    assert problem["reason"] == "no_cells_inside_jurisdiction"
    assert "inside" in problem["detail"]
    assert _inbox(outside) == set()
    assert _alerts(outside) == []


def test_an_area_at_the_border_reaches_only_the_cells_inside(app: FastAPI) -> None:
    outside, outside_csrf, outside_clip = owner_with_clip(
        app, "outside@example.org", position=OUTSIDE
    )
    south, north, west, east = 45.4901, 45.4990, -122.6625, -122.6575
    border_cell = h3.latlng_to_cell(OUTSIDE["lat"], OUTSIDE["lon"], RES)
    met = _cells_met(south, north, west, east)
    inside_cells = {cell for cell in met if _cell_inside(cell)}
    assert border_cell in met
    assert border_cell not in inside_cells
    assert inside_cells
    # An owner inside the jurisdiction in a cell wholly inside it, with footage in the window.
    cell = sorted(inside_cells)[0]
    lat, lon = h3.cell_to_latlng(cell)
    insider, _insider_csrf, insider_clip = owner_with_clip(
        app, "insider@example.org", position={"lat": lat, "lon": lon}, tmp_name="in.mp4"
    )
    agency, csrf, _agency_id = verified_agency(app)

    posted = _post(agency, csrf, "PPB-2026-0302", _rectangle(south, north, west, east))
    assert posted.status_code == 201, posted.text
    rfa = posted.json()
    # The owner outside was never asked, sees no alert, and cannot open or answer the request.
    assert rfa["id"] not in _inbox(outside)
    assert not any(rfa["id"] in text for text in _alerts(outside))
    assert outside.get(f"/api/v1/inbox/{rfa['id']}").status_code == 404
    shared = outside.post(
        f"/api/v1/inbox/{rfa['id']}/answer",
        json={"decision": "share", "clip_ids": [outside_clip]},
        headers={"x-csrf-token": outside_csrf},
    )
    assert shared.status_code == 404, shared.text
    preview = outside.get(f"/api/v1/inbox/{rfa['id']}/clips/{outside_clip}/preview")
    assert preview.status_code == 404
    # The owner inside was asked and sees their clip.
    assert rfa["id"] in _inbox(insider)
    clips = insider.get(f"/api/v1/inbox/{rfa['id']}").json()["clips"]
    assert [clip["id"] for clip in clips] == [insider_clip]
    assert rfa["reach"]["cells"] == len(inside_cells)


def test_the_reach_shown_is_the_cells_asked(app: FastAPI) -> None:
    south, north, west, east = 45.4901, 45.4990, -122.6625, -122.6575
    met = _cells_met(south, north, west, east)
    # One owner at the centre of every cell the area meets, inside the jurisdiction or not.
    owners: dict[str, TestClient] = {}
    for number, cell in enumerate(sorted(met)):
        owner = TestClient(app)
        lat, lon = h3.cell_to_latlng(cell)
        home = {"lat": lat, "lon": lon}
        owner_csrf = resident(owner, f"cell{number}@example.org", display_name="Owner", home=home)
        _camera(owner, owner_csrf, requests_opt_in=True)
        owners[cell] = owner
    agency, csrf, _agency_id = verified_agency(app)
    posted = _post(agency, csrf, "PPB-2026-0303", _rectangle(south, north, west, east))
    assert posted.status_code == 201, posted.text
    rfa = posted.json()

    asked = {cell for cell, owner in owners.items() if rfa["id"] in _inbox(owner)}
    assert asked == {cell for cell in met if _cell_inside(cell)}
    assert asked != met
    # What the record shows anyone is exactly what was asked: that many cells, that much area.
    shown = TestClient(app).get(f"/api/v1/requests/{rfa['id']}").json()["reach"]
    assert shown == rfa["reach"]
    assert shown["cells"] == len(asked)
    area_m2 = sum(h3.cell_area(cell, unit="m^2") for cell in asked)
    assert math.isclose(shown["sq_mi"] * SQUARE_METRES_PER_SQUARE_MILE, area_m2, rel_tol=0.01)
    page = TestClient(app).get(f"/rfa/{rfa['id']}")
    assert page.status_code == 200
    reach = re.search(r'data-testid="reach">([^<]*)<', page.text)
    assert reach is not None
    assert reach.group(1).startswith(f"{len(asked)} map cell")
    assert f"{shown['sq_mi']:.3f} sq mi" in reach.group(1)


def test_the_camera_map_counts_no_home_outside_the_jurisdiction(app: FastAPI) -> None:
    border_cell = h3.latlng_to_cell(OUTSIDE["lat"], OUTSIDE["lon"], RES)
    inside_cell = next(c for c in sorted(h3.grid_ring(border_cell, 2)) if _cell_inside(c))
    assert not _cell_inside(border_cell)
    clat, clon = h3.cell_to_latlng(border_cell)
    ilat, ilon = h3.cell_to_latlng(inside_cell)
    # Five cameras in the border cell (homes on both sides of the border), five well inside.
    homes = [(OUTSIDE["lat"], OUTSIDE["lon"] + 0.0005 * i) for i in range(3)]
    homes += [(clat, clon), (clat + 0.001, clon)]
    homes += [(ilat + 0.0005 * i, ilon) for i in range(5)]
    for number, (lat, lon) in enumerate(homes):
        owner = TestClient(app)
        home = {"lat": lat, "lon": lon}
        owner_csrf = resident(owner, f"map{number}@example.org", display_name="Owner", home=home)
        _camera(owner, owner_csrf, requests_opt_in=True)
    assert [h3.latlng_to_cell(lat, lon, RES) for lat, lon in homes[:5]] == [border_cell] * 5
    assert {h3.latlng_to_cell(lat, lon, RES) for lat, lon in homes[5:]} == {inside_cell}
    agency, _csrf, agency_id = verified_agency(app)
    shown = agency.get(f"/api/v1/agencies/{agency_id}/camera-map")
    assert shown.status_code == 200, shown.text
    counts = {cell["cell"]: cell["count"] for cell in shown.json()["cells"]}
    assert counts == {inside_cell: 5}
