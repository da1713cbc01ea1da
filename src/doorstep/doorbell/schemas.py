"""What the doorbell's routes take and answer: rings, live sessions' signalling, TURN servers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from doorstep.accounts.schemas import Strict
from doorstep.doorbell.rules import MAX_SDP_BYTES

Sdp = Annotated[
    str, Field(max_length=MAX_SDP_BYTES, description="A session description (RFC 8866)")
]


class Offer(Strict):
    """A browser's WebRTC offer, with every ICE candidate inside it (non-trickle)."""

    type: Literal["offer"]
    sdp: Sdp


class Answer(Strict):
    """The agent's WebRTC answer."""

    type: Literal["answer"]
    sdp: Sdp


class RingPressed(BaseModel):
    """A press: the ring it started, or the ring it belongs to (``rang`` false: no new alert)."""

    ring_id: str
    rang: bool


class IceServer(BaseModel):
    """A TURN relay and the short-lived credential to use it (coturn's REST-API scheme)."""

    urls: list[str]
    username: str = Field(description="<unix expiry>:<pseudonym>, never an account id")
    credential: str = Field(description="base64 of HMAC-SHA1(secret, username)")


class TurnServers(BaseModel):
    """The ICE servers to use; none when the operator runs no relay (one network only)."""

    ice_servers: list[IceServer]
    ttl: int = Field(description="Seconds the credentials last")


class LiveSessionCreate(Strict):
    """Ask a camera's agent for live view (answering a ring, or just looking)."""

    offer: Offer
    ring_id: Annotated[str | None, Field(max_length=32)] = None


class LiveSessionCreated(BaseModel):
    """A live session offered to the camera's agent; it expires unanswered after 30 s."""

    id: str
    state: Literal["offered"]
    expires_at: datetime
    audio: bool = Field(description="Whether the visitor's sound reaches you (the camera's audio)")
    e2e: bool = Field(description="An end-to-end encrypted camera: its media never touches us")


class LiveSessionPublic(BaseModel):
    """A live session's state and, once the agent answered, its answer."""

    id: str
    state: Literal["offered", "answered", "ended"]
    answer: Answer | None


class SessionOffered(BaseModel):
    """A session a camera's agent is to answer."""

    id: str
    offer: Offer
    audio: bool = Field(description="Whether the visitor's microphone may be sent")
    ice_servers: list[IceServer]


class DeviceFeed(BaseModel):
    """What a camera's agent hears in its long-poll."""

    sessions: list[SessionOffered] = Field(description="Offers not among the agent's `active`")
    ended: list[str] = Field(description="Those of the agent's `active` sessions that are over")
    mjpeg: bool = Field(description="Whether the owner's MJPEG live page is open")

    def news(self, mjpeg: bool) -> bool:
        """Whether the agent, believing ``mjpeg``, has anything to hear."""
        return bool(self.sessions or self.ended or self.mjpeg != mjpeg)
