"""Address search through a Nominatim-compatible service: a real HTTP server on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from doorstep.settings import Settings
from tests.maps.test_api import _search, _signup_csrf

#: An answer as Nominatim's /search?format=jsonv2 gives it (abridged): coordinates as strings.
ANSWER = [
    {
        "place_id": 1,
        "lat": "45.5152",
        "lon": "-122.6784",
        "category": "place",
        "type": "house",
        "display_name": "1120, Southwest 5th Avenue, Portland, Oregon, 97204, United States",
    },
    {"place_id": 2, "lat": "not a number", "lon": "0", "display_name": "broken"},
    {"place_id": 3, "lat": "45.52", "lon": "-122.68", "display_name": "Portland City Hall"},
]


@dataclass
class Nominatim:
    """What the service answers next, and every request it got."""

    url: str
    status: int = 200
    body: bytes = json.dumps(ANSWER).encode()
    content_type: str = "application/json"
    requests: list[tuple[str, dict[str, list[str]], dict[str, str]]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def stop(self) -> None:
        """Stop listening: from now on nothing answers at the URL."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def nominatim() -> Iterator[Nominatim]:
    """A Nominatim-speaking server on loopback under a path prefix, as one is often deployed."""
    state = Nominatim(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            headers = {name.lower(): value for name, value in self.headers.items()}
            state.requests.append((parts.path, parse_qs(parts.query), headers))
            self.send_response(state.status)
            self.send_header("content-type", state.content_type)
            self.send_header("content-length", str(len(state.body)))
            self.end_headers()
            self.wfile.write(state.body)

        def log_message(self, format: str, *args: Any) -> None:
            del format, args

    server = state.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/nominatim/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    state.stop()
    thread.join()


@pytest.fixture
def settings(settings: Settings, nominatim: Nominatim) -> Settings:
    """The test settings with address search sent to the loopback service."""
    return settings.model_copy(update={"geocoder_url": nominatim.url})


def test_places_come_from_the_service_asked_as_nominatim_expects(
    client: TestClient, nominatim: Nominatim
) -> None:
    answer = _search(client, "  1120 SW 5th   Ave ", _signup_csrf(client))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "places": [
            {
                "label": "1120, Southwest 5th Avenue, Portland, Oregon, 97204, United States",
                "lat": 45.5152,
                "lon": -122.6784,
            },
            {"label": "Portland City Hall", "lat": 45.52, "lon": -122.68},
        ]
    }
    [(path, query, headers)] = nominatim.requests
    assert path == "/nominatim/search"
    assert query == {"q": ["1120 SW 5th Ave"], "format": ["jsonv2"], "limit": ["5"]}
    assert headers["user-agent"].startswith("Doorstep/")


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (500, b'{"error": "overloaded"}', "application/json"),
        (429, b"slow down", "text/plain"),
        (302, b"", "text/html"),
        (200, b"<html>maintenance</html>", "text/html"),
        (200, b'{"error": "Nothing to search for"}', "application/json"),
        (200, b"[" + b'{"display_name": "x", "lat": "1", "lon": "1"},' * 9000 + b"{}]", "json"),
    ],
)
def test_a_failing_service_is_a_503_and_the_query_is_not_logged(
    client: TestClient,
    nominatim: Nominatim,
    caplog: pytest.LogCaptureFixture,
    status: int,
    body: bytes,
    content_type: str,
) -> None:
    nominatim.status, nominatim.body, nominatim.content_type = status, body, content_type
    answer = _search(client, "1313 Mockingbird Lane", _signup_csrf(client))
    assert answer.status_code == 503
    assert answer.json()["detail"] == "Address search is unavailable; click the map instead"
    assert len(nominatim.requests) == 1
    logged = caplog.text + "".join(str(record.exc_info) for record in caplog.records)
    assert "Mockingbird" not in logged
    assert "address search" in logged


def test_a_service_that_is_not_there_is_a_503(client: TestClient, nominatim: Nominatim) -> None:
    nominatim.stop()
    answer = _search(client, "1313 Mockingbird Lane", _signup_csrf(client))
    assert answer.status_code == 503


def test_an_empty_query_never_reaches_the_service(client: TestClient, nominatim: Nominatim) -> None:
    assert _search(client, " ", _signup_csrf(client)).status_code == 422
    assert nominatim.requests == []
