"""Invitations: what the invited person sees, accepts or declines, and what inviters are told."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from doorstep.invitations import store as invitations
from doorstep.invitations.models import Invitation
from doorstep.invitations.rules import INVITATION_LIFETIME, InvitationKind
from doorstep.invitations.store import Invited
from doorstep.platform.http import problems
from doorstep.platform.http.deps import CurrentUser, DbDep

router = APIRouter(prefix="/api/v1/invitations", tags=["invitations"])


class InvitationSent(BaseModel):
    """The answer to an invitation, the same whether or not the email has an account.

    It says nothing about an account (no id, no name): whoever holds the email sees the
    invitation under /invitations once signed in, and joins only by accepting it with the code.
    The code is fresh each time (inviting again replaces it) and is shown only here, once.
    """

    id: str = Field(description="The invitation, as listed under the inviter's pending ones.")
    email: str = Field(description="The address invited, as Doorstep normalised it.")
    status: str = Field(description="Always `invited`.")
    expires_in_days: int = Field(description="How long the invitation may be accepted.")
    code: str = Field(
        description=(
            "The one-time code accepting takes. Shown only now: hand it to the person yourself "
            "(in person, by phone), because anyone may sign up with an email address."
        )
    )


class InvitationAcceptance(BaseModel):
    """Accepting an invitation: the code its inviter handed over."""

    code: str = Field(min_length=1, max_length=64, description="The invitation's one-time code.")


class InvitationPending(BaseModel):
    """An invitation still waiting for an answer, as the inviter sees it."""

    id: str
    email: str
    created_at: datetime
    expires_at: datetime


class InvitationForYou(BaseModel):
    """An invitation addressed to the caller: who invites them to what."""

    id: str
    kind: str = Field(description="`agency` (membership) or `household` (one camera's clips).")
    agency_name: str | None = Field(description="The agency, for an agency invitation.")
    camera_name: str | None = Field(description="The camera, for a household invitation.")
    invited_by: str | None = Field(description="The inviter's display name, if still known.")
    created_at: datetime
    expires_at: datetime


class InvitationAnswered(BaseModel):
    """An invitation after its answer."""

    id: str
    kind: str
    state: str


def invitation_sent(sent: Invited) -> InvitationSent:
    """What the inviter is told: the address they typed, normalised, and the code; no more."""
    row = sent.invitation
    return InvitationSent(
        id=row.id,
        email=row.email,
        status="invited",
        expires_in_days=INVITATION_LIFETIME.days,
        code=sent.code,
    )


def invitation_pending(row: Invitation) -> InvitationPending:
    """A pending invitation in its inviter's list."""
    return InvitationPending(
        id=row.id, email=row.email, created_at=row.created_at, expires_at=row.expires_at
    )


def invitation_for_you(row: Invitation) -> InvitationForYou:
    """An invitation as the invited person sees it."""
    agency = row.agency if row.kind == InvitationKind.AGENCY.value else None
    camera = row.camera if row.kind == InvitationKind.HOUSEHOLD.value else None
    return InvitationForYou(
        id=row.id,
        kind=row.kind,
        agency_name=agency.name if agency else None,
        camera_name=camera.name if camera else None,
        invited_by=row.inviter.display_name if row.inviter else None,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


def _answered(row: Invitation) -> InvitationAnswered:
    return InvitationAnswered(id=row.id, kind=row.kind, state=row.state)


@router.get("")
def mine(user: CurrentUser, db: DbDep) -> list[InvitationForYou]:
    """Invitations waiting for the caller's answer (addressed to the caller's email)."""
    return [invitation_for_you(row) for row in invitations.addressed_to(db, user)]


@router.post("/{invitation_id}/accept", responses=problems.responses(404, 409, 422))
def accept(
    invitation_id: str, body: InvitationAcceptance, user: CurrentUser, db: DbDep
) -> InvitationAnswered:
    """Accept with the code from the inviter: only now does the caller join.

    A wrong code is refused (422) and counted; after a few the invitation is void (409).
    """
    return _answered(invitations.accept(db, user, invitation_id, body.code))


@router.post(
    "/{invitation_id}/decline",
    status_code=status.HTTP_200_OK,
    responses=problems.responses(404, 409),
)
def decline(invitation_id: str, user: CurrentUser, db: DbDep) -> InvitationAnswered:
    """Decline: nothing changes for the caller, and the inviter sees it no longer pending."""
    return _answered(invitations.decline(db, user, invitation_id))
