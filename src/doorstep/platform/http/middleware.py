"""ASGI middleware: security headers, request body limit, request metrics, the access log."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING, Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from doorstep.platform.http.metrics import CONSENT_ROUTE, CONSENT_ROUTES, status_class
from doorstep.platform.observe import log_rules

if TYPE_CHECKING:
    from doorstep.platform.observe.traces import RequestTracer

access_log = logging.getLogger("doorstep.access")

# default-src 'self' is invariant I8: no page may load anything from another origin.
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
_STATIC_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
]
_HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")


class SecurityHeaders:
    """Add the security headers to every response."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.headers = [*_STATIC_HEADERS, *([_HSTS] if hsts else [])]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wrap ``send`` to add headers to the response start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in self.headers if n not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _problem_bytes(status: int, slug: str, title: str, detail: str) -> bytes:
    body = {"type": f"/problems/{slug}", "title": title, "status": status, "detail": detail}
    return json.dumps(body).encode()


#: The OpenAPI extension a route names its body limit with: bytes, or ``"upload"`` for
#: ``DOORSTEP_MAX_UPLOAD_MB``. A route that names none takes ``DEFAULT_BODY_BYTES``.
BODY_LIMIT = "x-body-limit"
#: What a form or a JSON body may weigh unless its route says more: a login is a few hundred
#: bytes, and the largest text Doorstep takes (a jurisdiction's GeoJSON) is 200,000 characters.
DEFAULT_BODY_BYTES = 1024 * 1024


def body_limit(size: int | str) -> dict[str, Any]:
    """A route's ``openapi_extra`` for a body larger than the default (bytes, or "upload")."""
    return {BODY_LIMIT: size}


