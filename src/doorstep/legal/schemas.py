"""Legal demands, emergency requests and disclosures as the API reads and writes them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from doorstep.accounts.schemas import Strict
from doorstep.legal.rules import EmergencyCategory

#: How long each text a reviewer or an agency writes may be, for forms, API and storage alike.
COURT_MAX = 200
REFERENCE_MAX = 120
CASE_NUMBER_MAX = 60
ATTESTATION_MAX = 4000
REASON_MAX = 2000


class DemandCreate(Strict):
    """A warrant, subpoena or court order and its scope, as the reviewer read it."""

    kind: Literal["warrant", "subpoena", "court_order"]
    agency_id: Annotated[str, Field(max_length=32)]
    court: Annotated[str, Field(max_length=COURT_MAX)]
    reference: Annotated[str, Field(max_length=REFERENCE_MAX)]
    document_sha256: Annotated[str, Field(max_length=64)]
    account_id: Annotated[str, Field(max_length=32)]
    device_ids: Annotated[list[str], Field(max_length=50)] = []
    window_start: datetime | None = None
    window_end: datetime | None = None
    covers_footage: bool = False
    allows_unredacted: bool = False
    indoor_device_ids: Annotated[list[str], Field(max_length=50)] = Field(
        [],
        description="Indoor cameras the document names explicitly, each also in device_ids; "
        "a demand reaches no other indoor camera",
    )


class OrderCreate(Strict):
    """A non-disclosure order: it must say when it ends."""

    ends_at: datetime | None = None


class DiscloseBody(Strict):
    """Which clips to disclose (none named: every clip in scope), and whether unredacted."""

    clip_ids: Annotated[list[str], Field(max_length=200)] = []
    unredacted: bool = False


class CloseBody(Strict):
    """How Doorstep answered the demand."""

    outcome: Literal["complied_full", "complied_partial", "rejected"]


class EmergencyCreate(Strict):
    """An emergency request: case, cameras, a short window and a written attestation."""

    case_number: Annotated[str, Field(max_length=CASE_NUMBER_MAX)]
    device_ids: Annotated[list[str], Field(min_length=1, max_length=20)]
    window_start: datetime
    window_end: datetime
    attestation: Annotated[str, Field(max_length=ATTESTATION_MAX)]
    category: EmergencyCategory = Field(
        EmergencyCategory.OTHER,
        description="The kind of emergency, published with the request after its delay",
    )


class RefuseBody(Strict):
    """Why a reviewer refused."""

    reason: Annotated[str, Field(min_length=1, max_length=REASON_MAX)]


class DisclosurePublic(BaseModel):
    """A disclosure as staff and the receiving agency see it."""

    id: str
    basis: str
    demand_id: str | None
    emergency_id: str | None
    agency_name: str
    what: str
    account_info: dict[str, Any] | None
    clip_started_at: datetime | None
    clip_ended_at: datetime | None
    unredacted: bool
    sha256: str
    size: int
    created_at: datetime
    downloaded_at: datetime | None
    video_url: str | None
    download_url: str | None = Field(
        description="POST here (never GET) to download the whole file; it is recorded and "
        "the owner is told (once the notice is due)."
    )


class OwnerDisclosure(BaseModel):
    """A disclosure as its owner is told of it."""

    id: str
    basis: str
    agency_name: str
    what: str
    legal_kind: str | None
    court: str | None
    case: str
    clip_id: str | None
    clip_started_at: datetime | None
    unredacted: bool
    disclosed_at: datetime
    notified_at: datetime | None
    downloaded_at: datetime | None
    #: Set when the notice waited: for a non-disclosure order's end or an emergency's end.
    delayed_until: datetime | None


class DemandPublic(BaseModel):
    """A recorded demand with what was disclosed under it."""

    id: str
    kind: str
    agency_id: str
    agency_name: str
    court: str
    reference: str
    document_sha256: str
    account_id: str | None
    device_ids: list[str]
    window_start: datetime | None
    window_end: datetime | None
    covers_footage: bool
    allows_unredacted: bool
    indoor_device_ids: list[str]
    recorded_at: datetime
    status: str
    outcome: str | None
    order_ends_at: datetime | None
    disclosures: list[DisclosurePublic]


class EmergencyPublic(BaseModel):
    """An emergency request and where it stands."""

    id: str
    agency_id: str
    agency_name: str
    case_number: str
    category: str
    device_ids: list[str]
    window_start: datetime
    window_end: datetime
    attestation: str
    filed_at: datetime
    state: str
    approvals: int
    refusal_reason: str | None
    approved_at: datetime | None
    over_at: datetime | None
    notice_due_at: datetime | None
    owners_notified_at: datetime | None
    #: Clips disclosed under it. How many end-to-end encrypted clips fall in its window is told
    #: to nobody: the agency would learn which cameras record, and when, without any disclosure.
    disclosed: int


class PublishedEmergency(BaseModel):
    """An emergency request as published for review once its delay passed: no resident in it."""

    agency_name: str
    filed_on: str = Field(description="The day it was filed (UTC), YYYY-MM-DD")
    category: str
    outcome: str = Field(description="approved (by two reviewers) or refused")
    reviewers: int = Field(description="How many reviewers decided it")
    footage_disclosed: bool
    published_at: datetime


class DisclosureHashRecord(BaseModel):
    """What the public record says of a disclosed copy's SHA-256: on what basis, to whom, when."""

    sha256: str
    basis: str
    agency_name: str
    disclosed_at: datetime
    size: int
