"""The public transparency report (JSON and CSV) and the history of published audit tree heads."""

from __future__ import annotations

import base64
import csv
import io
import json
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from doorstep.agencies import service as agencies
from doorstep.agencies.models import Agency, AgencyStatus
from doorstep.legal import rules
from doorstep.legal import store as legal
from doorstep.legal.store import Disclosure, EmergencyRequest, LegalDemand
from doorstep.platform.http.deps import DbDep, StateDep
from doorstep.platform.http.state import AppState
from doorstep.requests.models import Rfa, RfaRecipient, Share
from doorstep.transparency import audit_store as audit
from doorstep.transparency import counts as disclosure_counts
from doorstep.transparency.rules import (
    EventKind,
    Outcome,
    PeriodCounts,
    TransparencyEvent,
    aggregate,
    to_csv_rows,
    to_json,
)

router = APIRouter(prefix="/api/v1", tags=["transparency"])

_LEGAL_KINDS = {
    rules.DemandKind.WARRANT.value: EventKind.WARRANT,
    rules.DemandKind.SUBPOENA.value: EventKind.SUBPOENA,
    rules.DemandKind.COURT_ORDER.value: EventKind.COURT_ORDER,
}
_GRANTED = {rules.EmergencyState.APPROVED.value, rules.EmergencyState.OVER.value}


class HeadPublic(BaseModel):
    """A tree head the server published; any two can be checked with a consistency proof."""

    size: int
    root: str
    timestamp: datetime
    signature: str
    consistency_url: str | None


class HeadHistory(BaseModel):
    """Published heads, oldest first, and the key that signed them (Ed25519).

    ``next_start`` is where the next page begins (``?start=``), or null on the last page.
    """

    public_key: str
    heads: list[HeadPublic]
    next_start: int | None = None


#: Published heads on one page of the history.
HEADS_PAGE = 1000


def _owners_by_basis(db: Session, column: Any) -> dict[str, int]:
    query = (
        select(column, func.count(func.distinct(Disclosure.owner_id)))
        .where(column.is_not(None))
        .group_by(column)
    )
    return {str(key): int(n) for key, n in db.execute(query)}


def recorded_events(db: Session) -> list[TransparencyEvent]:
    """Every countable event, read from what Doorstep recorded; no owner identities."""
    events: list[TransparencyEvent] = []
    verified = {
        agency.id: agency
        for agency in db.scalars(select(Agency).where(Agency.status == AgencyStatus.VERIFIED.value))
    }
    for agency in verified.values():
        at = agency.verified_at or agency.created_at
        events.append(TransparencyEvent(EventKind.AGENCY_ONBOARDED, agency.id, at))
    asked = dict(
        db.execute(select(RfaRecipient.rfa_id, func.count()).group_by(RfaRecipient.rfa_id)).all()
    )
    rfas = list(db.scalars(select(Rfa).where(Rfa.agency_id.in_(list(verified)))))
    for rfa in rfas:
        events.append(TransparencyEvent(EventKind.RFA, rfa.agency_id, rfa.created_at))
        reached = int(asked.get(rfa.id, 0))
        if reached:
            events.append(
                TransparencyEvent(
                    EventKind.RFA_RECIPIENT, rfa.agency_id, rfa.created_at, owners_affected=reached
                )
            )
    # The answers to each request, as one event dated with the request, a request nobody
    # answered included: the report adds each request's range, as its own page shows it (I3).
    answers = select(
        Share.rfa_id, func.count(func.distinct(Share.owner_id)), func.count()
    ).group_by(Share.rfa_id)
    answered = {rfa_id: (int(owners), int(clips)) for rfa_id, owners, clips in db.execute(answers)}
    for rfa in rfas:
        owners, clips = answered.get(rfa.id, (0, 0))
        events.append(
            TransparencyEvent(
                EventKind.SHARE, rfa.agency_id, rfa.created_at, owners_affected=owners, clips=clips
            )
        )
    by_demand = _owners_by_basis(db, Disclosure.demand_id)
    for demand in db.scalars(select(LegalDemand)):
        outcome = Outcome(demand.outcome) if demand.outcome else None
        events.append(
            TransparencyEvent(
                _LEGAL_KINDS[demand.kind],
                demand.agency_id,
                demand.recorded_at,
                outcome=outcome,
                owners_affected=by_demand.get(demand.id, 0),
            )
        )
    by_emergency = _owners_by_basis(db, Disclosure.emergency_id)
    for row in db.scalars(select(EmergencyRequest)):
        decided: Outcome | None = None
        if row.state in _GRANTED:
            decided = Outcome.GRANTED
        elif row.state == rules.EmergencyState.REFUSED.value:
            decided = Outcome.REFUSED
        events.append(
            TransparencyEvent(
                EventKind.EMERGENCY,
                row.agency_id,
                row.filed_at,
                outcome=decided,
                owners_affected=by_emergency.get(row.id, 0),
            )
        )
    return events


