"""Invitations' table: an invitation to an agency or a camera's household, kept against an email."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from doorstep.accounts.models import User
from doorstep.agencies.models import Agency
from doorstep.cameras.models import Camera
from doorstep.invitations import rules
from doorstep.invitations.rules import InvitationKind, InvitationState
from doorstep.platform.orm import Base
from doorstep.platform.types import new_id, utcnow


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
    #: SHA-256 of the one-time code the inviter was shown once; the code is never kept.
    code_digest: Mapped[str] = mapped_column(String(64))
    #: Tries with a code so far; ``MAX_CODE_TRIES`` without the right one make it void.
    code_tries: Mapped[int] = mapped_column(default=0)
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
            code_digest=self.code_digest,
            code_tries=self.code_tries,
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
