"""Emergency requests published for review once their delay has passed.

Every emergency request two reviewers decided is published on the transparency page and in the
JSON report: the agency, the day it was filed, the category the agency stated and the reviewers'
outcome. Nothing about a resident is in it (no case number, attestation, camera or clip), and
nothing before its delay: an approved one waits for the delay after approval and never comes
before its owners are told (``rules.emergency_published_at``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from doorstep.legal import rules
from doorstep.legal import store as legal
from doorstep.legal.models import EmergencyRequest
from doorstep.legal.schemas import PublishedEmergency
from doorstep.platform.types import utcnow


def _published(db: Session, row: EmergencyRequest, at: datetime) -> PublishedEmergency:
    refused = row.state == rules.EmergencyState.REFUSED.value
    return PublishedEmergency(
        agency_name=row.agency.name,
        filed_on=row.filed_at.date().isoformat(),
        category=row.category,
        outcome="refused" if refused else "approved",
        reviewers=1 if refused else len(row.approvals),
        footage_disclosed=bool(legal.disclosures_for(db, emergency_id=row.id)),
        published_at=at,
    )


def published_emergencies(
    db: Session, delay_days: int, now: datetime | None = None
) -> list[PublishedEmergency]:
    """Decided emergency requests whose publication delay has passed, newest filed first."""
    moment = now or utcnow()
    delay = timedelta(days=delay_days)
    shown = []
    for row in legal.emergencies(db):
        at = rules.emergency_published_at(row.rule(), delay)
        if at is not None and at <= moment:
            shown.append(_published(db, row, at))
    return shown


def emergencies_report(db: Session, delay_days: int) -> dict[str, Any]:
    """What the transparency page and JSON report show: the published list and the delay."""
    entries = published_emergencies(db, delay_days)
    return {
        "emergencies_published": [e.model_dump(mode="json") for e in entries],
        "emergencies_awaiting": len(legal.emergencies(db)) - len(entries),
        "emergency_publication_delay_days": delay_days,
    }
