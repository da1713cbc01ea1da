"""What the push routes take and answer: a browser's subscription and the device it becomes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from doorstep.accounts.schemas import Strict
from doorstep.notify.rules import MAX_NAME
from doorstep.notify.rules_endpoints import MAX_ENDPOINT

DeviceName = Annotated[
    str, Field(min_length=1, max_length=MAX_NAME, description="What the owner calls the device")
]


class PushKeys(Strict):
    """The subscription's keys, base64url as ``PushSubscription.toJSON()`` gives them."""

    p256dh: str = Field(max_length=120, description="The browser's P-256 public key (65 bytes)")
    auth: str = Field(max_length=60, description="The browser's auth secret (16 bytes)")


class PushDeviceCreate(Strict):
    """A browser's push subscription (``PushSubscription.toJSON()``), and a name for it."""

    endpoint: str = Field(
        max_length=MAX_ENDPOINT, description="The push service's URL for this browser (https)"
    )
    keys: PushKeys
    name: DeviceName | None = None
    expirationTime: float | None = Field(  # noqa: N815 - the browser's own field name
        None, description="Ignored: push services announce an ending subscription with a 404/410"
    )


class PushDeviceUpdate(Strict):
    """A new name for a device."""

    name: DeviceName


class PushDevicePublic(BaseModel):
    """A device as its owner sees it: never its endpoint or keys."""

    id: str
    name: str
    service: str = Field(description="The push service's host")
    created_at: datetime
    last_success_at: datetime | None
    last_failure: str | None = Field(description="Why the last push was given up, if it was")


class PushKey(BaseModel):
    """The server's VAPID public key: ``applicationServerKey`` for ``PushManager.subscribe``."""

    public_key: str = Field(description="base64url (no padding) uncompressed P-256 point")
