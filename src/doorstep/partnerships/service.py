"""Partnership programmes: agencies publish their terms; a device traded for footage is refused."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.agencies import store as agencies
from doorstep.errors import InvalidInput, PolicyRefused
from doorstep.partnerships import store as partnerships
from doorstep.partnerships.models import Partnership, PartnershipStatus
from doorstep.partnerships.rules import Condition, PartnershipTerms, ProgrammeKind
from doorstep.partnerships.rules import check_partnership as check_terms
from doorstep.partnerships.schemas import NAME_MAX, PartnershipPublic
from doorstep.platform.http.state import AppState
from doorstep.platform.types import new_id, utcnow
from doorstep.transparency import audit_store as audit


def partnership_public(row: Partnership) -> PartnershipPublic:
    """A programme as anyone may read it."""
    return PartnershipPublic(
        id=row.id,
        agency_id=row.agency_id,
        name=row.name,
        kind=row.kind,
        terms_text=row.terms_text,
        conditions=list(row.conditions),
        status=row.status,
        refusal_reason=row.refusal_reason,
        created_at=row.created_at,
    )


def submit(
    db: Session,
    state: AppState,
    admin: User,
    *,
    name: str,
    kind: str,
    terms_text: str,
    conditions: list[str],
) -> Partnership:
    """Check a programme; publish it, or keep the refusal and its reason, and log either."""
    agency = agencies.agency_of(db, admin, admin=True)
    try:
        terms = PartnershipTerms(
            partner_id=agency.id,
            name=" ".join(name.split()),
            kind=ProgrammeKind(kind),
            terms_text=terms_text.strip(),
            conditions=frozenset(Condition(c) for c in conditions),
        )
    except ValueError as err:
        raise InvalidInput("unknown programme kind or condition", field="kind") from err
    row = Partnership(
        id=new_id(),
        agency_id=agency.id,
        name=terms.name[:NAME_MAX],
        kind=terms.kind.value,
        terms_text=terms.terms_text,
        conditions=sorted(c.value for c in terms.conditions),
        submitted_by=admin.id,
        created_at=utcnow(),
    )
    refusal: PolicyRefused | None = None
    try:
        check_terms(terms)
        row.status = PartnershipStatus.PUBLISHED.value
    except PolicyRefused as err:
        refusal = err
        row.status = PartnershipStatus.REFUSED.value
        row.refusal_reason = err.detail
    db.add(row)
    db.flush()
    audit.record(
        db,
        state.master_key,
        f"partnership.{'refuse' if refusal else 'publish'}",
        actor=admin,
        owner_id=None,
        detail={"partnership": row.id, "agency": agency.name, "reason": row.refusal_reason},
    )
    if refusal is not None:
        # The refusal is kept (and logged) even though the caller hears an error.
        db.commit()
        raise refusal
    return row


def publish(
    db: Session,
    state: AppState,
    admin: User,
    *,
    name: str,
    kind: str,
    terms_text: str,
    conditions: list[str],
) -> PartnershipPublic:
    """Publish a programme for the admin's agency; refused with the reason (and kept) if not."""
    row = submit(
        db, state, admin, name=name, kind=kind, terms_text=terms_text, conditions=conditions
    )
    return partnership_public(row)


def published(db: Session, agency_id: str) -> list[PartnershipPublic]:
    """A verified agency's published programmes with full terms (no login needed)."""
    agency = agencies.public_agency(db, agency_id)
    return [partnership_public(row) for row in partnerships.published_partnerships(db, agency.id)]


def public_page(db: Session, agency_id: str) -> dict[str, Any]:
    """A verified agency and its published programmes, as its public page shows them."""
    agency = agencies.public_agency(db, agency_id)
    return {"agency": agency, "programmes": partnerships.published_partnerships(db, agency.id)}


def agency_programmes(db: Session, agency_id: str) -> dict[str, Any]:
    """An agency's programmes, refused ones included, and what a new one may choose from."""
    return {
        "partnerships": partnerships.all_partnerships(db, agency_id),
        "kinds": [k.value for k in ProgrammeKind],
        "conditions": [c.value for c in Condition],
    }