def report(db: Session, k: int, agency_id: str | None = None) -> list[PeriodCounts]:
    """The report's rows; one agency's (and not the overall rows) when ``agency_id`` is given.

    ``k`` is the camera map's threshold: requests reaching fewer owners are not summed (I3).
    The others add the lower end of the range their request shows (``disclosure_counts``), not
    their exact count: a period with one request would otherwise read its count off. Owners who
    shared and clips shared are ranges, by the same rule (``domain.transparency``).
    """
    events = [
        replace(event, owners_affected=disclosure_counts.coarse(event.owners_affected, k).at_least)
        if event.kind is EventKind.RFA_RECIPIENT
        else event
        for event in recorded_events(db)
    ]
    rows = aggregate(events, k)
    if agency_id is None:
        return rows
    return [row for row in rows if row.agency_id == agency_id]


def agency_names(db: Session) -> dict[str, str]:
    """Names of verified agencies by id, and ``*`` for all of them."""
    names = {agency.id: agency.name for agency in agencies.verified_agencies(db)}
    return {"*": "All agencies", **names}


AgencyFilter = Annotated[str | None, Query(max_length=32)]


@router.get("/transparency", response_class=Response)
def transparency_json(db: DbDep, state: StateDep, agency: AgencyFilter = None) -> Response:
    """The report per half-year, overall (``*``) and per agency, with agency names (no login)."""
    rows = json.loads(to_json(report(db, state.settings.camera_map_k, agency)))
    body = {"periods": rows, "agencies": agency_names(db)}
    return Response(
        json.dumps(body, sort_keys=True, separators=(",", ":")), media_type="application/json"
    )


@router.get(
    "/transparency.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def transparency_csv(db: DbDep, state: StateDep, agency: AgencyFilter = None) -> Response:
    """The same report as CSV, one row per half-year and agency."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    names = agency_names(db)
    for index, row in enumerate(to_csv_rows(report(db, state.settings.camera_map_k, agency))):
        writer.writerow([*row, "agency_name" if index == 0 else names.get(row[1], "")])
    return Response(
        out.getvalue(),
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
    latest = legal.publish_head(db, state.master_key).size
    rows = legal.published_heads(db, HEADS_PAGE, from_size=start)
    return HeadHistory(
        public_key=base64.b64encode(audit.public_key(state.master_key)).decode(),
        next_start=rows[-1].size + 1 if len(rows) == HEADS_PAGE else None,
        heads=[
            HeadPublic(
                size=row.size,
                root=row.root,
                timestamp=row.timestamp,
                signature=row.signature,
                consistency_url=(
                    f"/api/v1/audit/proof/consistency?old={row.size}&new={latest}"
                    if 0 < row.size < latest
                    else None
                ),
            )
            for row in rows
        ],
    )


def publish_heads(state: AppState) -> int:
    """The periodic job: sign and keep a tree head whenever the log has grown; returns its size."""
    with state.db.session() as db:
        return legal.publish_head(db, state.master_key).size
