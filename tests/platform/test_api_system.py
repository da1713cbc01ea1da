"""Health, metrics, OpenAPI, docs, security headers, body limits, problem+json."""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import generate_latest
from starlette.routing import Match

from doorstep.app import ROUTERS, create_app
from doorstep.platform.http.middleware import CSP
from doorstep.settings import Settings
from tests.cameras.test_api_devices import _camera, _pair
from tests.factories import resident

EXPECTED_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def test_healthz_reports_the_database(client: TestClient) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["database"] in {"sqlite", "postgresql"}


def _schedulers() -> int:
    return sum(thread.name == "doorstep-jobs" for thread in threading.enumerate())


def test_the_last_of_overlapping_lifespans_shuts_the_app_down(app: FastAPI) -> None:
    engine = app.state.doorstep.db.engine
    before = _schedulers()
    with TestClient(app) as outer:
        with TestClient(app) as inner:
            assert inner.get("/healthz").status_code == 200
            assert _schedulers() == before + 1
        # The inner client's end must not stop the sweeps or close the pool under the outer one.
        assert _schedulers() == before + 1
        assert outer.get("/healthz").status_code == 200
    assert _schedulers() == before
    assert engine.pool.checkedin() == 0


def test_shutting_down_again_closes_connections_opened_since(app: FastAPI) -> None:
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
    # A request after the lifespan ended opens a connection in a fresh pool.
    assert TestClient(app).get("/healthz").status_code == 200
    engine = app.state.doorstep.db.engine
    assert engine.pool.checkedin() == 1
    app.state.shutdown()
    assert engine.pool.checkedin() == 0


def test_metrics_count_requests_by_route_template_and_status_class(settings: Settings) -> None:
    app = create_app(settings)
    with TestClient(app) as scraper:
        scraper.get("/healthz")
        scraper.get("/api/v1/me/tokens/0123456789abcdef")
    text = generate_latest(app.state.doorstep.registry).decode()
    assert 'doorstep_http_requests_total{method="GET",route="/healthz",status="2xx"}' in text
    assert 'status="200"' not in text
    assert "0123456789abcdef" not in text


def test_metrics_are_not_on_the_public_port(client: TestClient) -> None:
    # Counts per route could reveal when an owner answered a request (invariant I3).
    response = client.get("/metrics", headers={"accept": "application/json"})
    assert response.status_code == 404
    assert "doorstep_http_requests" not in response.text


def test_openapi_lists_the_account_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/accounts", "/api/v1/session", "/api/v1/me", "/healthz"} <= set(paths)


def test_docs_page_loads_only_our_own_assets(client: TestClient) -> None:
    page = client.get("/docs").text
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources
    assert all(source.startswith("/") and not source.startswith("//") for source in sources)
    for source in sources:
        assert client.get(source).status_code == 200


def test_every_response_has_the_security_headers(client: TestClient) -> None:
    responses = [
        client.get("/"),
        client.get("/healthz"),
        client.get("/no-such-page", headers={"accept": "application/json"}),
        client.get("/static/css/doorstep.css"),
        client.post("/api/v1/accounts", content=b"x" * (2 * 1024 * 1024)),
    ]
    for response in responses:
        for name, value in EXPECTED_HEADERS.items():
            assert response.headers[name] == value, (response.url, name)


def test_unknown_routes_are_problem_json(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_oversized_bodies_are_refused_before_they_are_read(client: TestClient) -> None:
    response = client.post(
        "/api/v1/accounts",
        content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert "1 MiB" in response.json()["detail"]


def test_streamed_bodies_over_the_limit_are_refused(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(3):
            yield b" " * (600 * 1024)

    response = client.post(
        "/api/v1/accounts", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


def test_each_route_has_its_own_body_limit(settings: Settings) -> None:
    """Uploads may be large; a login, a form or a JSON call may not (1 MiB unless it says)."""
    big = settings.model_copy(update={"max_upload_mb": 8})
    with TestClient(create_app(big)) as client:
        csrf = resident(client)
        token = _pair(client, csrf, _camera(client, csrf)["id"])
        device = {"authorization": f"Bearer {token}"}
        login = client.post(
            "/api/v1/session",
            content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
            headers={"content-type": "application/json"},
        )
        assert login.status_code == 413
        assert "1 MiB" in login.json()["detail"]

        # A detailed jurisdiction (3 areas of 19,000 positions, about 2.5 MiB of JSON) is not
        # refused for its size: its route allows what 100,000 positions need.
        def area(west: float) -> list[list[list[float]]]:
            ring = [
                [
                    round(west + 0.05 * math.cos(2 * math.pi * i / 19_000), 12),
                    round(45.5231 + 0.05 * math.sin(2 * math.pi * i / 19_000), 12),
                ]
                for i in range(19_000)
            ]
            return [[*ring, ring[0]]]

        body = {
            "name": "Detailed Police",
            "kind": "law_enforcement",
            "jurisdiction": {
                "type": "MultiPolygon",
                "coordinates": [area(-122.9), area(-122.7), area(-122.5)],
            },
            "contact": "records@detailed.example",
        }
        assert len(json.dumps(body)) > 2 * 1024 * 1024
        applied = client.post("/api/v1/agencies", json=body, headers={"x-csrf-token": csrf})
        assert applied.status_code == 201, applied.text[:300]

        def streamed() -> Iterator[bytes]:
            for _ in range(4):
                yield b" " * (600 * 1024)

        form = client.post(
            "/login",
            content=streamed(),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert form.status_code == 413
        # A clip of 3 MiB is read (and refused for what it is, not for its size) ...
        files = {"video": ("c.mp4", b"\0" * (3 * 1024 * 1024), "video/mp4")}
        upload = client.post("/api/v1/devices/clips", files=files, headers=device)
        assert upload.status_code != 413
        assert 400 <= upload.status_code < 500
        # ... and one over the upload limit is not.
        files = {"video": ("c.mp4", b"\0" * (9 * 1024 * 1024), "video/mp4")}
        upload = client.post("/api/v1/devices/clips", files=files, headers=device)
        assert upload.status_code == 413
        assert "8 MiB" in upload.json()["detail"]
        # The limits are in the API's description.
        spec = client.get("/openapi.json").json()["paths"]
        assert spec["/api/v1/devices/clips"]["post"]["x-body-limit"] == "upload"


def test_json_without_a_content_type_is_not_parsed(client: TestClient) -> None:
    response = client.post("/api/v1/session", content=b'{"email": "a@b.org", "password": "x"}')
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_no_router_has_a_path_another_router_would_answer() -> None:
    # The app tries its routers busiest first; that is only safe while no two routers could
    # both answer one request, whatever order they come in.
    clashes = []
    checked = 0
    for index, router in enumerate(ROUTERS):
        for route in router.routes:
            path = re.sub(r"\{[^}:]+(:path)?\}", "x1", getattr(route, "path", ""))
            for method in getattr(route, "methods", None) or {"GET"}:
                scope = {"type": "http", "path": path, "method": method, "root_path": ""}
                checked += 1
                for other_index, other in enumerate(ROUTERS):
                    if other_index == index:
                        continue
                    for candidate in other.routes:
                        if candidate.matches(scope)[0] == Match.FULL:
                            clashes.append((path, method, getattr(candidate, "path", "")))
    assert checked > 150
    assert clashes == []
