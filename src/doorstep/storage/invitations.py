"""Invitations to an agency or a camera's household, kept against an email until answered.

Inviting never looks the email up: the inviter's answer is the same whether or not an account
holds it, and carries nothing of the account (no id, no name). Whoever holds an account with
that email sees the invitation, now or after signing up, until it expires
(``domain.invitations.INVITATION_LIFETIME``); only their acceptance makes them a member.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from doorstep.domain import invitations as rules
from doorstep.domain.invitations import InvitationKind, InvitationState
from doorstep.errors import Conflict, InvalidInput, NotFound
from doorstep.storage import agencies, cameras
from doorstep.storage.accounts import normalise_email
from doorstep.storage.agencies import Agency
from doorstep.storage.models import Base, Camera, User
from doorstep.storage.types import new_id, utcnow


class Invitation(Base):
    """An invitation addressed to an email: to an agency or to one camera's household."""

    __tablename__ = "invitations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(10))
    #: Normalised; never tied to an account until that account answers.
    email: Mapped[str] = mapped_column(String(254), index=True)
    agency_id: Mapped[str | None] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), index=True
    )
    camera_id: Mapped[str | None] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), index=True
    )
    invited_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    state: Mapped[str] = mapped_column(String(10), default=InvitationState.PENDING.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    answered_at: Mapped[datetime | None] = mapped_column()

    agency: Mapped[Agency | None] = relationship()
    camera: Mapped[Camera | None] = relationship()
    inviter: Mapped[User | None] = relationship()

    def rule(self) -> rules.Invitation:
        """The row as the domain's invitation."""
        return rules.Invitation(
            invitation_id=self.id,
            kind=InvitationKind(self.kind),
            email=self.email,
            created_at=self.created_at,
            expires_at=self.expires_at,
            state=InvitationState(self.state),
            answered_at=self.answered_at,
        )

    def apply(self, changed: rules.Invitation) -> None:
        """Take the state a rule decided."""
        self.state = changed.state.value
        self.answered_at = changed.answered_at

    def state_now(self, now: datetime | None = None) -> InvitationState:
        """Where the invitation stands now, a pending one past its end counted as expired."""
        return rules.state_at(self.rule(), now or utcnow())


def _pending(db: Session, *, agency_id: str | None = None, camera_id: str | None = None) -> int:
    query = select(func.count()).where(
        Invitation.state == InvitationState.PENDING.value, Invitation.expires_at > utcnow()
    )
    if agency_id is not None:
        query = query.where(Invitation.agency_id == agency_id)
    if camera_id is not None:
        query = query.where(Invitation.camera_id == camera_id)
    return int(db.scalar(query) or 0)


def _invite(
    db: Session,
    inviter: User,
    email: str,
    kind: InvitationKind,
    *,
    agency: Agency | None = None,
    camera: Camera | None = None,
) -> Invitation:
    address = normalise_email(email)
    now = utcnow()
    same = select(Invitation).where(
        Invitation.kind == kind.value,
        Invitation.email == address,
        Invitation.state == InvitationState.PENDING.value,
        Invitation.expires_at > now,
    )
    if agency is not None:
        same = same.where(Invitation.agency_id == agency.id)
    elif camera is not None:
        same = same.where(Invitation.camera_id == camera.id)
    existing = db.scalar(same.limit(1))
    if existing is not None:
        # Inviting again renews the invitation instead of piling up copies.
        existing.created_at, existing.expires_at = now, rules.expiry(now)
        db.flush()
        return existing
    pending = _pending(
        db, agency_id=agency.id if agency else None, camera_id=camera.id if camera else None
    )
    if pending >= rules.MAX_PENDING_INVITATIONS:
        raise Conflict(
            f"at most {rules.MAX_PENDING_INVITATIONS} invitations may wait for an answer; "
            "withdraw some first"
        )
    row = Invitation(
        kind=kind.value,
        email=address,
        agency_id=agency.id if agency else None,
        camera_id=camera.id if camera else None,
        invited_by=inviter.id,
        created_at=now,
        expires_at=rules.expiry(now),
    )
    db.add(row)
    db.flush()
    return row


def invite_to_agency(db: Session, agency: Agency, inviter: User, email: str) -> Invitation:
    """Invite whoever holds ``email`` to the agency; tells nothing about that email's account."""
    return _invite(db, inviter, email, InvitationKind.AGENCY, agency=agency)


def invite_to_household(db: Session, camera: Camera, owner: User, email: str) -> Invitation:
    """Invite whoever holds ``email`` to view one camera's clips (the owner's own: refused)."""
    if normalise_email(email) == owner.email:
        raise InvalidInput("you already own this camera", field="email")
    return _invite(db, owner, email, InvitationKind.HOUSEHOLD, camera=camera)


def addressed_to(db: Session, user: User) -> list[Invitation]:
    """Invitations waiting for ``user``'s answer, newest first."""
    query = select(Invitation).where(
        Invitation.email == user.email,
        Invitation.state == InvitationState.PENDING.value,
        Invitation.expires_at > utcnow(),
    )
    return list(db.scalars(query.order_by(Invitation.created_at.desc())))


def _addressed(db: Session, user: User, invitation_id: str) -> Invitation:
    row = db.get(Invitation, invitation_id)
    if row is None or row.email != user.email:
        raise NotFound("no such invitation among yours")
    return row


def accept(db: Session, user: User, invitation_id: str) -> Invitation:
    """The invited person accepts: they join the agency or the household, and only now."""
    row = _addressed(db, user, invitation_id)
    accepted = rules.accept(row.rule(), user.email, utcnow())
    if row.kind == InvitationKind.AGENCY.value:
        assert row.agency is not None
        agencies.join(db, row.agency, user)
    else:
        assert row.camera is not None
        cameras.join_household(db, row.camera, user)
    row.apply(accepted)
    db.flush()
    return row


def decline(db: Session, user: User, invitation_id: str) -> Invitation:
    """The invited person declines; nothing else changes."""
    row = _addressed(db, user, invitation_id)
    row.apply(rules.decline(row.rule(), user.email, utcnow()))
    db.flush()
    return row


def pending_for_agency(db: Session, agency: Agency) -> list[Invitation]:
    """The agency's invitations still waiting for an answer, newest first."""
    query = select(Invitation).where(
        Invitation.agency_id == agency.id,
        Invitation.state == InvitationState.PENDING.value,
        Invitation.expires_at > utcnow(),
    )
    return list(db.scalars(query.order_by(Invitation.created_at.desc())))


def pending_for_camera(db: Session, camera: Camera) -> list[Invitation]:
    """A camera's household invitations still waiting for an answer, newest first."""
    query = select(Invitation).where(
        Invitation.camera_id == camera.id,
        Invitation.state == InvitationState.PENDING.value,
        Invitation.expires_at > utcnow(),
    )
    return list(db.scalars(query.order_by(Invitation.created_at.desc())))


def withdraw(
    db: Session, invitation_id: str, *, agency: Agency | None = None, camera: Camera | None = None
) -> Invitation:
    """The inviter takes back one of their agency's or camera's invitations."""
    row = db.get(Invitation, invitation_id)
    if (
        row is None
        or (agency is not None and row.agency_id != agency.id)
        or (camera is not None and row.camera_id != camera.id)
        or (agency is None and camera is None)
    ):
        raise NotFound("no such invitation")
    row.apply(rules.withdraw(row.rule(), utcnow()))
    db.flush()
    return row
