"""Memberships by consent: an invitation the invited person accepts or declines.

Nobody joins an agency or a camera's household because someone else typed their email: the
inviter makes an invitation addressed to an email, and only the holder of an account with that
email can accept it, within ``INVITATION_LIFETIME``. Inviting tells the inviter nothing about
whether that email has an account (the answer is the same either way), so an invitation is kept
against the email alone and is there for whoever holds that email when they look.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from doorstep.errors import Conflict, InvalidInput, NotFound

#: How long an invitation may be accepted; defined here once, read by storage, API and pages.
INVITATION_LIFETIME = timedelta(days=7)
#: Pending invitations one agency or one camera may have at once (a bound, not a quota to meet).
MAX_PENDING_INVITATIONS = 200


class InvitationKind(StrEnum):
    """What accepting gives."""

    #: Membership of an agency: its requests, its camera map, its evidence locker.
    AGENCY = "agency"
    #: Viewing one camera's clips as a member of the owner's household.
    HOUSEHOLD = "household"


class InvitationState(StrEnum):
    """Where an invitation stands."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


def _aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"{name} must carry a time zone", field=name)


@dataclass(frozen=True, slots=True)
class Invitation:
    """An invitation addressed to an email; ``answered_at`` is set once it leaves pending."""

    invitation_id: str
    kind: InvitationKind
    email: str
    created_at: datetime
    expires_at: datetime
    state: InvitationState = InvitationState.PENDING
    answered_at: datetime | None = None

    def __post_init__(self) -> None:
        _aware(self.created_at, "created_at")
        _aware(self.expires_at, "expires_at")


def expiry(created_at: datetime) -> datetime:
    """When an invitation made at ``created_at`` can no longer be accepted."""
    _aware(created_at, "created_at")
    return created_at + INVITATION_LIFETIME


def state_at(invitation: Invitation, now: datetime) -> InvitationState:
    """The invitation's state at ``now``: a pending one past its end is expired."""
    _aware(now, "now")
    if invitation.state is InvitationState.PENDING and now >= invitation.expires_at:
        return InvitationState.EXPIRED
    return invitation.state


def is_addressed_to(invitation: Invitation, email: str) -> bool:
    """Whether the account holding ``email`` (already normalised) is the one invited."""
    return invitation.email == email


def _answer(invitation: Invitation, email: str, to: InvitationState, now: datetime) -> Invitation:
    if not is_addressed_to(invitation, email):
        # Someone else's invitation is not even confirmed to exist.
        raise NotFound("no such invitation among yours")
    current = state_at(invitation, now)
    if current is not InvitationState.PENDING:
        raise Conflict(f"this invitation is {current.value}; it cannot be {to.value} now")
    return replace(invitation, state=to, answered_at=now)


def accept(invitation: Invitation, email: str, now: datetime) -> Invitation:
    """The invited person says yes: only now do they become a member."""
    return _answer(invitation, email, InvitationState.ACCEPTED, now)


def decline(invitation: Invitation, email: str, now: datetime) -> Invitation:
    """The invited person says no: nothing changes for them."""
    return _answer(invitation, email, InvitationState.DECLINED, now)


def withdraw(invitation: Invitation, now: datetime) -> Invitation:
    """The inviter takes a pending invitation back."""
    current = state_at(invitation, now)
    if current is not InvitationState.PENDING:
        raise Conflict(f"this invitation is {current.value}; it cannot be withdrawn now")
    return replace(invitation, state=InvitationState.WITHDRAWN, answered_at=now)
