"""Queries over legal demands, non-disclosure orders, emergency requests and disclosures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.agencies.models import Agency
from doorstep.cameras.models import Camera
from doorstep.clips import served_store as served_bytes
from doorstep.clips.models import Clip
from doorstep.errors import Conflict, InvalidInput, NotFound
from doorstep.legal import rules
from doorstep.legal.models import (
    DemandOutcome,
    DemandStatus,
    Disclosure,
    EmergencyRequest,
    LegalDemand,
    NonDisclosureOrder,
    NoticeState,
)
from doorstep.legal.schemas import CASE_NUMBER_MAX, COURT_MAX, REFERENCE_MAX
from doorstep.platform.types import new_id, utcnow

# --- demands -------------------------------------------------------------------------------------


def _text(value: str, *, field: str, limit: int, what: str) -> str:
    clean = " ".join(value.split())
    if not clean or len(clean) > limit:
        raise InvalidInput(f"{what} is 1 to {limit} characters", field=field)
    return clean


def record_demand(
    db: Session,
    reviewer: User,
    *,
    kind: str,
    agency: Agency,
    court: str,
    reference: str,
    document_sha256: str,
    account_id: str,
    device_ids: Sequence[str],
    window_start: datetime | None,
    window_end: datetime | None,
    covers_footage: bool,
    allows_unredacted: bool,
    indoor_device_ids: Sequence[str] = (),
) -> LegalDemand:
    """Check a demand's scope against the rules and store it."""
    try:
        demand_kind = rules.DemandKind(kind)
    except ValueError as err:
        raise InvalidInput("the kind is warrant, subpoena or court_order", field="kind") from err
    digest = document_sha256.strip().lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise InvalidInput("give the document's SHA-256 as 64 hex digits", field="document_sha256")
    if db.get(User, account_id) is None:
        raise NotFound("no account has that id", field="account_id")
    devices = sorted(set(device_ids))
    checked = rules.LegalDemand(
        kind=demand_kind,
        account_id=account_id,
        device_ids=frozenset(devices),
        window_start=window_start,
        window_end=window_end,
        covers_footage=covers_footage or demand_kind is rules.DemandKind.WARRANT,
        allows_unredacted=allows_unredacted,
        indoor_named=frozenset(indoor_device_ids),
    )
    if devices:
        owned = set(
            db.scalars(
                select(Camera.id).where(Camera.id.in_(devices), Camera.owner_id == account_id)
            )
        )
        if owned != set(devices):
            raise InvalidInput("every device must belong to the named account", field="device_ids")
    demand = LegalDemand(
        kind=demand_kind.value,
        agency_id=agency.id,
        court=_text(court, field="court", limit=COURT_MAX, what="the court"),
        reference=_text(reference, field="reference", limit=REFERENCE_MAX, what="the reference"),
        document_sha256=digest,
        account_id=account_id,
        device_ids=devices,
        window_start=window_start,
        window_end=window_end,
        covers_footage=checked.reaches_footage,
        allows_unredacted=checked.allows_unredacted,
        indoor_device_ids=sorted(checked.indoor_named),
        recorded_by=reviewer.id,
        recorded_at=utcnow(),
    )
    db.add(demand)
    db.flush()
    return demand


def get_demand(db: Session, demand_id: str) -> LegalDemand:
    """One demand, or NotFound."""
    demand = db.get(LegalDemand, demand_id)
    if demand is None:
        raise NotFound("no such legal demand")
    return demand


def demands(db: Session) -> list[LegalDemand]:
    """Every demand, newest first."""
    return list(db.scalars(select(LegalDemand).order_by(LegalDemand.recorded_at.desc())))


def record_order(
    db: Session, reviewer: User, demand: LegalDemand, ends_at: datetime | None
) -> NonDisclosureOrder:
    """Record a non-disclosure order; it must end, and notices already due wait until it does."""
    checked = rules.NonDisclosureOrder(demand_id=demand.id, ends_at=ends_at)
    assert checked.ends_at is not None
    if db.get(NonDisclosureOrder, demand.id) is not None:
        raise Conflict("this demand already has a non-disclosure order")
    order = NonDisclosureOrder(
        demand_id=demand.id, ends_at=checked.ends_at, recorded_by=reviewer.id
    )
    db.add(order)
    for row in _pending_for(db, demand_id=demand.id):
        row.notice_due_at = rules.notice_due(row.created_at, checked)
    db.flush()
    return order


def order_for(db: Session, demand_id: str) -> NonDisclosureOrder | None:
    """The demand's non-disclosure order, if one was recorded."""
    return db.get(NonDisclosureOrder, demand_id)


