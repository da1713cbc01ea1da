"""Legal demands and emergency requests: what reviewers and agencies can do with them.

Each use case checks, applies the rules, appends to the audit log and answers with what the API
and pages show. The disclosing itself (the sealed copy, notices) is in ``service_disclose``; the
agency's locker and the owner's history in ``service_locker``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.accounts.roles import REVIEWERS
from doorstep.agencies import store as agencies
from doorstep.agencies.models import MemberRole
from doorstep.errors import InvalidInput, NotFound, PolicyRefused
from doorstep.legal import rules
from doorstep.legal import service_disclose as disclosing
from doorstep.legal import store as legal
from doorstep.legal._views import (
    demand_public,
    disclosure_public,
    emergency_public,
)
from doorstep.legal.models import Disclosure, EmergencyRequest, LegalDemand
from doorstep.legal.schemas import (
    DemandCreate,
    DemandPublic,
    DisclosurePublic,
    EmergencyCreate,
    EmergencyPublic,
)
from doorstep.partnerships import service as partnerships
from doorstep.platform.bus.memory import notify_after_commit
from doorstep.platform.http.state import AppState
from doorstep.platform.rewrap import rewrap_column
from doorstep.platform.types import utcnow
from doorstep.transparency import audit_store as audit

# --- demands -------------------------------------------------------------------------------------


def _record_demand(db: Session, state: AppState, reviewer: User, body: DemandCreate) -> LegalDemand:
    demand = legal.record_demand(
        db,
        reviewer,
        kind=body.kind,
        agency=agencies.get_agency(db, body.agency_id),
        court=body.court,
        reference=body.reference,
        document_sha256=body.document_sha256,
        account_id=body.account_id,
        device_ids=body.device_ids,
        window_start=body.window_start,
        window_end=body.window_end,
        covers_footage=body.covers_footage,
        allows_unredacted=body.allows_unredacted,
        indoor_device_ids=body.indoor_device_ids,
    )
    audit.record(
        db,
        state.master_key,
        "legal_demand.record",
        actor=reviewer,
        owner_id=None,
        detail={
            "demand": demand.id,
            "kind": demand.kind,
            "agency": demand.agency.name,
            "court": demand.court,
            "document_sha256": demand.document_sha256,
            "devices": len(demand.device_ids),
            "allows_unredacted": demand.allows_unredacted,
            "indoor_named": len(demand.indoor_device_ids or ()),
        },
    )
    return demand


def record_demand(db: Session, state: AppState, reviewer: User, body: DemandCreate) -> DemandPublic:
    """Record a demand and append it to the audit log."""
    return demand_public(db, _record_demand(db, state, reviewer, body))


def account_id_by_email(db: Session, email: str) -> str:
    """The id of the account a reviewer named by email, or NotFound."""
    account = legal.account_by_email(db, email)
    if account is None:
        raise NotFound("no account has that email", field="account_email")
    return account.id


def demands(db: Session) -> list[DemandPublic]:
    """Every recorded demand, newest first."""
    return [demand_public(db, demand) for demand in legal.demands(db)]


def demand(db: Session, demand_id: str) -> DemandPublic:
    """One demand with its order and disclosures."""
    return demand_public(db, legal.get_demand(db, demand_id))


def record_order(
    db: Session, state: AppState, reviewer: User, demand_id: str, ends_at: datetime | None
) -> DemandPublic:
    """Record a non-disclosure order for a demand and log it."""
    found = legal.get_demand(db, demand_id)
    order = legal.record_order(db, reviewer, found, ends_at)
    audit.record(
        db,
        state.master_key,
        "legal_demand.order",
        actor=reviewer,
        owner_id=None,
        detail={"demand": found.id, "ends_at": order.ends_at.isoformat()},
    )
    return demand_public(db, found)


def disclose_footage(
    db: Session,
    state: AppState,
    reviewer: User,
    demand_id: str,
    clip_ids: list[str],
    *,
    unredacted: bool,
) -> list[DisclosurePublic]:
    """Disclose clips under a demand; anything outside its scope is refused with the reason."""
    found = legal.get_demand(db, demand_id)
    made = disclosing.disclose_footage(db, state, reviewer, found, clip_ids, unredacted=unredacted)
    return [disclosure_public(row) for row in made]


def disclose_account(
    db: Session, state: AppState, reviewer: User, demand_id: str
) -> DisclosurePublic:
    """Disclose the named account's name, email and camera count (never footage)."""
    found = legal.get_demand(db, demand_id)
    return disclosure_public(disclosing.disclose_account(db, state, reviewer, found))


def close_demand(
    db: Session, state: AppState, reviewer: User, demand_id: str, outcome: str
) -> DemandPublic:
    """Close a demand with its outcome and log it."""
    found = legal.close_demand(db, legal.get_demand(db, demand_id), outcome)
    audit.record(
        db,
        state.master_key,
        "legal_demand.close",
        actor=reviewer,
        owner_id=None,
        detail={"demand": found.id, "outcome": outcome},
    )
    return demand_public(db, found)


# --- emergencies ---------------------------------------------------------------------------------


def file_emergency(
    db: Session, state: AppState, member: User, body: EmergencyCreate
) -> EmergencyPublic:
    """File an emergency request for the member's agency and log it."""
    agency = agencies.agency_of(db, member)
    row = legal.file_emergency(
        db,
        agency,
        member,
        case_number=body.case_number,
        device_ids=body.device_ids,
        window_start=body.window_start,
        window_end=body.window_end,
        attestation=body.attestation,
        category=body.category.value,
    )
    audit.record(
        db,
        state.master_key,
        "emergency.file",
        actor=member,
        owner_id=None,
        # No category here: this entry is public at once, and the category is published only
        # in the delayed list (service_published), after the owners are told.
        detail={"emergency": row.id, "agency": agency.name, "case": row.case_number},
    )
    return emergency_public(db, row)


