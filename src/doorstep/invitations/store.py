"""Invitations to an agency or a camera's household, kept against an email until answered.

Inviting never looks the email up: the inviter's answer is the same whether or not an account
holds it, and carries nothing of the account (no id, no name). Whoever holds an account with
that email sees the invitation, now or after signing up, until it expires
(``domain.invitations.INVITATION_LIFETIME``); only their acceptance makes them a member, and
accepting takes the one-time code the inviter was shown (anyone may sign up with an email:
Doorstep does not verify it). The code is kept only as its digest; each try is counted and
committed before the code is compared, and ``MAX_CODE_TRIES`` without it void the invitation.
"""

from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.accounts.store import normalise_email
from doorstep.agencies import store as agencies
from doorstep.agencies.models import Agency
from doorstep.cameras import store as cameras
from doorstep.cameras.models import Camera
from doorstep.errors import Conflict, InvalidInput, NotFound
from doorstep.invitations import rules
from doorstep.invitations.models import Invitation
from doorstep.invitations.rules import InvitationKind, InvitationState
from doorstep.platform.types import utcnow


class Invited(NamedTuple):
    """An invitation just made or renewed, and its code: the only time the code exists."""

    invitation: Invitation
    code: str


def _open() -> tuple[ColumnElement[bool], ...]:
    """Conditions of an invitation that can still be answered."""
    return (
        Invitation.state == InvitationState.PENDING.value,
        Invitation.expires_at > utcnow(),
        Invitation.code_tries < rules.MAX_CODE_TRIES,
    )


def _pending(db: Session, *, agency_id: str | None = None, camera_id: str | None = None) -> int:
    query = select(func.count()).where(*_open())
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
) -> Invited:
    address = normalise_email(email)
    now = utcnow()
    code = rules.new_code()
    same = select(Invitation).where(
        Invitation.kind == kind.value, Invitation.email == address, *_open()
    )
    if agency is not None:
        same = same.where(Invitation.agency_id == agency.id)
    elif camera is not None:
        same = same.where(Invitation.camera_id == camera.id)
    existing = db.scalar(same.limit(1))
    if existing is not None:
        # Inviting again renews the invitation instead of piling up copies, with a new code
        # (the old one stops working: the inviter may have handed it to the wrong person).
        existing.created_at, existing.expires_at = now, rules.expiry(now)
        existing.code_digest, existing.code_tries = rules.code_digest(code), 0
        db.flush()
        return Invited(existing, code)
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
        code_digest=rules.code_digest(code),
        code_tries=0,
    )
    db.add(row)
    db.flush()
    return Invited(row, code)


def invite_to_agency(db: Session, agency: Agency, inviter: User, email: str) -> Invited:
    """Invite whoever holds ``email`` and the code to the agency; tells nothing of the account."""
    return _invite(db, inviter, email, InvitationKind.AGENCY, agency=agency)


def invite_to_household(db: Session, camera: Camera, owner: User, email: str) -> Invited:
    """Invite whoever holds ``email`` to view one camera's clips (the owner's own: refused)."""
    if normalise_email(email) == owner.email:
        raise InvalidInput("you already own this camera", field="email")
    return _invite(db, owner, email, InvitationKind.HOUSEHOLD, camera=camera)


def addressed_to(db: Session, user: User) -> list[Invitation]:
    """Invitations waiting for ``user``'s answer, newest first."""
    query = select(Invitation).where(Invitation.email == user.email, *_open())
    return list(db.scalars(query.order_by(Invitation.created_at.desc())))


def _addressed(db: Session, user: User, invitation_id: str) -> Invitation:
    row = db.get(Invitation, invitation_id)
    if row is None or row.email != user.email:
        raise NotFound("no such invitation among yours")
    return row


def accept(db: Session, user: User, invitation_id: str, code: str) -> Invitation:
    """The invited person accepts with the code: they join the agency or household, only now.

    The try is counted and committed before the code is compared, so a refused try stays
    counted and parallel tries cannot exceed ``MAX_CODE_TRIES`` between them.
    """
    row = _addressed(db, user, invitation_id)
    if (state := row.state_now()) is not InvitationState.PENDING:
        raise Conflict(f"this invitation is {state.value}; it cannot be accepted now")
    counted = db.execute(
        update(Invitation)
        .where(Invitation.id == row.id, *_open())
        .values(code_tries=Invitation.code_tries + 1)
        .execution_options(synchronize_session=False)
    )
    db.commit()
    db.refresh(row)
    if getattr(counted, "rowcount", 0) != 1:
        # Answered, expired or void since it was read (a parallel try took the last one).
        raise Conflict("this invitation can no longer be accepted")
    # Judged as it stood before this try, which is counted either way.
    before = replace(row.rule(), code_tries=row.code_tries - 1)
    try:
        accepted = rules.accept(before, user.email, code, utcnow())
    except rules.WrongCode:
        if row.code_tries >= rules.MAX_CODE_TRIES:
            row.state, row.answered_at = InvitationState.VOID.value, utcnow()
            db.commit()
        raise
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
    """The agency's invitations still waiting for an answer, by email (renewing moves none)."""
    query = select(Invitation).where(Invitation.agency_id == agency.id, *_open())
    return list(db.scalars(query.order_by(Invitation.email, Invitation.id)))


def pending_for_camera(db: Session, camera: Camera) -> list[Invitation]:
    """A camera's household invitations still waiting for an answer, by email."""
    query = select(Invitation).where(Invitation.camera_id == camera.id, *_open())
    return list(db.scalars(query.order_by(Invitation.email, Invitation.id)))


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
