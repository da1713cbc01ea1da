"""Health, metrics and the API documentation page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text

from doorstep import __version__
from doorstep.errors import NotFound
from doorstep.platform.http.deps import StateDep
from doorstep.platform.http.render import TEMPLATES
from doorstep.platform.security import same

router = APIRouter(tags=["system"])


class Health(BaseModel):
    """Whether the service and its database answer."""

    status: str
    version: str
    database: str


@router.get("/healthz")
def healthz(state: StateDep) -> Health:
    """Liveness and database reachability; 503 problem+json when the database is down."""
    with state.db.session() as session:
        session.execute(text("SELECT 1"))
    return Health(status="ok", version=__version__, database=state.db.engine.dialect.name)


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request, state: StateDep) -> Response:
    """Prometheus metrics for this process, for the operator's scraper only.

    Request counts per route could tell an outsider when an owner answered a request, so the
    endpoint answers only ``Authorization: Bearer <DOORSTEP_METRICS_TOKEN>``, and nobody while
    that is empty. Where a request comes from proves nothing: behind a proxy on the same host
    every client comes from loopback.
    """
    expected = state.settings.metrics_token.get_secret_value()
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer" or not same(given.strip(), expected):
        raise NotFound("not found")
    return Response(generate_latest(state.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/docs", include_in_schema=False)
def docs(request: Request) -> Response:
    """Interactive API docs, served entirely from our own origin."""
    del request
    return FileResponse(TEMPLATES / "docs.html", media_type="text/html")