def _visible(db: Session, user: User, row: EmergencyRequest) -> None:
    if user.role in REVIEWERS:
        return
    if agencies.agency_of(db, user).id != row.agency_id:
        raise NotFound("no such emergency request")


def emergencies(db: Session, user: User) -> list[EmergencyPublic]:
    """Reviewers see every emergency request; an agency sees its own."""
    if user.role in REVIEWERS:
        rows = legal.emergencies(db)
    else:
        rows = legal.emergencies(db, agencies.agency_of(db, user).id)
    return [emergency_public(db, row) for row in rows]


def emergency(db: Session, user: User, request_id: str) -> EmergencyPublic:
    """One emergency request, if the caller may see it."""
    row = legal.get_emergency(db, request_id)
    _visible(db, user, row)
    return emergency_public(db, row)


def approve_emergency(
    db: Session, state: AppState, reviewer: User, request_id: str
) -> EmergencyPublic:
    """Add a reviewer's approval; the second different reviewer's releases the scoped clips."""
    row = legal.get_emergency(db, request_id)
    row.apply(rules.approve(row.rule(), reviewer.id, utcnow()))
    db.flush()
    audit.record(
        db,
        state.master_key,
        "emergency.approve",
        actor=reviewer,
        owner_id=None,
        detail={"emergency": row.id, "approvals": len(row.approvals), "state": row.state},
    )
    if row.state == rules.EmergencyState.APPROVED.value:
        disclosing.disclose_emergency(db, state, reviewer, row, [])
    return emergency_public(db, row)


def refuse_emergency(
    db: Session, state: AppState, reviewer: User, request_id: str, reason: str
) -> EmergencyPublic:
    """Refuse an emergency request with the reason; one refusal ends it."""
    text = " ".join(reason.split())
    if not text:
        raise InvalidInput("say why the request is refused", field="reason")
    row = legal.get_emergency(db, request_id)
    row.apply(rules.refuse(row.rule(), reviewer.id))
    row.refusal_reason = text
    db.flush()
    audit.record(
        db,
        state.master_key,
        "emergency.refuse",
        actor=reviewer,
        owner_id=None,
        detail={"emergency": row.id, "reason": text},
    )
    return emergency_public(db, row)


def disclose_more(
    db: Session,
    state: AppState,
    reviewer: User,
    request_id: str,
    clip_ids: list[str],
    *,
    unredacted: bool,
) -> list[DisclosurePublic]:
    """Disclose named clips under an approved emergency (in scope, never end-to-end encrypted)."""
    if unredacted:
        raise PolicyRefused(
            "emergency disclosures are always redacted", extra={"reason": "unredacted_not_allowed"}
        )
    row = legal.get_emergency(db, request_id)
    return [
        disclosure_public(d)
        for d in disclosing.disclose_emergency(db, state, reviewer, row, clip_ids)
    ]


def end_emergency(
    db: Session, state: AppState, user: User, request_id: str, now: datetime | None = None
) -> EmergencyPublic:
    """Mark an emergency over and tell every owner whose footage went out."""
    row = legal.get_emergency(db, request_id)
    _visible(db, user, row)
    moment = now or utcnow()
    legal.mark_over(db, row, moment)
    audit.record(
        db,
        state.master_key,
        "emergency.over",
        actor=user,
        owner_id=None,
        detail={"emergency": row.id},
    )
    for owner_id, event in disclosing.notify_due(db, state.master_key, moment):
        notify_after_commit(db, owner_id, event)
    row.owners_notified_at = moment
    db.flush()
    return emergency_public(db, row)


# --- pages ---------------------------------------------------------------------------------------


def console(db: Session) -> dict[str, Any]:
    """What the reviewer console lists: demands, emergencies and the agencies to record for."""
    return {
        "demands": demands(db),
        "emergencies": [emergency_public(db, e) for e in legal.emergencies(db)],
        "agencies": agencies.verified_agencies(db),
    }


def agency_desk(db: Session, user: User) -> dict[str, Any]:
    """The agency's legal page: its emergencies, what it received, and its programmes."""
    agency = agencies.agency_of(db, user)
    member = agencies.membership(db, user)
    return {
        "agency": agency,
        "is_admin": member is not None and member.role == MemberRole.ADMIN.value,
        "emergencies": [emergency_public(db, e) for e in legal.emergencies(db, agency.id)],
        "received": [disclosure_public(d) for d in legal.agency_disclosures(db, agency)],
        **partnerships.agency_programmes(db, agency.id),
    }


def demand_recorded(db: Session, reference: str) -> bool:
    """Whether a demand with this reference (a warrant's number, say) was ever recorded."""
    return legal.demand_id_with_reference(db, reference) is not None


def emergency_filed(db: Session, case_number: str) -> bool:
    """Whether an emergency request was ever filed for this case number."""
    return legal.emergency_id_for_case(db, case_number) is not None


def rewrap_keys(db: Session, old: bytes, new: bytes) -> dict[str, int]:
    """Move the keys of the agencies' copies under legal bases to a new master key."""
    context = disclosing.disclosure_key_context
    return {
        "disclosures": rewrap_column(
            db, Disclosure, "wrapped_key", lambda row: context(row.id), old, new
        )
    }
