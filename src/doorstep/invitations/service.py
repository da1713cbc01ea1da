"""Invitations' use cases: inviting, the invited person's answer, and what each side is shown.

Other features (agencies, cameras, the demo) invite and list through here, never the store.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.agencies.models import Agency
from doorstep.cameras.models import Camera
from doorstep.invitations import store
from doorstep.invitations.models import Invitation
from doorstep.invitations.rules import INVITATION_LIFETIME, InvitationKind
from doorstep.invitations.schemas import (
    InvitationAnswered,
    InvitationForYou,
    InvitationPending,
    InvitationSent,
)
from doorstep.invitations.store import Invited


def invite_to_agency(db: Session, agency: Agency, inviter: User, email: str) -> Invited:
    """Invite whoever holds ``email`` and the code to the agency; tells nothing of the account."""
    return store.invite_to_agency(db, agency, inviter, email)


def invite_to_household(db: Session, camera: Camera, owner: User, email: str) -> Invited:
    """Invite whoever holds ``email`` to view one camera's clips (the owner's own: refused)."""
    return store.invite_to_household(db, camera, owner, email)


def pending_for_agency(db: Session, agency: Agency) -> list[Invitation]:
    """The agency's invitations still waiting for an answer, by email."""
    return store.pending_for_agency(db, agency)


def pending_for_camera(db: Session, camera: Camera) -> list[Invitation]:
    """A camera's household invitations still waiting for an answer, by email."""
    return store.pending_for_camera(db, camera)


def withdraw(
    db: Session, invitation_id: str, *, agency: Agency | None = None, camera: Camera | None = None
) -> Invitation:
    """The inviter takes back one of their agency's or camera's invitations."""
    return store.withdraw(db, invitation_id, agency=agency, camera=camera)


def for_you(db: Session, user: User) -> list[InvitationForYou]:
    """Invitations waiting for ``user``'s answer, newest first, as they see them."""
    return [invitation_for_you(row) for row in store.addressed_to(db, user)]


def accept(db: Session, user: User, invitation_id: str, code: str) -> Invitation:
    """The invited person accepts with the code: they join the agency or household, only now."""
    return store.accept(db, user, invitation_id, code)


def decline(db: Session, user: User, invitation_id: str) -> Invitation:
    """The invited person declines; nothing else changes."""
    return store.decline(db, user, invitation_id)


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


def answered(row: Invitation) -> InvitationAnswered:
    """An invitation as its answer leaves it."""
    return InvitationAnswered(id=row.id, kind=row.kind, state=row.state)
