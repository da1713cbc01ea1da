"""Queries over partnership programmes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.partnerships.models import Partnership, PartnershipStatus


def published_partnerships(db: Session, agency_id: str) -> list[Partnership]:
    """An agency's published programmes, newest first."""
    query = select(Partnership).where(
        Partnership.agency_id == agency_id, Partnership.status == PartnershipStatus.PUBLISHED.value
    )
    return list(db.scalars(query.order_by(Partnership.created_at.desc())))


def all_partnerships(db: Session, agency_id: str) -> list[Partnership]:
    """An agency's programmes, refused ones included, newest first."""
    query = select(Partnership).where(Partnership.agency_id == agency_id)
    return list(db.scalars(query.order_by(Partnership.created_at.desc())))
