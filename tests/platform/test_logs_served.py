"""Logs as a real server writes them: behind uvicorn, and from `doorstep serve` itself."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from doorstep.app import create_app
from doorstep.settings import Settings
from tests.hostile.served import logging_restored, served
from tests.platform.logs_capture import captured_logs
from tests.platform.test_serving import serving_port

CLIP_ID = "c0ffee00c0ffee00c0ffee00c0ffee00"
EMAIL = "ada.lovelace@example.org"


def test_forwarded_clients_are_logged_as_their_network_and_uvicorn_logs_no_access(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxied = settings.model_copy(update={"trusted_proxies": "127.0.0.1", "log_addresses": True})
    app = create_app(proxied)
    uvicorn_access: list[object] = []
    # uvicorn calls this for its access line (client address and full path) when enabled.
    monkeypatch.setattr(
        logging.getLogger("uvicorn.access"), "info", lambda *args, **_: uvicorn_access.append(args)
    )
    try:
        with (
            logging_restored(),
            served(app, proxied) as url,
            captured_logs() as logs,
            httpx.Client(base_url=url) as http,
        ):
            for client in ("203.0.113.77", "2001:db8:abcd:12::5"):
                forwarded = {"x-forwarded-for": client}
                http.get(f"/api/v1/clips/{CLIP_ID}?q=secret", headers=forwarded)
            # The server writes a request's line once it has sent the answer: wait for the last.
            deadline = time.monotonic() + 10
            while len(logs.requests()) < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
    finally:
        app.state.shutdown()
    assert [line["network"] for line in logs.requests()] == [
        "203.0.113.0/24",
        "2001:db8:abcd::/48",
    ]
    # uvicorn's own access line names the client and the full path: it stays silent.
    assert uvicorn_access == []
    text = "\n".join(logs.lines)
    for private in ("203.0.113.77", "2001:db8:abcd:12::5", CLIP_ID, "q=secret", "127.0.0.1"):
        assert private not in text


def test_doorstep_serve_writes_only_json_lines_with_nothing_private(tmp_path: Path) -> None:
    port = serving_port()
    env = {**os.environ, "DOORSTEP_DATA_DIR": str(tmp_path / "data"), "DOORSTEP_PORT": str(port)}
    env["DOORSTEP_HOST"] = "127.0.0.1"
    out, err = tmp_path / "serve.out", tmp_path / "serve.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "doorstep.cli", "serve"], env=env, stdout=stdout, stderr=stderr
        )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            for _ in range(300):
                with contextlib.suppress(httpx.TransportError):
                    if http.get("/healthz").status_code == 200:
                        break
                time.sleep(0.1)
            clip = http.get(f"/api/v1/clips/{CLIP_ID}?q=secret-query-value")
            login = http.post("/api/v1/session", json={"email": EMAIL, "password": "not-it-at-all"})
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
    assert (clip.status_code, login.status_code) == (401, 401)
    lines = [line for line in (out.read_text() + err.read_text()).splitlines() if line]
    parsed = [json.loads(line) for line in lines]
    assert all({"timestamp", "level", "logger", "event"} <= line.keys() for line in parsed)
    loggers = {line["logger"] for line in parsed}
    assert {"alembic.runtime.migration", "uvicorn.error", "doorstep.access"} <= loggers
    requests = {line["request_id"]: line for line in parsed if line["logger"] == "doorstep.access"}
    assert requests[clip.headers["x-request-id"]]["route"] == "/api/v1/clips/{clip_id}"
    assert requests[login.headers["x-request-id"]]["route"] == "/api/v1/session"
    text = "\n".join(lines)
    for private in ("127.0.0.1", "secret-query-value", CLIP_ID, EMAIL, "testclient"):
        assert private not in text
