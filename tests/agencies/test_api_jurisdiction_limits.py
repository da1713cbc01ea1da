"""Applying with a huge or malformed jurisdiction: a clear 4xx problem, never a 500 or a wait."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.agencies.test_api import JURISDICTION
from tests.factories import resident

#: A rough outline of mainland Australia ([lon, lat]): millions of cells at any public resolution.
CONTINENT: dict[str, Any] = {
    "type": "Polygon",
    "coordinates": [
        [
            [113.5, -22.0],
            [114.0, -34.5],
            [117.5, -35.0],
            [129.0, -31.5],
            [135.0, -34.5],
            [138.5, -35.0],
            [141.0, -38.5],
            [146.0, -39.0],
            [150.0, -37.5],
            [153.5, -28.0],
            [153.0, -25.0],
            [146.0, -19.0],
            [142.5, -10.7],
            [141.5, -13.0],
            [141.0, -17.0],
            [136.0, -12.0],
            [130.5, -11.5],
            [129.0, -15.0],
            [125.0, -14.0],
            [122.0, -17.5],
            [113.5, -22.0],
        ]
    ],
}
PORTLAND = JURISDICTION["coordinates"][0]


def _circle(lat: float, lon: float, radius_deg: float, points: int) -> list[list[float]]:
    ring = [
        [
            round(lon + radius_deg * math.cos(2 * math.pi * i / points), 7),
            round(lat + radius_deg * math.sin(2 * math.pi * i / points), 7),
        ]
        for i in range(points)
    ]
    return [*ring, ring[0]]


def _figure_eight(lat: float, lon: float, size_deg: float, points: int) -> list[list[float]]:
    """A lemniscate whose two lobes cross in the middle, where no vertex lies."""
    ring = []
    for i in range(points):
        t = 2 * math.pi * (i + 0.5) / points
        ring.append(
            [
                round(lon + size_deg * math.cos(t), 7),
                round(lat + size_deg * math.sin(t) * math.cos(t), 7),
            ]
        )
    return [*ring, ring[0]]


def test_finely_drawn_rings_are_checked_and_accepted(client: TestClient) -> None:
    csrf = resident(client, "chief@fine.example")
    detailed = {
        "type": "MultiPolygon",
        "coordinates": [[_circle(45.53, -122.70 + 0.03 * i, 0.01, 1_000)] for i in range(3)],
    }
    response = _apply(client, csrf, detailed)
    assert response.status_code == 201, response.text[:300]


def _triangle(i: int) -> list[list[list[float]]]:
    lon, lat = -122.70 + (i % 50) * 0.002, 45.50 + (i // 50) * 0.001
    return [[[lon, lat], [lon + 0.001, lat], [lon, lat + 0.0005], [lon, lat]]]


def _apply_text(client: TestClient, csrf: str, jurisdiction_json: str) -> Any:
    """Apply through the API with the jurisdiction as raw JSON text (NaN and all)."""
    body = (
        '{"name": "Somewhere Police", "kind": "law_enforcement", "contact": "x@y.example", '
        f'"jurisdiction": {jurisdiction_json}}}'
    )
    return client.post(
        "/api/v1/agencies",
        content=body.encode(),
        headers={"x-csrf-token": csrf, "content-type": "application/json"},
    )


def _apply(client: TestClient, csrf: str, jurisdiction: Any) -> Any:
    return _apply_text(client, csrf, json.dumps(jurisdiction))


def _problem(response: Any) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["status"] == response.status_code
    assert problem["detail"]
    return problem


def test_a_continent_is_refused_clearly(client: TestClient) -> None:
    csrf = resident(client, "chief@big.example")
    problem = _problem(_apply(client, csrf, CONTINENT))
    assert problem["status"] == 422
    assert problem["type"] == "/problems/invalid-input"
    assert problem["field"] == "jurisdiction"
    assert "too large to map" in problem["detail"]
    assert problem["max_cells"] == 50_000
    assert problem["estimated_cells"] > 100 * problem["max_cells"]
    # Nothing was stored: the same account may then apply with its real jurisdiction.
    assert client.get("/api/v1/agencies/mine").status_code == 404
    ok = _apply(client, csrf, JURISDICTION)
    assert ok.status_code == 201, ok.text


def test_a_thin_sliver_across_a_continent_is_refused(client: TestClient) -> None:
    csrf = resident(client, "chief@sliver.example")
    sliver = {
        "type": "Polygon",
        "coordinates": [[[0, 0], [40.001, 40], [40, 40.0005], [0, 0.0001], [0, 0]]],
    }
    problem = _problem(_apply(client, csrf, sliver))
    assert problem["field"] == "jurisdiction"
    assert "too spread out to map" in problem["detail"]


MALFORMED: dict[str, tuple[str, str]] = {
    "self-intersecting": (
        json.dumps(
            {
                "type": "Polygon",
                "coordinates": [
                    [[-122.72, 45.49], [-122.60, 45.57], [-122.60, 45.49], [-122.72, 45.57]]
                    + [[-122.72, 45.49]]
                ],
            }
        ),
        "cross",
    ),
    "ring not closed": (
        json.dumps({"type": "Polygon", "coordinates": [PORTLAND[:-1]]}),
        "end at the position it starts from",
    ),
    "positions where rings belong": (
        json.dumps({"type": "Polygon", "coordinates": PORTLAND}),
        "ring",
    ),
    "a MultiPolygon holding one polygon's rings": (
        json.dumps({"type": "MultiPolygon", "coordinates": [PORTLAND]}),
        "ring",
    ),
    "a hole outside its polygon": (
        json.dumps(
            {
                "type": "Polygon",
                "coordinates": [
                    PORTLAND,
                    [[-122.50, 45.49], [-122.45, 45.49], [-122.45, 45.52], [-122.50, 45.49]],
                ],
            }
        ),
        "hole",
    ),
    "NaN": (
        '{"type": "Polygon", "coordinates": [[[NaN, 45.49], [-122.60, 45.49], '
        "[-122.60, 45.57], [NaN, 45.49]]]}",
        "finite",
    ),
    "Infinity": (
        '{"type": "Polygon", "coordinates": [[[-122.72, Infinity], [-122.60, 45.49], '
        "[-122.60, 45.57], [-122.72, Infinity]]]}",
        "finite",
    ),
    "an integer too large for a float": (
        '{"type": "Polygon", "coordinates": [[[1' + "0" * 400 + ", 45.49], [-122.60, 45.49], "
        "[-122.60, 45.57], [1" + "0" * 400 + ", 45.49]]]}",
        "",
    ),
    "latitude out of range": (
        json.dumps(
            {"type": "Polygon", "coordinates": [[[0, 91], [1, 0], [0, 1], [0, 91]]]},
        ),
        "latitude",
    ),
    "strings for numbers": (
        json.dumps(
            {"type": "Polygon", "coordinates": [[["0", "0"], [1, 0], [0, 1], ["0", "0"]]]},
        ),
        "numbers",
    ),
    "no coordinates": (json.dumps({"type": "Polygon"}), "polygon"),
    "empty MultiPolygon": (json.dumps({"type": "MultiPolygon", "coordinates": []}), "polygons"),
    "a point": (json.dumps({"type": "Point", "coordinates": [0, 0]}), "Polygon"),
    "too many vertices in a ring": (
        json.dumps({"type": "Polygon", "coordinates": [_circle(45.53, -122.66, 0.03, 20_001)]}),
        "at most 20000 points",
    ),
    "too many rings": (
        json.dumps({"type": "MultiPolygon", "coordinates": [_triangle(i) for i in range(2_001)]}),
        "at most 2,000 rings",
    ),
    # Rings of any size are checked for crossings (GEOS), not only rings of up to 1,000 points.
    "a figure-eight ring of 1,200 points": (
        json.dumps(
            {"type": "Polygon", "coordinates": [_figure_eight(45.53, -122.66, 0.02, 1_200)]}
        ),
        "cross",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_geometry_is_a_clear_4xx(client: TestClient, case: str) -> None:
    csrf = resident(client, "chief@odd.example")
    text, words = MALFORMED[case]
    problem = _problem(_apply_text(client, csrf, text))
    assert problem["status"] == 422
    assert problem["field"] == "jurisdiction"
    assert words.lower() in problem["detail"].lower(), problem["detail"]
    assert client.get("/api/v1/agencies/mine").status_code == 404


def test_arrays_nested_too_deeply_are_refused(client: TestClient) -> None:
    csrf = resident(client, "chief@deep.example")
    deep = "[" * 50_000 + "]" * 50_000
    _problem(_apply_text(client, csrf, f'{{"type": "Polygon", "coordinates": {deep}}}'))


def _form_csrf(client: TestClient) -> str:
    page = client.get("/agencies/apply")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text[:300]
    return match.group(1)


@pytest.mark.parametrize(
    ("jurisdiction", "words"),
    [
        (json.dumps(CONTINENT), "too large to map"),
        (MALFORMED["NaN"][0], "NaN"),
        (MALFORMED["an integer too large for a float"][0], "too large"),
        (MALFORMED["a hole outside its polygon"][0], "hole"),
        ("[" * 50_000 + "]" * 50_000, "nested too deeply"),
        ('{"type": "Polygon", "coordinates": [[[0, 0], [1, 0]', "not valid GeoJSON"),
    ],
    ids=["continent", "nan", "huge-integer", "hole-outside", "deep", "truncated"],
)
def test_the_apply_form_shows_the_reason(client: TestClient, jurisdiction: str, words: str) -> None:
    resident(client, "chief@form.example")
    response = client.post(
        "/agencies/apply",
        data={
            "csrf_token": _form_csrf(client),
            "name": "Somewhere Police",
            "kind": "law_enforcement",
            "contact": "x@y.example",
            "jurisdiction": jurisdiction,
        },
        follow_redirects=False,
    )
    assert response.status_code == 422, response.text[:300]
    alert = re.search(r'role="alert"[^>]*>([^<]*)<', response.text)
    assert alert, response.text[:500]
    assert words.lower() in alert.group(1).lower(), alert.group(1)
