"""Notify's storage: an account's push devices and what their last delivery said."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from doorstep.notify import rules
from doorstep.notify.models import PushDevice


def endpoint_hash(endpoint: str) -> str:
    """The key a device's endpoint is found by."""
    return hashlib.sha256(endpoint.encode()).hexdigest()


def find_by_endpoint(db: Session, user_id: str, endpoint: str) -> PushDevice | None:
    """The account's device subscribed at ``endpoint``, if any."""
    return db.scalar(
        select(PushDevice).where(
            PushDevice.user_id == user_id, PushDevice.endpoint_sha256 == endpoint_hash(endpoint)
        )
    )


def count_devices(db: Session, user_id: str) -> int:
    """How many devices the account has."""
    return db.scalar(select(func.count()).where(PushDevice.user_id == user_id)) or 0


def add_device(
    db: Session,
    user_id: str,
    *,
    name: str,
    endpoint: str,
    service: str,
    p256dh: str,
    auth: str,
    now: datetime,
) -> PushDevice:
    """Store a new device."""
    row = PushDevice(
        user_id=user_id,
        name=name,
        endpoint=endpoint,
        endpoint_sha256=endpoint_hash(endpoint),
        service=service,
        p256dh=p256dh,
        auth=auth,
        created_at=now,
    )
    try:
        with db.begin_nested():
            db.add(row)
    except IntegrityError:
        # The same browser subscribing twice at once: the other request's row is this device.
        found = find_by_endpoint(db, user_id, endpoint)
        if found is None:
            raise
        found.p256dh, found.auth = p256dh, auth
        return found
    return row


def devices_of(db: Session, user_id: str) -> list[PushDevice]:
    """The account's devices, oldest first."""
    return list(
        db.scalars(
            select(PushDevice)
            .where(PushDevice.user_id == user_id)
            .order_by(PushDevice.created_at, PushDevice.id)
        )
    )


def device_of(db: Session, user_id: str, device_id: str) -> PushDevice | None:
    """One of the account's devices; None for another account's or none at all."""
    return db.scalar(
        select(PushDevice).where(PushDevice.id == device_id, PushDevice.user_id == user_id)
    )


def get_device(db: Session, device_id: str) -> PushDevice | None:
    """A device by id, whoever's it is (for the sender, which already knows)."""
    return db.get(PushDevice, device_id)


def delete_device(db: Session, device_id: str) -> bool:
    """Forget a device; False when it was already gone."""
    result = db.execute(delete(PushDevice).where(PushDevice.id == device_id))
    return bool(getattr(result, "rowcount", 0))


def record_successes(db: Session, device_ids: list[str], now: datetime) -> None:
    """Pushes reached these devices' push services."""
    db.execute(
        update(PushDevice)
        .where(PushDevice.id.in_(device_ids))
        .values(last_success_at=now, last_failure=None, last_failure_at=None)
    )


def record_failure(db: Session, device_id: str, reason: str, now: datetime) -> None:
    """A push was given up; the owner sees why on the device."""
    db.execute(
        update(PushDevice)
        .where(PushDevice.id == device_id)
        .values(last_failure=reason[: rules.MAX_FAILURE], last_failure_at=now)
    )
