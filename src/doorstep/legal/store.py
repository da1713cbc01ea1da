"""Legal demands, non-disclosure orders, emergency requests, disclosures, partnerships, tree heads.

Every way footage or account information leaves an owner other than their own consent is a
``Disclosure`` row here, tied to its legal basis (a demand or an approved emergency), so the owner
can be told (I5) and the transparency report can count it (I2).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from doorstep.accounts.models import User
from doorstep.agencies.models import Agency
from doorstep.cameras.models import Camera
from doorstep.clips import served_store as served_bytes
from doorstep.clips.models import Clip
from doorstep.errors import Conflict, InvalidInput, NotFound
from doorstep.legal import rules
from doorstep.platform.orm import Base
from doorstep.platform.types import new_id, utcnow
from doorstep.transparency import audit_store as audit
from doorstep.transparency.merkle import SignedTreeHead


class DemandStatus(StrEnum):
    """Where a legal demand stands."""

    OPEN = "open"
    CLOSED = "closed"


class DemandOutcome(StrEnum):
    """How Doorstep answered a demand, as the transparency report counts it."""

    COMPLIED_FULL = "complied_full"
    COMPLIED_PARTIAL = "complied_partial"
    REJECTED = "rejected"


class DisclosureBasis(StrEnum):
    """Why something left the owner without their consent."""

    LEGAL_DEMAND = "legal_demand"
    EMERGENCY = "emergency"


class NoticeState(StrEnum):
    """Whether the owner has been told."""

    PENDING = "pending_notice"
    NOTIFIED = "notified"


class PartnershipStatus(StrEnum):
    """Whether a programme passed the rules."""

    PUBLISHED = "published"
    REFUSED = "refused"


class LegalDemand(Base):
    """A warrant, subpoena or court order a reviewer recorded, with its scope."""

    __tablename__ = "legal_demands"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(20))
    agency_id: Mapped[str] = mapped_column(
        ForeignKey("agencies.id", ondelete="RESTRICT"), index=True
    )
    court: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str] = mapped_column(String(120))
    document_sha256: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    device_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    window_start: Mapped[datetime | None] = mapped_column()
    window_end: Mapped[datetime | None] = mapped_column()
    covers_footage: Mapped[bool] = mapped_column(Boolean, default=False)
    allows_unredacted: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    status: Mapped[str] = mapped_column(String(10), default=DemandStatus.OPEN.value)
    outcome: Mapped[str | None] = mapped_column(String(20))
    closed_at: Mapped[datetime | None] = mapped_column()

    agency: Mapped[Agency] = relationship()

    def rule(self) -> rules.LegalDemand:
        """The demand as the domain's rules see it."""
        return rules.LegalDemand(
            kind=rules.DemandKind(self.kind),
            account_id=self.account_id or "",
            device_ids=frozenset(self.device_ids),
            window_start=self.window_start,
            window_end=self.window_end,
            covers_footage=self.covers_footage,
            allows_unredacted=self.allows_unredacted,
        )


class NonDisclosureOrder(Base):
    """A court's order delaying the owner's notice of a demand, until its end date."""

    __tablename__ = "non_disclosure_orders"

    demand_id: Mapped[str] = mapped_column(
        ForeignKey("legal_demands.id", ondelete="CASCADE"), primary_key=True
    )
    ends_at: Mapped[datetime] = mapped_column()
    recorded_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class EmergencyRequest(Base):
    """An agency's request for footage without a warrant because a life is at risk."""

    __tablename__ = "emergency_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    agency_id: Mapped[str] = mapped_column(
        ForeignKey("agencies.id", ondelete="RESTRICT"), index=True
    )
    filed_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    case_number: Mapped[str] = mapped_column(String(60))
    device_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    window_start: Mapped[datetime] = mapped_column()
    window_end: Mapped[datetime] = mapped_column()
    attestation: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    state: Mapped[str] = mapped_column(String(10), default=rules.EmergencyState.PENDING.value)
    approvals: Mapped[list[str]] = mapped_column(JSON, default=list)
    refused_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    approved_at: Mapped[datetime | None] = mapped_column()
    over_at: Mapped[datetime | None] = mapped_column()
    owners_notified_at: Mapped[datetime | None] = mapped_column()

    agency: Mapped[Agency] = relationship()

    def rule(self) -> rules.EmergencyRequest:
        """The request as the domain's rules see it."""
        return rules.EmergencyRequest(
            request_id=self.id,
            agency_id=self.agency_id,
            device_ids=frozenset(self.device_ids),
            window_start=self.window_start,
            window_end=self.window_end,
            attestation=self.attestation,
            filed_at=self.filed_at,
            state=rules.EmergencyState(self.state),
            approvals=tuple(self.approvals),
            refused_by=self.refused_by,
            approved_at=self.approved_at,
            over_at=self.over_at,
        )

    def apply(self, decided: rules.EmergencyRequest) -> None:
        """Store what the rules decided."""
        self.state = decided.state.value
        self.approvals = list(decided.approvals)
        self.refused_by = decided.refused_by
        self.approved_at = decided.approved_at
        self.over_at = decided.over_at


