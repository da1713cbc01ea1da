"""Memberships by consent: an invitation the invited person accepts or declines.

Nobody joins an agency or a camera's household because someone else typed their email: the
inviter makes an invitation addressed to an email, and only the holder of an account with that
email can accept it, within ``INVITATION_LIFETIME``. Inviting tells the inviter nothing about
whether that email has an account (the answer is the same either way), so an invitation is kept
against the email alone and is there for whoever holds that email when they look.

Holding the email is not proof: Doorstep does not verify addresses, so anyone may sign up with
the invited one. Accepting therefore also takes the invitation's one-time code, which the
inviter is shown once and hands to the person they mean (in person, by phone). Only its digest
is kept; after ``MAX_CODE_TRIES`` tries without the right code the invitation is void.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from doorstep.errors import Conflict, InvalidInput, NotFound

#: How long an invitation may be accepted; defined here once, read by storage, API and pages.
INVITATION_LIFETIME = timedelta(days=7)
#: Pending invitations one agency or one camera may have at once (a bound, not a quota to meet).
MAX_PENDING_INVITATIONS = 200
#: The letters a code is made of: no 0/O, 1/I/L or U/V pairs to misread over the phone.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTWXYZ23456789"
#: Letters in a code: 16 of 29 is about 77 bits, far beyond guessing in ``MAX_CODE_TRIES``.
CODE_LENGTH = 16
#: Tries with a code an invitation takes before it is void (the right code included).
MAX_CODE_TRIES = 5


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
    #: Too many tries without the right code; the inviter must invite again.
    VOID = "void"


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
    #: The digest of the one-time code (``code_digest``); the code itself is never kept.
    code_digest: str = ""
    #: Tries with a code so far (``MAX_CODE_TRIES`` of them without the right one: void).
    code_tries: int = 0
    state: InvitationState = InvitationState.PENDING
    answered_at: datetime | None = None

    def __post_init__(self) -> None:
        _aware(self.created_at, "created_at")
        _aware(self.expires_at, "expires_at")


def new_code() -> str:
    """A fresh one-time code, in groups of four (``ABCD-EFGH-JKMN-PQRS``) to read out."""
    letters = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(letters[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def normalise_code(code: str) -> str:
    """A code as typed, without case, spaces, dashes or width differences."""
    folded = unicodedata.normalize("NFKC", code).upper()
    return "".join(ch for ch in folded if ch.isalnum())


def code_digest(code: str) -> str:
    """What is kept of a code: its SHA-256 (the code has far too many bits to guess)."""
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def code_matches(invitation: Invitation, code: str) -> bool:
    """Whether ``code`` is the invitation's code (compared in constant time)."""
    if not invitation.code_digest or len(code) > 4 * CODE_LENGTH:
        return False
    return hmac.compare_digest(code_digest(code), invitation.code_digest)


def expiry(created_at: datetime) -> datetime:
    """When an invitation made at ``created_at`` can no longer be accepted."""
    _aware(created_at, "created_at")
    return created_at + INVITATION_LIFETIME


def state_at(invitation: Invitation, now: datetime) -> InvitationState:
    """The invitation's state at ``now``: a pending one past its end is expired."""
    _aware(now, "now")
    if invitation.state is InvitationState.PENDING and invitation.code_tries >= MAX_CODE_TRIES:
        return InvitationState.VOID
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


class WrongCode(InvalidInput):
    """The code given is not this invitation's; nothing else is said about it."""


def accept(invitation: Invitation, email: str, code: str, now: datetime) -> Invitation:
    """The invited person says yes with the invitation's code: only now do they become a member.

    The caller counts the try (``code_tries``) before asking, and keeps it if this refuses.
    """
    if not is_addressed_to(invitation, email):
        raise NotFound("no such invitation among yours")
    current = state_at(invitation, now)
    if current is not InvitationState.PENDING:
        raise Conflict(f"this invitation is {current.value}; it cannot be accepted now")
    if not code_matches(invitation, code):
        raise WrongCode(
            "that is not this invitation's code; ask whoever invited you for it", field="code"
        )
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
