"""The public transparency report (JSON and CSV) and the history of published audit tree heads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from doorstep.legal import service_published as emergencies
from doorstep.platform.http.deps import DbDep, StateDep
from doorstep.transparency import service
from doorstep.transparency.schemas import HeadHistory

# The periodic job app.py schedules: a signed tree head kept whenever the log has grown.
from doorstep.transparency.service import publish_heads as publish_heads

# Checked when the app is built: a witness list that cannot work stops the start, with its reason.
from doorstep.transparency.service_checkpoints import check_settings as check_settings

# At start, once migrated: a checkpoint key rotation the log recorded but a crash left undone.
from doorstep.transparency.service_checkpoints import finish_rotation as finish_rotation

router = APIRouter(prefix="/api/v1", tags=["transparency"])

AgencyFilter = Annotated[str | None, Query(max_length=32)]


@router.get("/transparency", response_class=Response)
def transparency_json(db: DbDep, state: StateDep, agency: AgencyFilter = None) -> Response:
    """The report per half-year, overall (``*``) and per agency, with agency names (no login).

    Emergency requests are listed once their publication delay has passed.
    """
    published = emergencies.emergencies_report(db, state.settings.emergency_publication_delay_days)
    body = service.report_json(db, state.settings.camera_map_k, agency, published)
    return Response(body, media_type="application/json")


@router.get(
    "/transparency.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def transparency_csv(db: DbDep, state: StateDep, agency: AgencyFilter = None) -> Response:
    """The same report as CSV, one row per half-year and agency."""
    return Response(
        service.report_csv(db, state.settings.camera_map_k, agency),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="doorstep-transparency.csv"'},
    )


@router.get("/audit/heads")
def heads(
    db: DbDep, state: StateDep, start: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0
) -> HeadHistory:
    """Tree heads Doorstep published of ``start`` entries or more, oldest first, 1,000 a page.

    The current head is published first, and every consistency proof leads to it.
    """
    return service.head_history(db, state.master_key, start)