class BodyLimit:
    """Refuse request bodies over their route's limit, by Content-Length and while streaming.

    Before routing only the largest limit is known: a declared length over it is refused at
    once. Once the route is matched (the app reads the body only then), its own limit holds:
    a declared length over it is refused before a byte is read, and so is a stream that grows
    past it.
    """

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, default_bytes: int = DEFAULT_BODY_BYTES
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.default_bytes = min(default_bytes, max_bytes)

    def limit_of(self, scope: Scope) -> int:
        """The body limit of the route ``scope`` was matched to (the default before routing)."""
        extra = getattr(scope.get("route"), "openapi_extra", None) or {}
        size = extra.get(BODY_LIMIT)
        if size == "upload":
            return self.max_bytes
        if isinstance(size, int):
            return min(size, self.max_bytes)
        return self.default_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the declared length, then count what actually arrives."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared_text = dict(scope.get("headers", [])).get(b"content-length")
        declared = 0
        if declared_text is not None:
            try:
                declared = int(declared_text)
            except ValueError:
                await self._refuse(send, 400, "bad-request", "Content-Length is not a number")
                return
            if declared > self.max_bytes:
                await self._refuse_large(send, self.max_bytes)
                return
        received = 0
        limit: int | None = None
        started = refused = False

        async def counting_receive() -> Message:
            nonlocal received, refused, limit
            if limit is None:
                limit = self.limit_of(scope)
                if declared > limit and not started and not refused:
                    refused = True
                    await self._refuse_large(send, limit)
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Answer 413 now and tell the app the client went away, so it stops reading.
                    if not started and not refused:
                        refused = True
                        await self._refuse_large(send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except Exception:
            # After a 413 the app may fail on the body it never got; that is the refusal, not a bug.
            if not refused:
                raise

    async def _refuse_large(self, send: Send, limit: int) -> None:
        size = f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit // 1024} KiB"
        await self._refuse(
            send, 413, "payload-too-large", f"the request body is larger than its {size} limit"
        )

    @staticmethod
    async def _refuse(send: Send, status: int, slug: str, detail: str) -> None:
        body = _problem_bytes(status, slug, "Request refused", detail)
        headers = [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class RejectNul:
    """Refuse a path or query string holding a NUL character: no database can store or match it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 400 before the app sees such an address."""
        if scope["type"] == "http":
            query = bytes(scope.get("query_string", b""))
            if "\x00" in str(scope.get("path", "")) or b"%00" in query or b"\x00" in query:
                detail = "the address contains a NUL character"
                await BodyLimit._refuse(send, 400, "bad-request", detail)
                return
        await self.app(scope, receive, send)


class Metrics:
    """Count requests and time them per route template (never per raw path: ids are private).

    The status is its class (``2xx``), so no count tells one answer of a route from another.
    The routes of an owner's consent (``CONSENT_ROUTES``) are counted as one, ``consent``, and
    never timed.
    """

    def __init__(self, app: ASGIApp, *, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter(
            "doorstep_http_requests",
            "HTTP requests by method, route template and status class.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "doorstep_http_request_duration_seconds",
            "Time to answer an HTTP request.",
            ["method", "route"],
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Time the request and record its status."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await _answer_observed(self.app, scope, receive, send, self._record)

    def _record(self, method: str, route: str, status: int, seconds: float) -> None:
        if route in CONSENT_ROUTES:
            # A share takes longer than a decline, and each answer route is one decision (I3).
            self.requests.labels(method, CONSENT_ROUTE, status_class(status)).inc()
            return
        self.requests.labels(method, route, status_class(status)).inc()
        self.latency.labels(method, route).observe(seconds)


class AccessLog:
    """One line per request: request id, method, route template, status, time taken.

    Never the client's address, the query string or the path itself: a path holds share, clip
    and request ids, and a log line joining them to who asked, and when, outlives the rows.
    With ``addresses`` (DOORSTEP_LOG_ADDRESSES, for abuse handling) the line names the client's
    network, /24 or /48, never the address. Every line logged while the request is answered
    carries its id, which the response returns as ``X-Request-Id`` (a trusted proxy's
    ``X-Request-Id``, from one of ``proxies``, is kept; anyone else's is replaced). With
    ``traces`` (an OTLP/HTTP endpoint) each request is also a span, under the same rules.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        addresses: bool = False,
        traces: str = "",
        proxies: list[str] | None = None,
    ) -> None:
        self.app = app
        self.addresses = addresses
        self.proxies = proxies or []
        self.tracer: RequestTracer | None = None
        if traces:
            # Imported only when asked for: without an endpoint no tracing code is loaded.
            from doorstep.platform.observe.traces import RequestTracer

            self.tracer = RequestTracer(traces)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer under a request id, then log the request (and trace it, if asked)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers", [])).get(b"x-request-id")
        client = scope.get("client")
        # Only a trusted proxy names the id. Behind one that forwards the client's address,
        # uvicorn has already put that address here, so its id is replaced: the safe side.
        trusted = log_rules.is_trusted_peer(client[0] if client else None, self.proxies)
        request_id = log_rules.request_id(
            incoming.decode("latin-1") if incoming else None, trusted=trusted
        )
        extra: dict[str, Any] = {}
        if self.addresses:
            extra["network"] = log_rules.client_network(client[0] if client else None)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                header = (b"x-request-id", request_id.encode())
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        def observe(method: str, route: str, status: int, seconds: float) -> None:
            fields = {"method": method, "route": route, "status": status, **extra}
            access_log.info("request", extra={**fields, "duration_ms": round(seconds * 1000, 1)})
            if self.tracer is not None:
                self.tracer.record(method, route, status, seconds)

        bound = structlog.contextvars.bind_contextvars(request_id=request_id)
        await _answer_observed(self.app, scope, receive, send_with_id, observe)
        # Only once answered: a request that raised keeps its id for the error line Starlette's
        # outermost middleware writes next. Each request runs in a task, and binds its own id,
        # so no other request's lines can carry it.
        structlog.contextvars.reset_contextvars(**bound)


async def _answer_observed(
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    observe: Callable[[str, str, int, float], None],
) -> None:
    """Answer the request, then tell ``observe`` its method, route template, status and time.

    A request that raised counts as a 500; it is observed all the same.
    """
    start = time.perf_counter()
    status = 500

    async def recording_send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        await send(message)

    try:
        await app(scope, receive, recording_send)
    finally:
        observe(
            str(scope.get("method", "")), route_template(scope), status, time.perf_counter() - start
        )


def route_template(scope: MutableMapping[str, Any]) -> str:
    """The matched route's template (``/api/v1/shares/{share_id}``), never the path with ids."""
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(path) if path else "unmatched"
