"""What the request API reads and answers: requests, owners' answers, shares, the locker."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from doorstep.accounts.schemas import HomeLocation, Strict
from doorstep.requests.rules import (
    CASE_NUMBER_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    INCIDENT_TYPE_MAX_LENGTH,
    MAX_RADIUS_M,
)

#: Clips an owner may share with one request in one answer.
MAX_CLIPS_PER_ANSWER = 200


class CountRangePublic(BaseModel):
    """A count shown only as a range: "fewer than k" (0 to k - 1), or a bucket such as 10–19."""

    at_least: int = Field(description="The smallest the count may be.")
    at_most: int = Field(description="The largest the count may be.")
    label: str = Field(description='The range in words, e.g. "fewer than 5" or "10–19".')


class CountsPublic(BaseModel):
    """How many owners a request reached and how many shared, as ranges; never who declined (I3).

    Every count is coarse: fewer than k (the camera map's k-anonymity threshold, 5 unless
    configured) is withheld as the range 0 to k - 1, zero included; from k up a count is
    shown as its bucket (for k = 5: 5–9, 10–19, 20–49, 50–99 …). Declines and silence are one
    number nobody can split, and are never shown.
    """

    asked: CountRangePublic = Field(description="Owners asked; fewer than k is not told how many.")
    shared: CountRangePublic = Field(description="Owners who shared at least one clip.")
    clips_shared: CountRangePublic = Field(description="Clips shared with the request.")
    k: int = Field(description="The threshold below which a count is withheld.")


class ReachPublic(BaseModel):
    """What a request reaches: whole public map cells, never some homes of a cell."""

    cells: int = Field(
        description="Public map cells the request reaches: those its area meets that lie wholly "
        "inside the agency's jurisdiction. Every opted-in camera in them is asked, no other."
    )
    sq_mi: float = Field(description="Those cells' total area in square miles.")


class RfaPublic(BaseModel):
    """A Request for Assistance as everyone sees it."""

    id: str
    agency_id: str
    agency_name: str
    case_number: str
    incident_type: str
    offence_category: str = Field(
        description='A key of the public list at /request-policy; "" for requests sent before it.'
    )
    offence_label: str
    description: str
    area: dict[str, Any]
    area_sq_mi: float
    reach: ReachPublic
    window_start: datetime
    window_end: datetime
    created_at: datetime
    closed_at: datetime | None
    counts: CountsPublic
    url: str


class RfaCreate(Strict):
    """A request: a circle (centre and radius) or a GeoJSON polygon, and a past time window."""

    case_number: Annotated[str, Field(max_length=CASE_NUMBER_MAX_LENGTH)]
    incident_type: Annotated[str, Field(max_length=INCIDENT_TYPE_MAX_LENGTH)]
    offence_category: Annotated[str, Field(max_length=24)] = Field(
        description="One key of the public offence categories listed at /request-policy."
    )
    description: Annotated[str, Field(max_length=DESCRIPTION_MAX_LENGTH)]
    centre: HomeLocation | None = None
    radius_m: Annotated[float | None, Field(gt=0, le=MAX_RADIUS_M)] = None
    polygon: dict[str, Any] | None = Field(None, description="A GeoJSON Polygon ([lon, lat]).")
    window_start: datetime
    window_end: datetime


class AnswerCreate(Strict):
    """An owner's answer: share some clips (named or anonymously), or decline."""

    decision: Literal["share", "decline"]
    clip_ids: Annotated[list[str], Field(max_length=MAX_CLIPS_PER_ANSWER)] = []
    anonymous: bool = True


class OwnerClip(BaseModel):
    """One of the owner's clips inside a request's area and window."""

    id: str
    camera_name: str
    started_at: datetime
    ended_at: datetime
    preview_url: str


class AccessPublic(BaseModel):
    """A view or download of shared footage, as the owner sees it."""

    action: str
    at: datetime
    agency_name: str


class SharePrivate(BaseModel):
    """A share as its owner sees it: where it went, its state, every access."""

    id: str
    rfa_id: str
    agency_name: str
    case_number: str
    clip_id: str | None
    anonymous: bool
    state: str
    created_at: datetime
    expires_at: datetime
    downloaded_at: datetime | None
    sha256: str
    size: int
    bytes_served: int = Field(
        description="Distinct bytes of the agency's copy that have left Doorstep, over every "
        "view and download; once they are the whole file it counts as downloaded."
    )
    revocable: bool
    accesses: list[AccessPublic]
    terms_version: str | None = Field(
        description="Version of the onward-use terms the copy carries (see /request-policy); "
        "null for copies from before the terms were versioned."
    )
    terms: list[str] = Field(description="The onward-use terms of that version, in order.")


class InboxItem(BaseModel):
    """A request that reached the owner and where they stand on it."""

    request: RfaPublic
    answer: str
    answered_at: datetime | None


class InboxRequest(BaseModel):
    """A request with the owner's clips inside its area and window, and what they shared."""

    request: RfaPublic
    answer: str
    answered_at: datetime | None
    clips: list[OwnerClip]
    shares: list[SharePrivate]


class EvidencePublic(BaseModel):
    """A shared clip in the agency's locker; anonymous shares carry nothing about the owner.

    A share whose footage was deleted stays listed as ``withdrawn`` until it would have ended,
    with no links: Doorstep keeps no copy of it.
    """

    id: str
    rfa_id: str
    case_number: str
    shared_by: str | None
    anonymous: bool
    clip_started_at: datetime
    clip_ended_at: datetime
    shared_at: datetime
    expires_at: datetime
    state: str
    withdrawn_at: datetime | None
    note: str | None
    sha256: str
    size: int
    faces_blurred: int
    terms_version: str | None = Field(
        description="Version of the onward-use terms the copy carries (see /request-policy); "
        "null for copies from before the terms were versioned."
    )
    terms: list[str] = Field(description="The onward-use terms of that version, in order.")
    video_url: str | None
    download_url: str | None = Field(
        description="POST here (never GET) to download the whole file; it is recorded, the "
        "owner is told, and the owner can no longer withdraw it."
    )


class HashRecord(BaseModel):
    """What the public record says about a delivered file's SHA-256."""

    sha256: str
    share_id: str
    agency_name: str
    case_number: str
    rfa_id: str
    shared_at: datetime
    size: int


class StandingCreate(Strict):
    """Standing access for a request's case to one of your cameras it reached, for some days."""

    camera_id: Annotated[str, Field(max_length=32)]
    days: Annotated[int, Field(ge=1, le=30)] = Field(
        description="How long the grant lasts, 1 to 30 days; it stops earlier if the case closes."
    )
    anonymous: bool = True


class StandingPublic(BaseModel):
    """Standing access as its owner sees it: only clips recorded after ``granted_at`` are shared."""

    id: str
    rfa_id: str
    camera_id: str
    anonymous: bool
    granted_at: datetime
    ends_at: datetime
    revoked_at: datetime | None
    active: bool
