"""The doorbell's tables: rings (a press and who answered it) and live sessions' signalling."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from doorstep.doorbell import rules
from doorstep.platform.orm import Base
from doorstep.platform.types import new_id, utcnow


class Ring(Base):
    """A press of a camera's button; presses within the cooldown are this one ring."""

    __tablename__ = "doorbell_rings"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), index=True)
    pressed_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(10))
    answered_at: Mapped[datetime | None] = mapped_column()
    answered_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )


class LiveSession(Base):
    """One browser's live view of a camera: the offer, the agent's answer, and its state.

    Only signalling is kept; the pictures and sound go between the browser and the agent.
    """

    __tablename__ = "live_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    ring_id: Mapped[str | None] = mapped_column(
        ForeignKey("doorbell_rings.id", ondelete="SET NULL"), index=True
    )
    offer_sdp: Mapped[str] = mapped_column(Text)
    answer_sdp: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default=rules.State.OFFERED.value)
    #: Whether the visitor's sound may reach the viewer: the camera's audio setting at the start.
    audio: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()

    def rule(self) -> rules.Session:
        """The session as the rules see it."""
        return rules.Session(
            state=rules.State(self.state),
            expires_at=self.expires_at,
            answer_sdp=self.answer_sdp,
            ended_at=self.ended_at,
        )

    def apply(self, session: rules.Session) -> None:
        """Take the state a rule decided; an ended session forgets both descriptions.

        Offer and answer carry the viewer's and the door's IP addresses: once the call is over
        nobody needs them.
        """
        self.state = session.state.value
        self.expires_at = session.expires_at
        self.answer_sdp = session.answer_sdp
        self.ended_at = session.ended_at
        if session.state is rules.State.ENDED:
            self.offer_sdp = ""
            self.answer_sdp = None


# The tables named in the foreign keys above are mapped whenever these are.
from doorstep.accounts import models as _accounts_models  # noqa: E402, F401
from doorstep.cameras import models as _cameras_models  # noqa: E402, F401
