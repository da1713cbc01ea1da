"""Partnership programmes over JSON: agencies publish their terms; anyone may read them."""

from __future__ import annotations

from fastapi import APIRouter, status

from doorstep.accounts.auth import AgencyAdmin
from doorstep.partnerships import service
from doorstep.partnerships.schemas import PartnershipCreate, PartnershipPublic
from doorstep.platform.http.deps import DbDep, StateDep

router = APIRouter(prefix="/api/v1", tags=["partnerships"])


@router.post("/partnerships", status_code=status.HTTP_201_CREATED)
def create(
    body: PartnershipCreate, user: AgencyAdmin, db: DbDep, state: StateDep
) -> PartnershipPublic:
    """Publish a programme; refused with the reason if it trades a benefit for footage or money."""
    return service.publish(
        db,
        state,
        user,
        name=body.name,
        kind=body.kind.value,
        terms_text=body.terms_text,
        conditions=[c.value for c in body.conditions],
    )


@router.get("/agencies/{agency_id}/partnerships")
def public_list(agency_id: str, db: DbDep) -> list[PartnershipPublic]:
    """A verified agency's published programmes with full terms (no login)."""
    return service.published(db, agency_id)
