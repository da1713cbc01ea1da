"""Request logs, driven through the app: a request id, the route template, and nothing private.

A log outlives the rows it speaks of: a line joining a clip id or a query to who asked, and when,
would undo a deletion. By default no line names the client, the query string or the path's ids.
"""

from __future__ import annotations

import json
import logging

from fastapi import FastAPI
from fastapi.testclient import TestClient

from doorstep.app import create_app
from doorstep.settings import Settings
from tests.platform.logs_capture import captured_logs

CLIP_ID = "c0ffee00c0ffee00c0ffee00c0ffee00"
EMAIL = "ada.lovelace@example.org"
PEER = ("203.0.113.77", 51234)


def test_a_request_line_has_its_id_route_template_status_and_time_and_nothing_private(
    app: FastAPI,
) -> None:
    with captured_logs() as logs, TestClient(app, client=PEER) as client:
        response = client.get(f"/api/v1/clips/{CLIP_ID}?q=secret-query-value")
        login = client.post("/api/v1/session", json={"email": EMAIL, "password": "not-it-at-all"})
    assert (response.status_code, login.status_code) == (401, 401)
    lines = logs.requests()
    assert [(line["method"], line["route"], line["status"]) for line in lines] == [
        ("GET", "/api/v1/clips/{clip_id}", 401),
        ("POST", "/api/v1/session", 401),
    ]
    first = lines[0]
    assert first["request_id"] == response.headers["x-request-id"]
    assert lines[1]["request_id"] == login.headers["x-request-id"] != first["request_id"]
    assert first["event"] == "request"
    assert first["level"] == "info"
    assert first["timestamp"].endswith("Z")
    assert isinstance(first["duration_ms"], float)
    assert "network" not in first
    text = "\n".join(logs.lines)
    for private in (CLIP_ID, "secret-query-value", "q=", PEER[0], "203.0.113", EMAIL):
        assert private not in text


def test_a_trusted_proxys_request_id_is_kept_only_if_it_is_a_short_safe_token(
    settings: Settings,
) -> None:
    app = create_app(settings.model_copy(update={"trusted_proxies": "10.0.0.0/24"}))
    try:
        with captured_logs() as logs, TestClient(app, client=("10.0.0.5", 4431)) as client:
            kept = client.get("/healthz", headers={"x-request-id": "lb-7f3a9c2e11d0"})
            forged = client.get("/healthz", headers={"x-request-id": "203.0.113.9 evil\tline"})
    finally:
        app.state.shutdown()
    assert kept.headers["x-request-id"] == "lb-7f3a9c2e11d0"
    replaced = forged.headers["x-request-id"]
    assert replaced != "203.0.113.9 evil\tline"
    assert len(replaced) == 16
    assert [line["request_id"] for line in logs.requests()] == ["lb-7f3a9c2e11d0", replaced]
    assert "203.0.113.9" not in "\n".join(logs.lines)


def test_a_request_id_from_anyone_but_a_trusted_proxy_is_replaced(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"trusted_proxies": "10.0.0.0/24"}))
    try:
        with captured_logs() as logs, TestClient(app, client=PEER) as client:
            response = client.get("/healthz", headers={"x-request-id": "lb-7f3a9c2e11d0"})
    finally:
        app.state.shutdown()
    chosen = response.headers["x-request-id"]
    assert chosen != "lb-7f3a9c2e11d0"
    assert len(chosen) == 16
    assert [line["request_id"] for line in logs.requests()] == [chosen]


def test_with_addresses_on_the_line_names_the_clients_network_only(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"log_addresses": True}))
    try:
        with captured_logs() as logs, TestClient(app, client=PEER) as client:
            client.get(f"/api/v1/clips/{CLIP_ID}")
    finally:
        app.state.shutdown()
    (line,) = logs.requests()
    assert line["network"] == "203.0.113.0/24"
    assert PEER[0] not in "\n".join(logs.lines)


def test_an_unexpected_error_is_one_json_line_with_its_traceback_and_request_id(
    app: FastAPI,
) -> None:
    async def boom(thing_id: str) -> None:
        raise RuntimeError(f"the thing {thing_id} broke talking to 198.51.100.23")

    app.add_api_route("/boom/{thing_id}", boom)
    with captured_logs() as logs, TestClient(app, raise_server_exceptions=False) as client:
        response = client.get(f"/boom/{CLIP_ID}")
    assert response.status_code == 500
    errors = [line for line in logs.parsed() if line["level"] == "error"]
    (error,) = errors
    assert error["logger"] == "doorstep.platform.http.problems"
    assert error["event"] == "unexpected error on GET /boom/{thing_id}"
    assert error["exception"].startswith("Traceback (most recent call last):")
    assert "RuntimeError: the thing" in error["exception"]
    # The exception's own words are scrubbed like any other field.
    assert "198.51.100.23" not in error["exception"]
    (request,) = logs.requests()
    assert (request["status"], request["route"]) == (500, "/boom/{thing_id}")
    assert error["request_id"] == request["request_id"]
    for line in logs.lines:
        assert "\n" not in line
        json.loads(line)


def test_plain_lines_read_as_before_with_the_fields_after_and_the_same_scrubbing() -> None:
    from doorstep.platform.http.serving import uvicorn_options
    from doorstep.platform.observe.logs import make_formatter

    settings = Settings(log_format="plain")
    handler = uvicorn_options(settings)["log_config"]["handlers"]["stderr"]
    assert handler["formatter"] == "plain"
    record = logging.LogRecord(
        "doorstep.access", logging.WARNING, __file__, 1, "request from %s", ("203.0.113.7",), None
    )
    record.route, record.status, record.email = "/api/v1/clips/{clip_id}", 403, EMAIL
    line = make_formatter("plain").format(record)
    # A field a record carries by accident (the email) is left out, not printed.
    head = "WARNING doorstep.access: request from [address]"
    assert line == f"{head} route=/api/v1/clips/{{clip_id}} status=403"
