"""Legal demands, non-disclosure orders, emergency requests and disclosures: their tables.

Every way footage or account information leaves an owner other than their own consent is a
``Disclosure`` row, tied to its legal basis (a demand or an approved emergency), so the owner
can be told (I5) and the transparency report can count it (I2).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from doorstep.agencies.models import Agency
from doorstep.legal import rules
from doorstep.platform.orm import Base
from doorstep.platform.types import new_id, utcnow


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
    #: Indoor cameras the document names explicitly (each also in ``device_ids``).
    indoor_device_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
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
            indoor_named=frozenset(self.indoor_device_ids or ()),
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
    #: The kind of emergency the agency stated (rules.EmergencyCategory), published with it.
    category: Mapped[str] = mapped_column(
        String(20), default=rules.EmergencyCategory.OTHER.value, server_default="other"
    )
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
