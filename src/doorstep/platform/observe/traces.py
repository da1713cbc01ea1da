"""Request spans for an OTLP/HTTP collector: one per request, named by its route template.

Loaded only when DOORSTEP_OTEL_ENDPOINT is set (``pip install doorstep[otel]`` brings the
OpenTelemetry protocol messages). A span says what a log line says and no more: method, route
template, status and time; never the client's address, the query string or the path's ids.
Spans are batched and sent from a thread of their own; a collector that is away loses spans,
never a request.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from doorstep import __version__

log = logging.getLogger(__name__)

#: How often the spans gathered are sent, and how many may wait (more are dropped and counted).
BATCH_SECONDS = 2.0
MAX_WAITING = 2048
SEND_TIMEOUT_S = 5.0


def _text(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


def traces_url(endpoint: str) -> str:
    """Where spans are posted: the endpoint's ``/v1/traces`` (as OTLP/HTTP exporters do)."""
    base = endpoint.rstrip("/")
    return base if base.endswith("/v1/traces") else f"{base}/v1/traces"


def request_span(method: str, route: str, status: int, start_ns: int, end_ns: int) -> Span:
    """The span of one answered request."""
    span = Span(
        trace_id=os.urandom(16),
        span_id=os.urandom(8),
        name=f"{method} {route}",
        kind=Span.SPAN_KIND_SERVER,
        start_time_unix_nano=start_ns,
        end_time_unix_nano=end_ns,
        attributes=[
            _text("http.request.method", method),
            _text("http.route", route),
            KeyValue(key="http.response.status_code", value=AnyValue(int_value=status)),
        ],
    )
    if status >= 500:
        span.status.code = Status.STATUS_CODE_ERROR
    return span


class RequestTracer:
    """Gathers request spans and sends them to the collector in batches."""

    def __init__(self, endpoint: str) -> None:
        self.url = traces_url(endpoint)
        self.dropped = 0
        self._waiting: list[Span] = []
        self._lock = threading.Lock()
        self._resource = Resource(
            attributes=[_text("service.name", "doorstep"), _text("service.version", __version__)]
        )
        thread = threading.Thread(target=self._send_forever, name="doorstep-traces", daemon=True)
        thread.start()
        atexit.register(self.flush)

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        """Keep the span of a request that just ended, ``seconds`` after it began."""
        end = time.time_ns()
        span = request_span(method, route, status, end - int(seconds * 1e9), end)
        with self._lock:
            if len(self._waiting) < MAX_WAITING:
                self._waiting.append(span)
            else:
                self.dropped += 1

    def flush(self) -> None:
        """Send every span waiting now (a failure is logged and the spans dropped)."""
        with self._lock:
            spans, self._waiting = self._waiting, []
        if not spans:
            return
        scope = InstrumentationScope(name="doorstep", version=__version__)
        batch = ExportTraceServiceRequest(
            resource_spans=[
                ResourceSpans(
                    resource=self._resource, scope_spans=[ScopeSpans(scope=scope, spans=spans)]
                )
            ]
        )
        try:
            response = httpx.post(
                self.url,
                content=batch.SerializeToString(),
                headers={"content-type": "application/x-protobuf"},
                timeout=SEND_TIMEOUT_S,
            )
            response.raise_for_status()
        except httpx.HTTPError as err:
            log.warning("could not send %d spans to the trace collector: %s", len(spans), err)

    def _send_forever(self) -> None:
        while True:
            time.sleep(BATCH_SECONDS)
            self.flush()