def close_demand(db: Session, demand: LegalDemand, outcome: str) -> LegalDemand:
    """Close a demand with how Doorstep answered it."""
    if demand.status == DemandStatus.CLOSED.value:
        raise Conflict("this demand is already closed")
    try:
        demand.outcome = DemandOutcome(outcome).value
    except ValueError as err:
        raise InvalidInput(
            "the outcome is complied_full, complied_partial or rejected", field="outcome"
        ) from err
    demand.status = DemandStatus.CLOSED.value
    demand.closed_at = utcnow()
    db.flush()
    return demand


def clips_in_scope(
    db: Session, device_ids: Sequence[str], start: datetime | None, end: datetime | None
) -> list[Clip]:
    """Clips still held from the devices, wholly inside the window, oldest first."""
    if not device_ids or start is None or end is None:
        return []
    query = select(Clip).where(
        Clip.camera_id.in_(list(device_ids)),
        Clip.started_at >= start,
        Clip.ended_at <= end,
        Clip.wrapped_key.is_not(None),
    )
    return list(db.scalars(query.order_by(Clip.started_at)))


# --- emergencies ---------------------------------------------------------------------------------


def file_emergency(
    db: Session,
    agency: Agency,
    member: User,
    *,
    case_number: str,
    device_ids: Sequence[str],
    window_start: datetime,
    window_end: datetime,
    attestation: str,
    category: str = rules.EmergencyCategory.OTHER.value,
) -> EmergencyRequest:
    """Check and store an emergency request, waiting for two reviewers."""
    if category not in set(rules.EmergencyCategory):
        raise InvalidInput("state the emergency's category from the list", field="category")
    devices = sorted(set(device_ids))
    known = set(db.scalars(select(Camera.id).where(Camera.id.in_(devices)))) if devices else set()
    if known != set(devices):
        raise NotFound("no camera has one of those ids", field="device_ids")
    request_id = new_id()
    checked = rules.file_emergency(
        request_id, agency.id, frozenset(devices), window_start, window_end, attestation, utcnow()
    )
    row = EmergencyRequest(
        id=request_id,
        agency_id=agency.id,
        filed_by=member.id,
        case_number=_text(
            case_number, field="case_number", limit=CASE_NUMBER_MAX, what="the case number"
        ),
        category=category,
        device_ids=devices,
        window_start=checked.window_start,
        window_end=checked.window_end,
        attestation=checked.attestation,
        filed_at=checked.filed_at,
        state=checked.state.value,
        approvals=[],
    )
    db.add(row)
    db.flush()
    return row


def get_emergency(db: Session, request_id: str) -> EmergencyRequest:
    """One emergency request, locked for a decision, or NotFound."""
    row = db.scalar(
        select(EmergencyRequest).where(EmergencyRequest.id == request_id).with_for_update()
    )
    if row is None:
        raise NotFound("no such emergency request")
    return row


def emergencies(db: Session, agency_id: str | None = None) -> list[EmergencyRequest]:
    """Emergency requests, newest first; one agency's when given."""
    query = select(EmergencyRequest).order_by(EmergencyRequest.filed_at.desc())
    if agency_id is not None:
        query = query.where(EmergencyRequest.agency_id == agency_id)
    return list(db.scalars(query))


def mark_over(db: Session, row: EmergencyRequest, now: datetime) -> EmergencyRequest:
    """End an approved emergency; its disclosures' notices fall due now."""
    row.apply(rules.mark_over(row.rule(), now))
    due = rules.emergency_notice_due(row.rule())
    for disclosure in _pending_for(db, emergency_id=row.id):
        if due is not None:
            disclosure.notice_due_at = due
    db.flush()
    return row


# --- disclosures ---------------------------------------------------------------------------------


def _pending_for(
    db: Session, *, demand_id: str | None = None, emergency_id: str | None = None
) -> list[Disclosure]:
    query = select(Disclosure).where(Disclosure.notice_state == NoticeState.PENDING.value)
    if demand_id is not None:
        query = query.where(Disclosure.demand_id == demand_id)
    if emergency_id is not None:
        query = query.where(Disclosure.emergency_id == emergency_id)
    return list(db.scalars(query))


def due_notices(db: Session, now: datetime) -> list[Disclosure]:
    """Disclosures whose owners must be told by now and have not been, oldest first."""
    query = select(Disclosure).where(
        Disclosure.notice_state == NoticeState.PENDING.value, Disclosure.notice_due_at <= now
    )
    return list(db.scalars(query.order_by(Disclosure.created_at)))


def mark_notified(db: Session, disclosure: Disclosure, now: datetime) -> None:
    """Record that the owner was told."""
    disclosure.notice_state = NoticeState.NOTIFIED.value
    disclosure.notified_at = now
    db.flush()


