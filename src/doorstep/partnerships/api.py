"""Partnership programmes: agencies publish their terms; trading a device for footage is refused."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from doorstep.accounts.api import Strict
from doorstep.accounts.models import User
from doorstep.accounts.roles import Role
from doorstep.agencies import service as agencies
from doorstep.errors import InvalidInput, PolicyRefused
from doorstep.legal import store as legal
from doorstep.legal.store import Partnership, PartnershipStatus
from doorstep.partnerships.rules import Condition, PartnershipTerms, ProgrammeKind
from doorstep.partnerships.rules import check_partnership as check_terms
from doorstep.platform.http.deps import DbDep, StateDep, require_role
from doorstep.platform.http.state import AppState
from doorstep.platform.types import new_id, utcnow
from doorstep.transparency import audit_store as audit

router = APIRouter(prefix="/api/v1", tags=["partnerships"])

AgencyAdmin = Annotated[User, Depends(require_role(Role.AGENCY_ADMIN))]


class PartnershipCreate(Strict):
    """A programme: what it gives, its full terms and its structured conditions."""

    name: Annotated[str, Field(max_length=120)]
    kind: ProgrammeKind
    terms_text: Annotated[str, Field(max_length=20_000)]
    conditions: Annotated[list[Condition], Field(max_length=10)] = []


class PartnershipPublic(BaseModel):
    """A published programme with its full terms."""

    id: str
    agency_id: str
    name: str
    kind: str
    terms_text: str
    conditions: list[str]
    status: str
    refusal_reason: str | None
    created_at: datetime


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
        name=terms.name[:120],
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


@router.post("/partnerships", status_code=status.HTTP_201_CREATED)
def create(
    body: PartnershipCreate, user: AgencyAdmin, db: DbDep, state: StateDep
) -> PartnershipPublic:
    """Publish a programme; refused with the reason if it trades a benefit for footage or money."""
    row = submit(
        db,
        state,
        user,
        name=body.name,
        kind=body.kind.value,
        terms_text=body.terms_text,
        conditions=[c.value for c in body.conditions],
    )
    return partnership_public(row)


@router.get("/agencies/{agency_id}/partnerships")
def public_list(agency_id: str, db: DbDep) -> list[PartnershipPublic]:
    """A verified agency's published programmes with full terms (no login)."""
    agency = agencies.public_agency(db, agency_id)
    return [partnership_public(row) for row in legal.published_partnerships(db, agency.id)]
