"""An owner's answer to a Request for Assistance and the life of what they shared (invariant I2)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from doorstep.errors import Conflict, InvalidInput

#: How long an agency keeps access to a share unless the owner revokes it first.
DEFAULT_SHARE_LIFETIME = timedelta(days=90)


class AnswerState(StrEnum):
    """Where an owner stands on one request."""

    PENDING = "pending"
    SHARED = "shared"
    DECLINED = "declined"
    EXPIRED = "expired"


class ShareState(StrEnum):
    """Where a share of footage with an agency stands."""

    ACTIVE = "active"
    REVOKED = "revoked"
    DOWNLOADED = "downloaded"
    EXPIRED = "expired"
    #: The owner's footage was deleted (by them or their retention): no copy is left (I6).
    WITHDRAWN = "withdrawn"


def _aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"{name} must carry a time zone", field=name)


@dataclass(frozen=True, slots=True)
class OwnerAnswer:
    """One owner's answer to one request; the request closes to answers at ``respond_by``."""

    request_id: str
    owner_id: str
    respond_by: datetime
    state: AnswerState = AnswerState.PENDING
    answered_at: datetime | None = None

    def __post_init__(self) -> None:
        _aware(self.respond_by, "respond_by")


def answer_state(answer: OwnerAnswer, now: datetime) -> AnswerState:
    """Return the answer's state at ``now``; an unanswered request past its end is expired."""
    _aware(now, "now")
    if answer.state is AnswerState.PENDING and now >= answer.respond_by:
        return AnswerState.EXPIRED
    return answer.state


def _answer(answer: OwnerAnswer, to: AnswerState, now: datetime) -> OwnerAnswer:
    current = answer_state(answer, now)
    if current is not AnswerState.PENDING:
        raise Conflict(f"this request is already {current.value}; it cannot be {to.value} now")
    return replace(answer, state=to, answered_at=now)


def share(answer: OwnerAnswer, now: datetime) -> OwnerAnswer:
    """Record that the owner agreed to share footage for this request."""
    return _answer(answer, AnswerState.SHARED, now)


def decline(answer: OwnerAnswer, now: datetime) -> OwnerAnswer:
    """Record that the owner declined; agencies never learn who declined (invariant I3)."""
    return _answer(answer, AnswerState.DECLINED, now)


def expire_answer(answer: OwnerAnswer, now: datetime) -> OwnerAnswer:
    """Close an unanswered request once its time is up."""
    if (
        answer_state(answer, now) is not AnswerState.EXPIRED
        or answer.state is not AnswerState.PENDING
    ):
        raise Conflict(
            f"only an unanswered request past its end can expire, not {answer.state.value}"
        )
    return replace(answer, state=AnswerState.EXPIRED)


@dataclass(frozen=True, slots=True)
class Share:
    """Footage an owner chose to give an agency, and until when."""

    share_id: str
    request_id: str
    owner_id: str
    created_at: datetime
    expires_at: datetime
    state: ShareState = ShareState.ACTIVE
    changed_at: datetime | None = None

    def __post_init__(self) -> None:
        _aware(self.created_at, "created_at")
        _aware(self.expires_at, "expires_at")
        if self.expires_at <= self.created_at:
            raise InvalidInput("a share must end after it starts", field="expires_at")


def open_share(
    answer: OwnerAnswer,
    share_id: str,
    now: datetime,
    lifetime: timedelta = DEFAULT_SHARE_LIFETIME,
) -> Share:
    """Open a share for an answer the owner gave as shared."""
    if answer.state is not AnswerState.SHARED:
        raise Conflict("footage is shared only after the owner agreed to share it")
    return Share(
        share_id=share_id,
        request_id=answer.request_id,
        owner_id=answer.owner_id,
        created_at=now,
        expires_at=now + lifetime,
    )


def share_state(item: Share, now: datetime) -> ShareState:
    """Return the share's state at ``now``, counting an active share past its end as expired."""
    _aware(now, "now")
    if item.state is ShareState.ACTIVE and now >= item.expires_at:
        return ShareState.EXPIRED
    return item.state


def _move(item: Share, to: ShareState, now: datetime) -> Share:
    current = share_state(item, now)
    if current is not ShareState.ACTIVE:
        raise Conflict(f"this share is {current.value}; it cannot become {to.value}")
    return replace(item, state=to, changed_at=now)


def revoke(item: Share, now: datetime) -> Share:
    """Withdraw a share the agency has not yet downloaded."""
    return _move(item, ShareState.REVOKED, now)


def mark_downloaded(item: Share, now: datetime) -> Share:
    """Record that the agency downloaded the footage; from now on it cannot be revoked."""
    return _move(item, ShareState.DOWNLOADED, now)


def withdraw(item: Share, now: datetime) -> Share:
    """The footage behind an open or downloaded share was deleted: the share is withdrawn.

    Unlike revoking, this is allowed after a download: deleting footage is always the owner's
    right, and Doorstep's own copy goes with it (invariant I6).
    """
    current = share_state(item, now)
    if current not in (ShareState.ACTIVE, ShareState.DOWNLOADED):
        raise Conflict(f"this share is {current.value}; it cannot be withdrawn")
    return replace(item, state=ShareState.WITHDRAWN, changed_at=now)


def expire_share(item: Share, now: datetime) -> Share:
    """Close an active share once its lifetime is over."""
    if item.state is not ShareState.ACTIVE or share_state(item, now) is not ShareState.EXPIRED:
        raise Conflict(f"only an active share past its end can expire, not {item.state.value}")
    return replace(item, state=ShareState.EXPIRED, changed_at=now)


#: Longest standing access an owner may grant a case on one camera.
MAX_STANDING = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class StandingGrant:
    """An owner's standing access for one case on one camera: forward-only in time.

    Only clips that start at or after ``granted_at`` and end before the grant stops (its end,
    its revocation or the case closing, whichever is first) are shared; nothing recorded before
    the grant, not even a clip that was still recording when it was given.
    """

    granted_at: datetime
    ends_at: datetime
    revoked_at: datetime | None = None
    case_closes_at: datetime | None = None

    def __post_init__(self) -> None:
        _aware(self.granted_at, "granted_at")
        _aware(self.ends_at, "ends_at")
        if not self.granted_at < self.ends_at <= self.granted_at + MAX_STANDING:
            raise InvalidInput(
                f"standing access lasts more than nothing and at most {MAX_STANDING.days} days",
                field="days",
            )


def standing_until(grant: StandingGrant, now: datetime) -> datetime:
    """The moment the grant stops covering footage, as far as is known at ``now``."""
    _aware(now, "now")
    stops = [grant.ends_at, now]
    stops += [t for t in (grant.revoked_at, grant.case_closes_at) if t is not None]
    return min(stops)


def standing_covers(
    grant: StandingGrant, started_at: datetime, ended_at: datetime, now: datetime
) -> bool:
    """Whether a clip lies wholly inside the grant: recorded after it was given, before it stops."""
    _aware(started_at, "started_at")
    _aware(ended_at, "ended_at")
    return grant.granted_at <= started_at and ended_at <= standing_until(grant, now)
