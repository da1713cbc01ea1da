"""Health and the API documentation page (metrics are on their own bind: metrics_server.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel
from sqlalchemy import text

from doorstep import __version__
from doorstep.platform.http.deps import StateDep
from doorstep.platform.http.render import TEMPLATES

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


@router.get("/docs", include_in_schema=False)
def docs(request: Request) -> Response:
    """Interactive API docs, served entirely from our own origin."""
    del request
    return FileResponse(TEMPLATES / "docs.html", media_type="text/html")