class Disclosure(Base):
    """One clip or one account's information handed to an agency without the owner's consent."""

    __tablename__ = "disclosures"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    basis: Mapped[str] = mapped_column(String(20))
    demand_id: Mapped[str | None] = mapped_column(
        ForeignKey("legal_demands.id", ondelete="RESTRICT"), index=True
    )
    emergency_id: Mapped[str | None] = mapped_column(
        ForeignKey("emergency_requests.id", ondelete="RESTRICT"), index=True
    )
    agency_id: Mapped[str] = mapped_column(
        ForeignKey("agencies.id", ondelete="RESTRICT"), index=True
    )
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: "footage" or "account" (a subpoena's name, email and camera count).
    what: Mapped[str] = mapped_column(String(10))
    account_info: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    clip_id: Mapped[str | None] = mapped_column(
        ForeignKey("clips.id", ondelete="SET NULL"), index=True
    )
    camera_id: Mapped[str | None] = mapped_column(String(32))
    clip_started_at: Mapped[datetime | None] = mapped_column()
    clip_ended_at: Mapped[datetime | None] = mapped_column()
    unredacted: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The agency copy's key wrapped by the master key, as for a share.
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    ciphertext_size: Mapped[int] = mapped_column(Integer, default=0)
    faces_found: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    downloaded_at: Mapped[datetime | None] = mapped_column()
    notice_state: Mapped[str] = mapped_column(String(20), default=NoticeState.PENDING.value)
    #: When the owner must be told: at once, when an order ends, or when an emergency is over.
    notice_due_at: Mapped[datetime] = mapped_column(index=True)
    notified_at: Mapped[datetime | None] = mapped_column()

    agency: Mapped[Agency] = relationship()

    @property
    def blob_key(self) -> str:
        """Where the sealed agency copy lives."""
        return f"disclosures/{self.id}.mp4.sealed"


class Partnership(Base):
    """A programme an agency published, or tried to, with the reason when it was refused."""

    __tablename__ = "partnerships"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    agency_id: Mapped[str] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    terms_text: Mapped[str] = mapped_column(Text)
    conditions: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10))
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    submitted_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PublishedTreeHead(Base):
    """A tree head the server signed and published, kept so later heads can be proven consistent."""

    __tablename__ = "audit_tree_heads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    size: Mapped[int] = mapped_column(Integer, index=True)
    root: Mapped[str] = mapped_column(String(64))
    timestamp: Mapped[datetime] = mapped_column()
    signature: Mapped[str] = mapped_column(String(120))


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
        court=_text(court, field="court", limit=200, what="the court"),
        reference=_text(reference, field="reference", limit=120, what="the reference"),
        document_sha256=digest,
        account_id=account_id,
        device_ids=devices,
        window_start=window_start,
        window_end=window_end,
        covers_footage=checked.reaches_footage,
        allows_unredacted=checked.allows_unredacted,
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
) -> EmergencyRequest:
    """Check and store an emergency request, waiting for two reviewers."""
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
        case_number=_text(case_number, field="case_number", limit=60, what="the case number"),
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


# --- partnerships --------------------------------------------------------------------------------


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


# --- published tree heads ------------------------------------------------------------------------


def publish_head(db: Session, master_key: bytes) -> PublishedTreeHead:
    """Sign the current tree head and keep it, unless the log has not grown since the last one."""
    # Without the hold, the periodic job and a reader publishing at once both keep a head of
    # the same size, and the history shows it twice.
    audit.hold_log(db)
    last = db.scalar(select(PublishedTreeHead).order_by(PublishedTreeHead.id.desc()).limit(1))
    size = audit.tree_head_size(db)
    if last is not None and last.size == size:
        return last
    signed = audit.tree_head(db, master_key)
    row = PublishedTreeHead(
        size=signed.size,
        root=signed.root.hex(),
        timestamp=signed.timestamp,
        signature=base64.b64encode(signed.signature).decode(),
    )
    db.add(row)
    db.flush()
    return row


def published_heads(db: Session, limit: int = 1000, from_size: int = 0) -> list[PublishedTreeHead]:
    """Published heads of ``from_size`` entries or more, oldest first, at most ``limit``."""
    query = (
        select(PublishedTreeHead)
        .where(PublishedTreeHead.size >= from_size)
        .order_by(PublishedTreeHead.id)
        .limit(limit)
    )
    return list(db.scalars(query))


def signed(row: PublishedTreeHead) -> SignedTreeHead:
    """A stored head as the domain's signed tree head."""
    return SignedTreeHead(
        size=row.size,
        root=bytes.fromhex(row.root),
        timestamp=row.timestamp,
        signature=base64.b64decode(row.signature),
    )
