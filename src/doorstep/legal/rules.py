"""Scope of legal demands and emergency requests: what may be disclosed, and when owners hear."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from doorstep.errors import Conflict, InvalidInput, PolicyRefused

#: The longest stretch of footage an emergency request may cover.
MAX_EMERGENCY_WINDOW = timedelta(hours=6)
#: Owners hear of an emergency disclosure once it is over, and never later than this after approval.
EMERGENCY_NOTICE_LIMIT = timedelta(days=30)
MIN_ATTESTATION_LENGTH = 20
APPROVALS_NEEDED = 2
#: How long after it is decided an emergency request is published for public review, by default.
EMERGENCY_PUBLICATION_DELAY = timedelta(days=30)


class DemandKind(StrEnum):
    """The kinds of legal process Doorstep records."""

    WARRANT = "warrant"
    SUBPOENA = "subpoena"
    COURT_ORDER = "court_order"


def _aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"{name} must carry a time zone", field=name)


def _refuse(detail: str, reason: str) -> PolicyRefused:
    return PolicyRefused(detail, extra={"reason": reason})


@dataclass(frozen=True, slots=True)
class LegalDemand:
    """A warrant, subpoena or court order as a reviewer recorded it, with its scope."""

    kind: DemandKind
    account_id: str
    device_ids: frozenset[str] = frozenset()
    window_start: datetime | None = None
    window_end: datetime | None = None
    covers_footage: bool = False
    allows_unredacted: bool = False
    #: Indoor cameras the demand's document names explicitly; no other indoor camera is reached.
    indoor_named: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not self.indoor_named <= self.device_ids:
            raise InvalidInput(
                "an indoor camera the demand names must also be among its devices",
                field="indoor_device_ids",
            )
        if not self.account_id.strip():
            raise InvalidInput("a demand names the account it is about", field="account_id")
        if self.kind is DemandKind.SUBPOENA and (self.covers_footage or self.allows_unredacted):
            raise InvalidInput("a subpoena reaches account information only", field="kind")
        if self.allows_unredacted and not self.reaches_footage:
            raise InvalidInput("unredacted copies need a demand that covers footage", field="kind")
        if self.reaches_footage:
            if not self.device_ids:
                raise InvalidInput("a demand for footage names its devices", field="device_ids")
            if self.window_start is None or self.window_end is None:
                raise InvalidInput("a demand for footage names its time window", field="window")
            _aware(self.window_start, "window_start")
            _aware(self.window_end, "window_end")
            if self.window_end <= self.window_start:
                raise InvalidInput("the window must end after it starts", field="window_end")

    @property
    def reaches_footage(self) -> bool:
        """Return whether this demand may reach footage at all."""
        return self.kind is DemandKind.WARRANT or (
            self.kind is DemandKind.COURT_ORDER and self.covers_footage
        )


def check_account_disclosure(demand: LegalDemand, account_id: str) -> None:
    """Refuse account information about any account other than the one the demand names."""
    if account_id != demand.account_id:
        raise _refuse("the demand does not name this account", "account_out_of_scope")


def check_disclosure(
    demand: LegalDemand,
    device_id: str,
    clip_start: datetime,
    clip_end: datetime,
    unredacted: bool,
    *,
    indoor: bool = False,
) -> None:
    """Refuse (``PolicyRefused``) any clip a legal demand does not reach; return if it does.

    ``indoor`` is the camera's flag: an indoor camera is reached only when the demand names it
    explicitly as one (``indoor_named``), never by a list of devices alone.
    """
    _aware(clip_start, "clip_start")
    _aware(clip_end, "clip_end")
    if demand.kind is DemandKind.SUBPOENA:
        raise _refuse("a subpoena yields account information only, never footage", "subpoena")
    if not demand.reaches_footage:
        raise _refuse("this court order does not cover footage", "order_without_footage")
    _check_scope(
        demand.device_ids, demand.window_start, demand.window_end, device_id, clip_start, clip_end
    )
    check_indoor(demand, device_id, indoor=indoor)
    if unredacted and not demand.allows_unredacted:
        raise _refuse(
            "footage leaves with faces covered unless the warrant orders unredacted copies",
            "unredacted_not_allowed",
        )


def check_indoor(demand: LegalDemand, device_id: str, *, indoor: bool) -> None:
    """Refuse footage of an indoor camera the demand does not name explicitly."""
    if indoor and device_id not in demand.indoor_named:
        raise _refuse(
            "this is an indoor camera: only a demand that names it explicitly reaches it",
            "indoor_not_named",
        )


def _check_scope(
    devices: frozenset[str],
    start: datetime | None,
    end: datetime | None,
    device_id: str,
    clip_start: datetime,
    clip_end: datetime,
) -> None:
    if device_id not in devices:
        raise _refuse("this device is outside the scope", "device_out_of_scope")
    if (
        start is None
        or end is None
        or clip_start < start
        or clip_end > end
        or clip_end < clip_start
    ):
        raise _refuse("this clip is outside the time window", "outside_window")


@dataclass(frozen=True, slots=True)
class NonDisclosureOrder:
    """A court's order to delay telling owners; it must say when it ends."""

    demand_id: str
    ends_at: datetime | None

    def __post_init__(self) -> None:
        if self.ends_at is None:
            raise InvalidInput(
                "a non-disclosure order must have an end date; owners are told when it ends",
                field="ends_at",
            )
        _aware(self.ends_at, "ends_at")


def notice_due(disclosed_at: datetime, order: NonDisclosureOrder | None = None) -> datetime:
    """Return when the owner must be told of a disclosure: at once, or when the order ends."""
    _aware(disclosed_at, "disclosed_at")
    if order is None or order.ends_at is None:
        return disclosed_at
    return max(disclosed_at, order.ends_at)


