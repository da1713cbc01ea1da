"""The public transparency report and audit log pages (no login)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from doorstep.accounts.auth import OptionalPrincipal
from doorstep.bystanders import service as bystanders
from doorstep.legal import service_published as emergencies
from doorstep.platform.http.deps import DbDep, StateDep
from doorstep.platform.http.render import render_for
from doorstep.platform.http.state import AppState
from doorstep.transparency import service, service_checkpoints

router = APIRouter(include_in_schema=False)

CHART_WIDTH = 480
BAR_HEIGHT = 22
_CHARTED = [
    ("rfas", "Requests for assistance"),
    ("owners_reached", "Owners reached"),
    ("warrants_received", "Warrants received"),
    ("subpoenas_received", "Subpoenas received"),
    ("court_orders_received", "Court orders received"),
    ("emergency_received", "Emergency requests received"),
    ("emergency_granted", "Emergency requests granted"),
    ("agencies_onboarded", "Agencies onboarded"),
]


def bar_chart(values: list[tuple[str, int]]) -> dict[str, Any]:
    """Horizontal bars drawn on the server, scaled to the largest value."""
    top = max((value for _, value in values), default=0) or 1
    label_width = 220
    span = CHART_WIDTH - label_width - 50
    bars = [
        {
            "label": label,
            "value": value,
            "y": index * BAR_HEIGHT,
            "text_y": index * BAR_HEIGHT + 15,
            "x": label_width,
            "width": round(span * value / top, 1),
            "value_x": label_width + round(span * value / top, 1) + 6,
        }
        for index, (label, value) in enumerate(values)
    ]
    return {"width": CHART_WIDTH, "height": BAR_HEIGHT * len(values), "bars": bars}


@router.get("/transparency")
def transparency(
    request: Request, principal: OptionalPrincipal, db: DbDep, state: StateDep
) -> Response:
    """The transparency report: charts per half-year, a table per agency, CSV and JSON."""
    rows = service.report(db, state.settings.camera_map_k)
    names = service.agency_names(db)
    periods = [
        {
            "period": row.period,
            "counts": row,
            "chart": bar_chart([(label, int(getattr(row, name))) for name, label in _CHARTED]),
        }
        for row in rows
        if row.agency_id == "*"
    ]
    per_agency = [
        {"name": names.get(row.agency_id, row.agency_id), "counts": row}
        for row in rows
        if row.agency_id != "*"
    ]
    context = {
        "periods": periods,
        "per_agency": per_agency,
        "k": state.settings.camera_map_k,
        **_witness_context(state, db),
    }
    delay = state.settings.emergency_publication_delay_days
    context |= emergencies.emergencies_report(db, delay)
    context["bystanders"] = bystanders.public_totals(db, state.settings.camera_map_k)
    return render_for(request, principal, "transparency.html", context)


@router.get("/audit")
def audit_log(
    request: Request, principal: OptionalPrincipal, db: DbDep, state: StateDep
) -> Response:
    """The public audit log: the signed tree head, the latest entries and how to verify them."""
    context = {
        **service.audit_page(db, state.master_key),
        **_witness_context(state, db),
        "base_url": str(request.base_url).rstrip("/"),
    }
    return render_for(request, principal, "legal_audit.html", context)


def _witness_context(state: AppState, db: DbDep) -> dict[str, Any]:
    return {
        "checkpoint_key": service_checkpoints.log_key(state.settings).encode(),
        "witnesses": service_checkpoints.witness_statuses(state.settings, db),
        "witness_quorum": state.settings.witness_quorum,
    }


@router.get("/checkpoint", response_class=PlainTextResponse)
def checkpoint(db: DbDep, state: StateDep) -> PlainTextResponse:
    """The newest checkpoint (C2SP tlog-checkpoint) with its quorum of witness cosignatures."""
    note = service_checkpoints.served_checkpoint(state, db)
    if note is None:
        return PlainTextResponse(
            "no checkpoint has its witnesses' cosignatures yet\n", status_code=503
        )
    return PlainTextResponse(note, headers={"cache-control": "no-store"})
