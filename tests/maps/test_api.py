"""The base map over HTTP (byte ranges, validators, broken files) and address search."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from doorstep.maps import service
from doorstep.maps.rules import parse_header
from doorstep.settings import Settings
from tests.factories import bearer, resident
from tests.maps.conftest import install_demo_map

URL = "/maps/base.pmtiles"


def _signup_csrf(client: TestClient) -> str:
    """The double-submit token a signed-out browser gets with the sign-up form."""
    page = client.get("/signup")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text[:300]
    return match.group(1)


def _search(client: TestClient, query: Any, csrf: str | None = None) -> Any:
    headers = {"x-csrf-token": csrf} if csrf else {}
    return client.post("/api/v1/places", json={"query": query}, headers=headers)


def test_the_archive_is_served_whole_and_in_ranges(
    client: TestClient, settings: Settings, demo_archive: bytes
) -> None:
    install_demo_map(settings, demo_archive)
    whole = client.get(URL)
    assert whole.status_code == 200
    assert whole.content == demo_archive
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["etag"]
    assert whole.headers["last-modified"]
    head = client.head(URL)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(demo_archive))
    assert head.headers["etag"] == whole.headers["etag"]
    part = client.get(URL, headers={"range": "bytes=0-126"})
    assert part.status_code == 206
    assert part.content == demo_archive[:127]
    assert part.headers["content-range"] == f"bytes 0-126/{len(demo_archive)}"
    tail = client.get(URL, headers={"range": "bytes=-10"})
    assert (tail.status_code, tail.content) == (206, demo_archive[-10:])
    beyond = client.get(URL, headers={"range": "bytes=100-999999999"})
    assert (beyond.status_code, beyond.content) == (206, demo_archive[100:])
    same = client.get(URL, headers={"if-none-match": whole.headers["etag"]})
    assert same.status_code == 304


@pytest.mark.parametrize("asked", [f"bytes={10**9}-", "bytes=5-1", "bytes=1-2,4-5", "pages=1-2"])
def test_an_unsatisfiable_range_is_a_416_problem(
    client: TestClient, settings: Settings, demo_archive: bytes, asked: str
) -> None:
    install_demo_map(settings, demo_archive)
    answer = client.get(URL, headers={"range": asked})
    assert answer.status_code == 416
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["content-range"] == f"bytes */{len(demo_archive)}"


def test_a_new_archive_has_a_new_etag(
    client: TestClient, settings: Settings, demo_archive: bytes
) -> None:
    path = install_demo_map(settings, demo_archive)
    first = client.head(URL).headers["etag"]
    path.write_bytes(demo_archive + b"\0")
    assert client.head(URL).headers["etag"] != first


def test_no_archive_is_a_404_problem_and_no_base_map(
    client: TestClient, settings: Settings
) -> None:
    answer = client.get(URL)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert service.base_map(settings) is None


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "shorter than a PMTiles header"),
        (b"<html>not a map</html>" * 10, "does not start with 'PMTiles'"),
        (b"PMTiles\x02" + b"\0" * 200, "version 2"),
    ],
)
def test_a_file_that_is_no_archive_is_a_404_problem_and_no_base_map(
    client: TestClient, settings: Settings, content: bytes, words: str
) -> None:
    path = settings.base_map_path
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    answer = client.get(URL, headers={"range": "bytes=0-16383"})
    assert answer.status_code == 404
    assert words in answer.json()["detail"]
    assert service.base_map(settings) is None


def test_a_cut_short_archive_is_refused(
    client: TestClient, settings: Settings, demo_archive: bytes
) -> None:
    install_demo_map(settings, demo_archive[: len(demo_archive) // 2])
    answer = client.get(URL)
    assert answer.status_code == 404
    assert "cut short" in answer.json()["detail"]


def test_the_base_map_describes_the_demo_archive(settings: Settings, demo_archive: bytes) -> None:
    install_demo_map(settings, demo_archive)
    found = service.base_map(settings)
    assert found is not None
    assert (found.url, found.tile_type, found.min_zoom, found.max_zoom) == (
        "/maps/base.pmtiles",
        "mvt",
        12,
        15,
    )
    west, south, east, north = found.bounds
    assert west < -122.6765 < east
    assert south < 45.5231 < north
    assert found.centre == pytest.approx((45.5231, -122.6765))
    assert "Doorstep demo" in found.attribution


def test_a_signed_out_browser_finds_an_address_with_the_forms_token(
    client: TestClient, settings: Settings, demo_archive: bytes
) -> None:
    install_demo_map(settings, demo_archive)
    csrf = _signup_csrf(client)
    answer = _search(client, "1234 se alder", csrf)
    assert answer.status_code == 200, answer.text
    places = answer.json()["places"]
    assert places[0]["label"] == "1234 SE Alder St"
    assert places[0]["lat"] == pytest.approx(45.5301 + 0.00012)
    assert len(places) <= 5
    assert _search(client, "1234 se alder").status_code == 403


def test_a_signed_in_browser_and_a_script_find_streets(
    client: TestClient, settings: Settings, demo_archive: bytes
) -> None:
    install_demo_map(settings, demo_archive)
    csrf = resident(client)
    answer = _search(client, "  Elm   st ", csrf)
    assert answer.status_code == 200, answer.text
    assert answer.json()["places"][0]["label"] == "SE Elm St"
    assert _search(client, "Elm St").status_code == 403
    token = bearer(client, csrf, {"account:read"})
    client.cookies.clear()
    scripted = client.post("/api/v1/places", json={"query": "alder park"}, headers=token)
    assert scripted.status_code == 200, scripted.text
    assert scripted.json()["places"][0]["label"] == "Alder Park"


@pytest.mark.parametrize("query", ["", "   ", "x" * 201, "12\x00 Alder"])
def test_an_empty_or_long_query_is_a_422_problem(
    client: TestClient, settings: Settings, demo_archive: bytes, query: str
) -> None:
    install_demo_map(settings, demo_archive)
    answer = _search(client, query, _signup_csrf(client))
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"


def test_without_a_gazetteer_or_geocoder_search_is_unavailable(client: TestClient) -> None:
    answer = _search(client, "1234 SE Alder St", _signup_csrf(client))
    assert answer.status_code == 503
    assert answer.json()["detail"] == "Address search is unavailable; click the map instead"


def test_a_broken_archive_is_logged_once_in_one_line(
    client: TestClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    path = settings.base_map_path
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PK\x03\x04 a zip file, not a map" * 10)
    with caplog.at_level(logging.WARNING, logger="doorstep.maps"):
        assert [client.get(URL).status_code for _ in range(3)] == [404, 404, 404]
        assert service.base_map(settings) is None
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("doorstep.maps")]
    assert len(lines) == 1
    assert "\n" not in lines[0]
    assert "does not start with 'PMTiles'" in lines[0]


def test_unreadable_metadata_leaves_the_map_without_attribution(
    client: TestClient, settings: Settings, demo_archive: bytes
) -> None:
    header = parse_header(demo_archive[:127], len(demo_archive))
    start = header.metadata_offset + 10  # past the gzip header: the deflate stream is broken
    broken = bytearray(demo_archive)
    broken[start : start + 20] = b"\xff" * 20
    install_demo_map(settings, bytes(broken))
    found = service.base_map(settings)
    assert found is not None
    assert found.attribution == ""
    assert client.get(URL, headers={"range": "bytes=0-126"}).status_code == 206
