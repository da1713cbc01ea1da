"""Invitations: what the invited person sees, accepts or declines, and what inviters are told."""

from __future__ import annotations

from fastapi import APIRouter, status

from doorstep.accounts.auth import CurrentUser
from doorstep.invitations import service as invitations
from doorstep.invitations.schemas import InvitationAcceptance, InvitationAnswered, InvitationForYou
from doorstep.platform.http import problems
from doorstep.platform.http.deps import DbDep

router = APIRouter(prefix="/api/v1/invitations", tags=["invitations"])


@router.get("")
def mine(user: CurrentUser, db: DbDep) -> list[InvitationForYou]:
    """Invitations waiting for the caller's answer (addressed to the caller's email)."""
    return invitations.for_you(db, user)


@router.post("/{invitation_id}/accept", responses=problems.responses(404, 409, 422))
def accept(
    invitation_id: str, body: InvitationAcceptance, user: CurrentUser, db: DbDep
) -> InvitationAnswered:
    """Accept with the code from the inviter: only now does the caller join.

    A wrong code is refused (422) and counted; after a few the invitation is void (409).
    """
    return invitations.answered(invitations.accept(db, user, invitation_id, body.code))


@router.post(
    "/{invitation_id}/decline",
    status_code=status.HTTP_200_OK,
    responses=problems.responses(404, 409),
)
def decline(invitation_id: str, user: CurrentUser, db: DbDep) -> InvitationAnswered:
    """Decline: nothing changes for the caller, and the inviter sees it no longer pending."""
    return invitations.answered(invitations.decline(db, user, invitation_id))
