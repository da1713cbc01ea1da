"""An agency's alert never reaches a home outside its jurisdiction, however its cells are chosen.

The attack: ``POST /api/v1/alerts`` with the resolution-5 cell around the jurisdiction (about
250 km²) was accepted because it overlapped one of the agency's cells, and a resident 11.9 km
outside received it. H3 cells do not nest exactly either, so a cell inside the outline may still
have descendants outside it. Every cell is judged by the homes it reaches.
"""

from __future__ import annotations

import math
from typing import Any

import h3
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.agencies.test_api import HOME, JURISDICTION, verified_agency
from tests.factories import resident
from tests.requests.test_api import post_rfa

RES = 8
#: The jurisdiction of ``verified_agency``: a box, so "outside" is easy to say exactly.
SOUTH, NORTH, WEST, EAST = 45.49, 45.57, -122.72, -122.60


def _inside(lat: float, lon: float) -> bool:
    return SOUTH <= lat <= NORTH and WEST <= lon <= EAST


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(h3.great_circle_distance(a, b, unit="km"))


def _from_box_km(lat: float, lon: float) -> float:
    nearest = (min(max(lat, SOUTH), NORTH), min(max(lon, WEST), EAST))
    return _km(nearest, (lat, lon))


def _alert(client: TestClient, csrf: str, cells: list[str], text: str = "Road closed") -> Any:
    return client.post(
        "/api/v1/alerts", json={"text": text, "cells": cells}, headers={"x-csrf-token": csrf}
    )


def _alerts_seen(client: TestClient) -> list[str]:
    return [alert["text"] for alert in client.get("/api/v1/alerts").json()]


def _far_child_of(coarse: str) -> tuple[float, float]:
    """The centre of the public cell under ``coarse`` farthest from the jurisdiction."""
    centres = [
        (float(lat), float(lon))
        for lat, lon in (h3.cell_to_latlng(cell) for cell in h3.cell_to_children(coarse, RES))
    ]
    return max(centres, key=lambda c: _from_box_km(*c))


@pytest.mark.usefixtures("client")
def test_the_coarse_cell_around_the_jurisdiction_is_refused(app: FastAPI) -> None:
    assert JURISDICTION["coordinates"][0][0] == [WEST, SOUTH]
    chief, csrf, _agency_id = verified_agency(app)
    coarse = h3.latlng_to_cell(HOME["lat"], HOME["lon"], 5)
    far_lat, far_lon = _far_child_of(coarse)
    assert _from_box_km(far_lat, far_lon) > 5
    inside, outside = TestClient(app), TestClient(app)
    resident(inside, "inside@example.org", home=HOME)
    resident(outside, "outside@example.org", home={"lat": far_lat, "lon": far_lon})

    refused = _alert(chief, csrf, [coarse], "Everyone in the region")
    assert refused.status_code == 403, refused.text
    assert coarse in refused.json()["cells_outside"]
    assert _alerts_seen(outside) == []
    assert _alerts_seen(inside) == []

    # The same alert over the home's own public cell is fine, and reaches only inside.
    home_cell = h3.latlng_to_cell(HOME["lat"], HOME["lon"], RES)
    assert _alert(chief, csrf, [home_cell], "Smoke on Burnside").status_code == 201
    assert _alerts_seen(inside) == ["Smoke on Burnside"]
    assert _alerts_seen(outside) == []


@pytest.mark.usefixtures("client")
def test_no_accepted_alert_reaches_a_home_outside_whatever_cells_are_tried(app: FastAPI) -> None:
    chief, csrf, _agency_id = verified_agency(app)
    # Neighbours just outside each side of the box, and one deep inside.
    outside_homes = [(45.53, EAST + 0.004), (45.53, WEST - 0.004), (SOUTH - 0.003, -122.66)]
    outside_homes.append((NORTH + 0.003, -122.66))
    outsiders = []
    for n, (lat, lon) in enumerate(outside_homes):
        assert not _inside(lat, lon)
        neighbour = TestClient(app)
        resident(neighbour, f"outside{n}@example.org", home={"lat": lat, "lon": lon})
        outsiders.append(neighbour)
    insider = TestClient(app)
    resident(insider, "inside@example.org", home=HOME)

    # Cells of every accepted resolution along and across each edge of the box.
    tried: set[str] = set()
    for resolution in (5, 6, 7, 8):
        for lat, lon in outside_homes:
            tried.update(h3.grid_disk(h3.latlng_to_cell(lat, lon, resolution), 1))
        tried.update(h3.grid_disk(h3.latlng_to_cell(HOME["lat"], HOME["lon"], resolution), 1))
    accepted = refused = 0
    for cell in sorted(tried):
        response = _alert(chief, csrf, [cell], f"Alert for {cell}")
        assert response.status_code in (201, 403), response.text
        if response.status_code == 201:
            accepted += 1
            # Whatever was accepted reaches only public cells wholly inside the outline.
            homes = h3.cell_to_children(cell, RES) if h3.get_resolution(cell) < RES else [cell]
            for home in homes:
                assert all(_inside(float(a), float(b)) for a, b in h3.cell_to_boundary(home))
        else:
            refused += 1
    assert accepted
    assert refused
    for neighbour in outsiders:
        assert _alerts_seen(neighbour) == []
    assert _alerts_seen(insider)


@pytest.mark.usefixtures("client")
def test_a_request_near_the_edge_puts_its_alert_only_on_homes_inside(app: FastAPI) -> None:
    chief, csrf, _agency_id = verified_agency(app)
    # A 300 m circle 330 m inside the east edge whose east end is in a cell sticking out of the
    # box, and whose west end is in a cell wholly inside it.
    for step in range(40):
        lat = 45.50 + step * 0.0015
        centre = (lat, EAST - 330 / (111_320 * math.cos(math.radians(lat))))
        east_point = (lat, centre[1] + 300 / (111_320 * math.cos(math.radians(lat))))
        edge_cell = h3.latlng_to_cell(*east_point, RES)
        corners = [(float(a), float(b)) for a, b in h3.cell_to_boundary(edge_cell)]
        outside_corner = max(corners, key=lambda c: c[1])
        west_point = (lat, 2 * centre[1] - east_point[1])
        west_cell = h3.latlng_to_cell(*west_point, RES)
        west_inside = all(_inside(float(a), float(b)) for a, b in h3.cell_to_boundary(west_cell))
        if outside_corner[1] > EAST + 0.001 and west_inside:
            break
    else:
        pytest.fail("no request near the edge touches a cell sticking out of the box")
    cell_centre = h3.cell_to_latlng(edge_cell)
    # A home in that cell but outside the box: between the cell's centre and its east corner.
    home = (
        (cell_centre[0] + outside_corner[0] * 3) / 4,
        (cell_centre[1] + outside_corner[1] * 3) / 4,
    )
    assert not _inside(*home)
    assert h3.latlng_to_cell(*home, RES) == edge_cell
    neighbour, insider = TestClient(app), TestClient(app)
    resident(neighbour, "edge@example.org", home={"lat": home[0], "lon": home[1]})
    resident(insider, "west@example.org", home={"lat": west_point[0], "lon": west_point[1]})

    posted = post_rfa(chief, csrf, centre={"lat": centre[0], "lon": centre[1]}, radius_m=300)
    assert posted.status_code == 201, posted.text
    assert _alerts_seen(neighbour) == []
    assert any(f"/rfa/{posted.json()['id']}" in text for text in _alerts_seen(insider))
