"""Applying with the jurisdiction as a GeoJSON file, through the page's form and no JavaScript."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from doorstep.geo.geojson_text import MAX_GEOJSON_FILE_BYTES
from tests.agencies.test_api import JURISDICTION
from tests.factories import resident

FIELDS = {"name": "Portland Police Bureau", "kind": "law_enforcement", "contact": "records@ppb"}
#: A second square beside the first, for a jurisdiction of two parts.
EAST = {
    "type": "Polygon",
    "coordinates": [
        [[-122.58, 45.49], [-122.50, 45.49], [-122.50, 45.55], [-122.58, 45.55], [-122.58, 45.49]]
    ],
}


def _apply(client: TestClient, csrf: str, file: bytes | None, text: str = "") -> Any:
    files = {"jurisdiction_file": ("area.geojson", file or b"", "application/geo+json")}
    data = {**FIELDS, "csrf_token": csrf, "jurisdiction": text}
    return client.post("/agencies/apply", data=data, files=files, follow_redirects=False)


def _mine(client: TestClient) -> dict[str, Any]:
    mine: dict[str, Any] = client.get("/api/v1/agencies/mine").json()
    return mine


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (JURISDICTION, JURISDICTION),
        ({"type": "Feature", "properties": {}, "geometry": JURISDICTION}, JURISDICTION),
        (
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": {"name": "west"}, "geometry": JURISDICTION},
                    {"type": "Feature", "properties": {"name": "east"}, "geometry": EAST},
                ],
            },
            {
                "type": "MultiPolygon",
                "coordinates": [JURISDICTION["coordinates"], EAST["coordinates"]],
            },
        ),
    ],
)
def test_a_geojson_file_is_the_jurisdiction(
    app: FastAPI, document: dict[str, Any], expected: dict[str, Any]
) -> None:
    client = TestClient(app)
    csrf = resident(client, "chief@ppb.example")
    answer = _apply(client, csrf, json.dumps(document).encode())
    assert answer.status_code == 303, answer.text
    assert _mine(client)["jurisdiction"] == expected


@pytest.mark.parametrize(
    ("file", "text", "status", "says"),
    [
        (b"x" * (MAX_GEOJSON_FILE_BYTES + 1), "", 413, "over 200 kB"),
        (b"{not json", "", 422, "not valid GeoJSON"),
        (b"\xff\xfe\x00garbage", "", 422, "not GeoJSON text"),
        (json.dumps({"type": "Point", "coordinates": [0, 0]}).encode(), "", 422, "no Polygon"),
        (json.dumps({"type": "FeatureCollection", "features": []}).encode(), "", 422, "no Polygon"),
        (None, "", 422, "choose a GeoJSON file"),
    ],
)
def test_a_bad_file_is_refused_on_the_form_and_nothing_is_made(
    app: FastAPI, file: bytes | None, text: str, status: int, says: str
) -> None:
    client = TestClient(app)
    csrf = resident(client, "chief@ppb.example")
    answer = _apply(client, csrf, file, text)
    assert answer.status_code == status, answer.text
    assert says in answer.text
    assert 'role="alert"' in answer.text
    assert client.get("/api/v1/agencies/mine").status_code == 404


def test_the_text_field_still_works_without_a_file(app: FastAPI) -> None:
    client = TestClient(app)
    csrf = resident(client, "chief@ppb.example")
    answer = _apply(client, csrf, None, json.dumps(JURISDICTION))
    assert answer.status_code == 303, answer.text
    assert _mine(client)["jurisdiction"] == JURISDICTION