class EmergencyCategory(StrEnum):
    """The kind of emergency an agency states when it files; published with the request."""

    THREAT_TO_LIFE = "threat_to_life"
    MISSING_PERSON = "missing_person"
    ABDUCTION = "abduction"
    SERIOUS_INJURY = "serious_injury"
    FIRE = "fire"
    OTHER = "other"


class EmergencyState(StrEnum):
    """Where an emergency request stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    OVER = "over"


@dataclass(frozen=True, slots=True)
class EmergencyRequest:
    """An agency's request for footage without a warrant because a life is at risk."""

    request_id: str
    agency_id: str
    device_ids: frozenset[str]
    window_start: datetime
    window_end: datetime
    attestation: str
    filed_at: datetime
    state: EmergencyState = EmergencyState.PENDING
    approvals: tuple[str, ...] = ()
    refused_by: str | None = None
    approved_at: datetime | None = None
    over_at: datetime | None = None


def file_emergency(
    request_id: str,
    agency_id: str,
    device_ids: frozenset[str],
    window_start: datetime,
    window_end: datetime,
    attestation: str,
    now: datetime,
) -> EmergencyRequest:
    """Check and open an emergency request, waiting for two reviewers."""
    for name, value in (("window_start", window_start), ("window_end", window_end), ("now", now)):
        _aware(value, name)
    if not device_ids:
        raise InvalidInput("name the devices the emergency concerns", field="device_ids")
    if window_end <= window_start:
        raise InvalidInput("the window must end after it starts", field="window_end")
    if window_end - window_start > MAX_EMERGENCY_WINDOW:
        raise _refuse("an emergency request covers at most 6 hours of footage", "window_too_long")
    text = attestation.strip()
    if len(text) < MIN_ATTESTATION_LENGTH:
        raise _refuse(
            "attest in writing to the danger to life or of serious injury that cannot wait",
            "attestation_missing",
        )
    return EmergencyRequest(
        request_id=request_id,
        agency_id=agency_id,
        device_ids=device_ids,
        window_start=window_start,
        window_end=window_end,
        attestation=text,
        filed_at=now,
    )


def _pending(request: EmergencyRequest) -> None:
    if request.state is not EmergencyState.PENDING:
        raise Conflict(f"this emergency request is already {request.state.value}")


def approve(request: EmergencyRequest, reviewer_id: str, now: datetime) -> EmergencyRequest:
    """Add one reviewer's approval; the second distinct reviewer approves the request."""
    _pending(request)
    if reviewer_id in request.approvals:
        raise Conflict("a second approval must come from a different reviewer")
    approvals = (*request.approvals, reviewer_id)
    if len(approvals) < APPROVALS_NEEDED:
        return replace(request, approvals=approvals)
    return replace(request, approvals=approvals, state=EmergencyState.APPROVED, approved_at=now)


def refuse(request: EmergencyRequest, reviewer_id: str) -> EmergencyRequest:
    """Refuse the request; one refusal ends it."""
    _pending(request)
    return replace(request, state=EmergencyState.REFUSED, refused_by=reviewer_id)


def mark_over(request: EmergencyRequest, now: datetime) -> EmergencyRequest:
    """Record that the emergency is over, so owners can be told."""
    if request.state is not EmergencyState.APPROVED:
        raise Conflict(f"only an approved emergency can end, not a {request.state.value} one")
    return replace(request, state=EmergencyState.OVER, over_at=now)


def check_emergency_approved(request: EmergencyRequest) -> None:
    """Refuse to disclose anything under an emergency request that is not approved now."""
    if request.state is not EmergencyState.APPROVED:
        raise _refuse(
            f"footage goes out only under an approved emergency, not a {request.state.value} one",
            "emergency_not_approved",
        )


def check_emergency_disclosure(
    request: EmergencyRequest,
    device_id: str,
    clip_start: datetime,
    clip_end: datetime,
    *,
    indoor: bool = False,
) -> None:
    """Refuse any clip an emergency request does not reach; only an approved one reaches any.

    ``indoor`` is the camera's flag: no emergency reaches an indoor camera. Only a legal
    demand whose document names it explicitly does (``check_indoor``); an agency's attestation
    is no such document.
    """
    check_emergency_approved(request)
    if indoor:
        raise _refuse(
            "this is an indoor camera: no emergency request reaches it, only a warrant "
            "that names it explicitly",
            "indoor_not_in_emergency",
        )
    _check_scope(
        request.device_ids,
        request.window_start,
        request.window_end,
        device_id,
        clip_start,
        clip_end,
    )


def emergency_notice_due(request: EmergencyRequest) -> datetime | None:
    """Return when owners must be told: once it is over, and at most 30 days after approval."""
    if request.approved_at is None:
        return None
    limit = request.approved_at + EMERGENCY_NOTICE_LIMIT
    if request.over_at is None:
        return limit
    return min(request.over_at, limit)


def emergency_published_at(
    request: EmergencyRequest, delay: timedelta = EMERGENCY_PUBLICATION_DELAY
) -> datetime | None:
    """Return when an emergency request is published for review; ``None`` while it is pending.

    An approved one waits for the delay after approval and never comes before its owners are
    told; a refused one (nothing disclosed) waits for the delay after it was filed.
    """
    if delay < timedelta(0):
        raise InvalidInput("the publication delay cannot be negative", field="delay")
    if request.state is EmergencyState.REFUSED:
        return request.filed_at + delay
    notice = emergency_notice_due(request)
    if request.approved_at is None or notice is None:
        return None
    return max(request.approved_at + delay, notice)