def owner_disclosures(db: Session, owner: User) -> list[Disclosure]:
    """Disclosures the owner has been told of, newest first; ones still under an order are not."""
    query = select(Disclosure).where(
        Disclosure.owner_id == owner.id, Disclosure.notice_state == NoticeState.NOTIFIED.value
    )
    return list(db.scalars(query.order_by(Disclosure.created_at.desc())))


def disclosure_by_hash(db: Session, sha256: str) -> Disclosure | None:
    """The disclosed copy whose file has this SHA-256, if Doorstep made one."""
    return db.scalar(select(Disclosure).where(Disclosure.sha256 == sha256.lower()).limit(1))


def agency_disclosures(db: Session, agency: Agency) -> list[Disclosure]:
    """What was disclosed to the agency under legal process or an emergency, newest first."""
    query = select(Disclosure).where(Disclosure.agency_id == agency.id)
    return list(db.scalars(query.order_by(Disclosure.created_at.desc())))


def agency_disclosure(db: Session, agency: Agency, disclosure_id: str) -> Disclosure:
    """One disclosure to the agency, or NotFound (another agency's is never visible)."""
    row = db.get(Disclosure, disclosure_id)
    if row is None or row.agency_id != agency.id:
        raise NotFound("no such disclosure")
    return row


def serve_disclosure(
    db: Session, row: Disclosure, reader: User, first: int, last: int
) -> served_bytes.Coverage:
    """Record bytes ``first..last`` of a disclosed copy as served to ``reader`` (I2, I5).

    As for a share: the piece is written first and the disclosure row locked next, so pieces
    served at once are counted together; once they cover the file it is downloaded.
    """
    piece = served_bytes.insert_piece(
        db, first=first, last=last, reader_id=reader.id, disclosure_id=row.id
    )
    locked = db.scalar(
        select(Disclosure)
        .where(Disclosure.id == row.id)
        # FOR NO KEY UPDATE on PostgreSQL: the piece's foreign key already holds a key-share
        # lock on this row, which a plain FOR UPDATE would wait on (two pieces: a deadlock).
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if locked is None or locked.wrapped_key is None:
        raise NotFound("no such disclosure")
    coverage = served_bytes.coverage(db, piece, locked.size)
    if coverage.whole and locked.downloaded_at is None:
        locked.downloaded_at = utcnow()
        db.flush()
    return coverage


def disclosures_for(
    db: Session, *, demand_id: str | None = None, emergency_id: str | None = None
) -> list[Disclosure]:
    """Disclosures made under one demand or one emergency, oldest first."""
    query = select(Disclosure)
    if demand_id is not None:
        query = query.where(Disclosure.demand_id == demand_id)
    if emergency_id is not None:
        query = query.where(Disclosure.emergency_id == emergency_id)
    return list(db.scalars(query.order_by(Disclosure.created_at)))


def already_disclosed(db: Session, basis_id: str, clip_id: str) -> bool:
    """Whether the clip already went out under this demand or emergency."""
    query = select(Disclosure.id).where(
        Disclosure.clip_id == clip_id,
        (Disclosure.demand_id == basis_id) | (Disclosure.emergency_id == basis_id),
    )
    return db.scalar(query) is not None


# --- what the use cases look up ----------------------------------------------------------------


def find_demand(db: Session, demand_id: str | None) -> LegalDemand | None:
    """A demand by id, or None."""
    return db.get(LegalDemand, demand_id) if demand_id else None


def find_emergency(db: Session, request_id: str | None) -> EmergencyRequest | None:
    """An emergency request by id (not locked), or None."""
    return db.get(EmergencyRequest, request_id) if request_id else None


def find_clip(db: Session, clip_id: str) -> Clip | None:
    """A clip by id, or None."""
    return db.get(Clip, clip_id)


def find_user(db: Session, user_id: str) -> User | None:
    """An account by id, or None."""
    return db.get(User, user_id)


def account_by_email(db: Session, email: str) -> User | None:
    """The account with this email (compared in lower case, trimmed), or None."""
    return db.scalar(select(User).where(User.email == email.strip().lower()))


def camera_count(db: Session, owner_id: str) -> int:
    """How many cameras an account has."""
    return int(db.scalar(select(func.count()).where(Camera.owner_id == owner_id)) or 0)


def demand_id_with_reference(db: Session, reference: str) -> str | None:
    """The id of a demand recorded with this reference, or None."""
    return db.scalar(select(LegalDemand.id).where(LegalDemand.reference == reference))


def emergency_id_for_case(db: Session, case_number: str) -> str | None:
    """The id of an emergency request filed for this case number, or None."""
    query = select(EmergencyRequest.id).where(EmergencyRequest.case_number == case_number)
    return db.scalar(query)
