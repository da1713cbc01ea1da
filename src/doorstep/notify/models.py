"""Notify's table: the devices (browsers' push subscriptions) an account gets pushes on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from doorstep.platform.orm import Base
from doorstep.platform.types import new_id, utcnow


class PushDevice(Base):
    """One browser's push subscription: where to POST, and the keys to encrypt for it.

    The endpoint is a capability URL (anyone holding it can push to the browser), so it and the
    keys never leave the server; the owner sees the device's name and push service only.
    """

    __tablename__ = "push_devices"
    __table_args__ = (UniqueConstraint("user_id", "endpoint_sha256"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    endpoint: Mapped[str] = mapped_column(Text)
    #: The endpoint's SHA-256 (hex): subscribing the same browser again updates its row.
    endpoint_sha256: Mapped[str] = mapped_column(String(64))
    service: Mapped[str] = mapped_column(String(255))
    p256dh: Mapped[str] = mapped_column(String(100))
    auth: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_success_at: Mapped[datetime | None] = mapped_column()
    last_failure_at: Mapped[datetime | None] = mapped_column()
    last_failure: Mapped[str | None] = mapped_column(String(200))
