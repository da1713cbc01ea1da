"""Request traces sent to an OTLP/HTTP collector: by route template, nothing private."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from pydantic import ValidationError

from doorstep.app import create_app
from doorstep.platform.observe import traces
from doorstep.settings import Settings
from tests.platform.test_serving import serving_port

CLIP_ID = "c0ffee00c0ffee00c0ffee00c0ffee00"
PEER = ("203.0.113.77", 51234)


class Collector(ThreadingHTTPServer):
    """A trace collector on loopback: keeps the body of every POST to /v1/traces."""

    bodies: list[bytes]


class _Receive(BaseHTTPRequestHandler):
    server: Collector

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        if self.path == "/v1/traces" and self.headers["content-type"] == "application/x-protobuf":
            self.server.bodies.append(body)
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
        else:
            answer = b""
            self.send_response(404)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        del format, args


@pytest.fixture
def collector() -> Iterator[Collector]:
    """A collector listening on a free loopback port."""
    server = Collector(("127.0.0.1", 0), _Receive)
    server.bodies = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _received(collector: Collector, spans: int) -> list[ExportTraceServiceRequest]:
    deadline = time.monotonic() + 20
    while True:
        batches = [ExportTraceServiceRequest.FromString(body) for body in collector.bodies]
        count = sum(
            len(scope.spans) for b in batches for rs in b.resource_spans for scope in rs.scope_spans
        )
        if count >= spans:
            return batches
        assert time.monotonic() < deadline, f"{count} spans arrived, not {spans}"
        time.sleep(0.05)


def test_each_request_is_a_span_named_by_its_route_template_with_nothing_private(
    settings: Settings, collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(traces, "BATCH_SECONDS", 0.05)
    endpoint = f"http://127.0.0.1:{collector.server_address[1]}"
    app = create_app(settings.model_copy(update={"otel_endpoint": endpoint}))
    try:
        with TestClient(app, client=PEER) as client:
            client.get(f"/api/v1/clips/{CLIP_ID}?q=secret-query-value")
            client.get("/healthz")
    finally:
        app.state.shutdown()
    batches = _received(collector, 2)
    spans = [
        span
        for batch in batches
        for resource in batch.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    assert {span.name for span in spans} == {"GET /api/v1/clips/{clip_id}", "GET /healthz"}
    by_name = {span.name: span for span in spans}
    clip = by_name["GET /api/v1/clips/{clip_id}"]
    attributes = {kv.key: kv.value for kv in clip.attributes}
    assert set(attributes) == {"http.request.method", "http.route", "http.response.status_code"}
    assert attributes["http.route"].string_value == "/api/v1/clips/{clip_id}"
    assert attributes["http.response.status_code"].int_value == 401
    assert clip.end_time_unix_nano >= clip.start_time_unix_nano > 0
    assert len(clip.trace_id) == 16
    resource = {
        kv.key: kv.value.string_value for kv in batches[0].resource_spans[0].resource.attributes
    }
    assert resource["service.name"] == "doorstep"
    sent = b"".join(collector.bodies)
    for private in (CLIP_ID.encode(), b"secret-query-value", PEER[0].encode(), b"testclient"):
        assert private not in sent


def test_a_collector_that_is_away_costs_spans_never_a_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tracer = traces.RequestTracer(f"http://127.0.0.1:{serving_port()}")
    tracer.record("GET", "/healthz", 200, 0.01)
    tracer.flush()
    assert "could not send 1 spans to the trace collector" in caplog.text


@pytest.mark.parametrize(
    ("endpoint", "loaded"),
    [
        ("", []),
        ("http://127.0.0.1:9/", ["doorstep.platform.observe.traces", "opentelemetry.proto"]),
    ],
)
def test_without_an_endpoint_no_tracing_code_is_loaded(
    tmp_path: Path, endpoint: str, loaded: list[str]
) -> None:
    # FastAPI itself imports the OpenTelemetry API; what an endpoint brings is Doorstep's tracer
    # and the protocol's messages.
    script = (
        "import json, sys\n"
        "from fastapi.testclient import TestClient\n"
        "from doorstep.app import create_app\n"
        "from doorstep.settings import Settings\n"
        "app = create_app(Settings())\n"
        "with TestClient(app) as client:\n"
        "    assert client.get('/healthz').status_code == 200\n"
        "wanted = ('doorstep.platform.observe.traces', 'opentelemetry.proto', "
        "'opentelemetry.sdk', 'opentelemetry.exporter')\n"
        "print(json.dumps(sorted({w for w in wanted for m in sys.modules if m.startswith(w)})))\n"
    )
    env = {**os.environ, "DOORSTEP_DATA_DIR": str(tmp_path), "DOORSTEP_OTEL_ENDPOINT": endpoint}
    run = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.splitlines()[-1]) == loaded


@pytest.mark.parametrize(
    "endpoint",
    ["http://collector.example.org:4318", "http://10.0.0.7:4318", "http://[2001:db8::1]:4318"],
)
def test_traces_in_clear_to_another_machine_are_refused(endpoint: str) -> None:
    with pytest.raises(ValidationError, match="would send traces in clear: use https://"):
        Settings(otel_endpoint=endpoint)


@pytest.mark.parametrize(
    "endpoint",
    [
        "",
        "https://collector.example.org:4318",
        "http://127.0.0.1:4318",
        "http://localhost:4318",
        "http://[::1]:4318",
    ],
)
def test_traces_go_over_tls_or_stay_on_this_machine(endpoint: str) -> None:
    assert Settings(otel_endpoint=endpoint).otel_endpoint == endpoint
