"""The one place errors become responses: problem+json for the API, an HTML page for browsers."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from doorstep.errors import DoorstepError, InvalidInput, NotFound

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
_HTTP_SLUGS = {404: NotFound.slug, 405: "method-not-allowed", 413: "payload-too-large"}


def wants_html(request: Request) -> bool:
    """Whether the caller is a browser page rather than an API client."""
    path = request.url.path
    if path.startswith(("/api/", "/healthz", "/metrics", "/openapi.json")):
        return False
    return "text/html" in request.headers.get("accept", "")


def _respond(request: Request, status: int, body: dict[str, Any]) -> Response:
    headers = {}
    if "retry_after" in body:
        headers["Retry-After"] = str(body["retry_after"])
    if wants_html(request):
        from doorstep.web.render import render_error

        return render_error(request, status, body, headers)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _doorstep_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DoorstepError)
    if exc.status >= 500:
        log.error("%s on %s %s", exc.detail, request.method, request.url.path, exc_info=exc)
    return _respond(request, exc.status, exc.problem(request.url.path))


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
    return _respond(request, 422, problem)


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
    response = _respond(request, exc.status_code, body)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return _respond(request, 500, DoorstepError("an unexpected error happened").problem())


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(DoorstepError, _doorstep_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
