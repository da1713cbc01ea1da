"""The one place errors become responses: problem+json for the API, an HTML page for browsers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from doorstep.errors import DoorstepError, InvalidInput, NotFound
from doorstep.platform.http.middleware import route_template

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
_HTTP_SLUGS = {404: NotFound.slug, 405: "method-not-allowed", 413: "payload-too-large"}

#: The JSON schema of every error body (RFC 9457); errors may add members of their own.
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem document: the shape of every API error.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "field": {"type": "string"},
        "retry_after": {
            "type": "integer",
            "description": "Seconds to wait (429, and 503 from a busy or unreachable database).",
        },
        "errors": {
            "type": "array",
            "description": "Each invalid value of a 422.",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
}
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
#: Any request to the API may be refused by the body limit (a bad or too large Content-Length).
_EVERY_OPERATION = (400, 413)
#: Any operation that looks at the caller: a malformed or unknown credential, a missing CSRF
#: token, a token without the scope, a role that may not.
_CALLER_CHECKED = (401, 403)
#: Any operation that opens a database session: the database may be out of reach for a moment.
_DATABASE = (503,)
#: A signed-in read answered by ``deps.read_in_one_hop`` looks at the caller and opens a session
#: without the dependencies that tell ``_error_statuses`` so; its route lists these itself.
ONE_HOP_READ = _CALLER_CHECKED + _DATABASE
#: Any operation that reads a Range header may find it outside the content.
_RANGED = 416


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route that can also answer these error statuses (as problem+json)."""
    return {status: {"description": HTTPStatus(status).phrase} for status in statuses}


def wants_html(request: Request) -> bool:
    """Whether the caller is a browser page rather than an API client."""
    path = request.url.path
    if path.startswith(("/api/", "/healthz", "/metrics", "/openapi.json")):
        return False
    return "text/html" in request.headers.get("accept", "")


async def _respond(request: Request, status: int, body: dict[str, Any]) -> Response:
    headers = {}
    if "retry_after" in body:
        headers["Retry-After"] = str(body["retry_after"])
    if status == 416 and isinstance(body.get("size"), int):
        headers["Content-Range"] = f"bytes */{body['size']}"  # RFC 9110 15.5.17
    if wants_html(request):
        from doorstep.platform.http.render import render_error

        # Jinja reads the template from disk (and checks it for changes) on a thread, never on
        # the event loop every request shares.
        return await run_in_threadpool(render_error, request, status, body, headers)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _doorstep_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DoorstepError)
    if exc.status >= 500:
        # The route's template, not the path: logs name no share, clip or request.
        where = route_template(request.scope)
        log.error("%s on %s %s", exc.detail, request.method, where, exc_info=exc)
    return await _respond(request, exc.status, exc.problem(request.url.path))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "field": ".".join(str(part) for part in err.get("loc", ()) if part != "body"),
            "message": str(err.get("msg", "invalid")),
        }
        for err in exc.errors()
    ]
    detail = "; ".join(f"{e['field'] or 'request'}: {e['message']}" for e in errors)
    problem = InvalidInput(detail or "the request is malformed").problem(request.url.path)
    problem["errors"] = errors
    return await _respond(request, 422, problem)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    slug = _HTTP_SLUGS.get(exc.status_code, "http-error")
    body = {
        "type": f"/problems/{slug}",
        "title": str(exc.detail),
        "status": exc.status_code,
        "detail": str(exc.detail),
        "instance": request.url.path,
    }
    response = await _respond(request, exc.status_code, body)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def _unexpected(request: Request, exc: Exception) -> Response:
    where = route_template(request.scope)
    log.error("unexpected error on %s %s", request.method, where, exc_info=exc)
    return await _respond(request, 500, DoorstepError("an unexpected error happened").problem())


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any] | None]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def _error_statuses(app: FastAPI) -> dict[tuple[str, str], set[int]]:
    """The error statuses every API operation can answer whatever its handler does."""
    from doorstep.platform.http.deps import get_db, optional_principal

    found: dict[tuple[str, str], set[int]] = {}
    for route in iter_route_contexts(app.routes):
        path = str(route.path_format or "")
        dependant = getattr(route, "dependant", None)
        if not isinstance(dependant, Dependant):
            continue
        statuses = set(_EVERY_OPERATION)
        calls = set(_calls(dependant))
        if optional_principal in calls:
            statuses.update(_CALLER_CHECKED)
        if get_db in calls:
            statuses.update(_DATABASE)
        if dependant.path_params:
            statuses.add(404)
        if any(param.alias.lower() == "range" for param in dependant.header_params):
            statuses.add(_RANGED)
        for method in route.methods or ():
            found[(method.lower(), path)] = statuses
    return found


def _document(app: FastAPI, schema: dict[str, Any]) -> dict[str, Any]:
    """Describe each operation's errors as problem+json, replacing FastAPI's 422 body."""
    statuses = _error_statuses(app)
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            documented = operation.setdefault("responses", {})
            for response in documented.values():
                # A route that answers a file or stream names its media type; FastAPI still adds
                # an empty JSON body for its default response class, which nothing ever sends.
                content = response.get("content", {})
                if len(content) > 1 and content.get("application/json") == {"schema": {}}:
                    del content["application/json"]
            codes = {int(code) for code in documented if code.isdigit() and int(code) >= 400}
            codes |= statuses.get((method, path), set())
            for code in sorted(codes):
                documented[str(code)] = {
                    "description": documented.get(str(code), {}).get("description")
                    or HTTPStatus(code).phrase,
                    "content": {PROBLEM_JSON: {"schema": _PROBLEM_REF}},
                }
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components["Problem"] = PROBLEM_SCHEMA
    return schema


def install(app: FastAPI) -> None:
    """Register the handlers on ``app`` and document their answers in its OpenAPI schema."""
    app.add_exception_handler(DoorstepError, _doorstep_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _document(app, generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
