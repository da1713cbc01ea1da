"""Invitations' request and response bodies, and the one limit they share with the page form."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

#: The longest code an answer may carry, in the API body and the page's form alike.
MAX_CODE_LENGTH = 64


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

    code: str = Field(
        min_length=1, max_length=MAX_CODE_LENGTH, description="The invitation's one-time code."
    )


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
