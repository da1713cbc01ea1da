"""What the transparency report counts, read from what Doorstep recorded: no owner identities."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from doorstep.agencies.models import Agency, AgencyStatus
from doorstep.legal import rules
from doorstep.legal.models import Disclosure, EmergencyRequest, LegalDemand
from doorstep.requests.models import Rfa, RfaRecipient, Share
from doorstep.transparency.rules import EventKind, Outcome, TransparencyEvent

_LEGAL_KINDS = {
    rules.DemandKind.WARRANT.value: EventKind.WARRANT,
    rules.DemandKind.SUBPOENA.value: EventKind.SUBPOENA,
    rules.DemandKind.COURT_ORDER.value: EventKind.COURT_ORDER,
}
_GRANTED = {rules.EmergencyState.APPROVED.value, rules.EmergencyState.OVER.value}


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
