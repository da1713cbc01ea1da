"""Rows as the API and pages show them: demands, emergencies and disclosures."""

from __future__ import annotations

from sqlalchemy.orm import Session

from doorstep.legal import rules
from doorstep.legal import store as legal
from doorstep.legal.models import Disclosure, EmergencyRequest, LegalDemand
from doorstep.legal.schemas import DemandPublic, DisclosurePublic, EmergencyPublic, OwnerDisclosure


def disclosure_public(row: Disclosure) -> DisclosurePublic:
    """A disclosure without anything about the owner beyond what the legal basis reached."""
    video = f"/api/v1/evidence/disclosures/{row.id}/video" if row.what == "footage" else None
    return DisclosurePublic(
        id=row.id,
        basis=row.basis,
        demand_id=row.demand_id,
        emergency_id=row.emergency_id,
        agency_name=row.agency.name,
        what=row.what,
        account_info=row.account_info,
        clip_started_at=row.clip_started_at,
        clip_ended_at=row.clip_ended_at,
        unredacted=row.unredacted,
        sha256=row.sha256,
        size=row.size,
        created_at=row.created_at,
        downloaded_at=row.downloaded_at,
        video_url=video,
        download_url=f"/api/v1/evidence/disclosures/{row.id}/download" if video else None,
    )


def owner_disclosure(db: Session, row: Disclosure) -> OwnerDisclosure:
    """A disclosure as the owner reads it in their history."""
    demand = legal.find_demand(db, row.demand_id)
    emergency = legal.find_emergency(db, row.emergency_id)
    case = demand.reference if demand else (emergency.case_number if emergency else "")
    return OwnerDisclosure(
        id=row.id,
        basis=row.basis,
        agency_name=row.agency.name,
        what=row.what,
        legal_kind=demand.kind if demand else None,
        court=demand.court if demand else None,
        case=case,
        clip_id=row.clip_id,
        clip_started_at=row.clip_started_at,
        unredacted=row.unredacted,
        disclosed_at=row.created_at,
        notified_at=row.notified_at,
        downloaded_at=row.downloaded_at,
        delayed_until=row.notice_due_at if row.notice_due_at > row.created_at else None,
    )


def demand_public(db: Session, demand: LegalDemand) -> DemandPublic:
    """A demand with its order and disclosures."""
    order = legal.order_for(db, demand.id)
    return DemandPublic(
        id=demand.id,
        kind=demand.kind,
        agency_id=demand.agency_id,
        agency_name=demand.agency.name,
        court=demand.court,
        reference=demand.reference,
        document_sha256=demand.document_sha256,
        account_id=demand.account_id,
        device_ids=list(demand.device_ids),
        window_start=demand.window_start,
        window_end=demand.window_end,
        covers_footage=demand.covers_footage,
        allows_unredacted=demand.allows_unredacted,
        indoor_device_ids=list(demand.indoor_device_ids or ()),
        recorded_at=demand.recorded_at,
        status=demand.status,
        outcome=demand.outcome,
        order_ends_at=order.ends_at if order else None,
        disclosures=[disclosure_public(d) for d in legal.disclosures_for(db, demand_id=demand.id)],
    )


def emergency_public(db: Session, row: EmergencyRequest) -> EmergencyPublic:
    """An emergency request with its decision and what went out under it."""
    return EmergencyPublic(
        id=row.id,
        agency_id=row.agency_id,
        agency_name=row.agency.name,
        case_number=row.case_number,
        category=row.category,
        device_ids=list(row.device_ids),
        window_start=row.window_start,
        window_end=row.window_end,
        attestation=row.attestation,
        filed_at=row.filed_at,
        state=row.state,
        approvals=len(row.approvals),
        refusal_reason=row.refusal_reason,
        approved_at=row.approved_at,
        over_at=row.over_at,
        notice_due_at=rules.emergency_notice_due(row.rule()),
        owners_notified_at=row.owners_notified_at,
        disclosed=len(legal.disclosures_for(db, emergency_id=row.id)),
    )
