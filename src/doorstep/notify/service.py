"""Notify's use cases: an account's push devices, and the pushes its events send them.

Every account event goes through ``platform.bus.memory.notify_after_commit``; ``echo`` (hooked
in there by ``notify.jobs``) turns the ones worth a push into a ``notify_event`` job sent after
commit, so the request that rang the bell never waits for a push service.
"""

from __future__ import annotations

import json
import logging
import socket
from typing import Any

from sqlalchemy.orm import Session

from doorstep.accounts import service as accounts
from doorstep.accounts.models import User
from doorstep.errors import Conflict, InvalidInput, NotFound, TooManyRequests
from doorstep.notify import rules, rules_endpoints, store
from doorstep.notify.models import PushDevice
from doorstep.notify.schemas import PushDeviceCreate, PushDevicePublic, PushDeviceUpdate
from doorstep.notify.service_outbox import Delivery, close_outbox, open_outbox, outbox_for
from doorstep.notify.service_vapid import public_key
from doorstep.platform.db import Database
from doorstep.platform.queue.core import send_after_commit
from doorstep.platform.types import utcnow
from doorstep.settings import Settings

log = logging.getLogger(__name__)

#: The job that sends an event's push to the account's devices.
NOTIFY_EVENT = "notify_event"


def vapid_public_key(settings: Settings) -> str:
    """The server's VAPID public key (``applicationServerKey``), base64url without padding."""
    return public_key(settings)


def device_public(row: PushDevice) -> PushDevicePublic:
    """A device as its owner sees it."""
    return PushDevicePublic(
        id=row.id,
        name=row.name,
        service=row.service,
        created_at=row.created_at,
        last_success_at=row.last_success_at,
        last_failure=row.last_failure,
    )


def _check_host(endpoint: rules_endpoints.Endpoint, settings: Settings) -> None:
    # The name is checked now, so a bad one is a clear 422, and again before every send (it may
    # resolve elsewhere by then). One that does not resolve now may later: it is let through.
    if endpoint.scheme != "https" or rules_endpoints.address_of(endpoint.host) is not None:
        return
    try:
        infos = socket.getaddrinfo(endpoint.host, endpoint.port, type=socket.SOCK_STREAM)
    except OSError:
        return
    for info in infos:
        address = rules_endpoints.address_of(str(info[4][0]).split("%", 1)[0])
        allowed = settings.push_allow_loopback
        if address is None or not rules_endpoints.may_connect(
            endpoint, address, allow_loopback=allowed
        ):
            raise InvalidInput(
                f"the push endpoint's host {endpoint.host} is a private or reserved address; "
                "Doorstep only sends pushes to public push services",
                field="endpoint",
            )


def subscribe(
    db: Session, settings: Settings, user: User, body: PushDeviceCreate
) -> tuple[PushDevicePublic, bool]:
    """Add the browser's subscription as a device, or update the one it already is.

    Returns the device and whether it is new. 422 for a bad endpoint or keys, 409 past the cap.
    """
    endpoint = rules_endpoints.parse_endpoint(
        body.endpoint, allow_loopback=settings.push_allow_loopback
    )
    rules_endpoints.check_keys(body.keys.p256dh, body.keys.auth)
    _check_host(endpoint, settings)
    row = store.find_by_endpoint(db, user.id, body.endpoint)
    if row is not None:
        # The browser subscribed again (new keys after a reset): the same device.
        row.p256dh, row.auth = body.keys.p256dh, body.keys.auth
        if body.name:
            row.name = body.name
        db.flush()
        return device_public(row), False
    # Subscriptions at once (two tabs, a retried request) count one after the other.
    accounts.lock_account(db, user)
    if store.count_devices(db, user.id) >= rules.MAX_DEVICES:
        raise Conflict(
            f"an account has at most {rules.MAX_DEVICES} devices; remove one you no longer use"
        )
    row = store.add_device(
        db,
        user.id,
        name=body.name or rules_endpoints.service_name(endpoint.host),
        endpoint=body.endpoint,
        service=rules_endpoints.service_name(endpoint.host),
        p256dh=body.keys.p256dh,
        auth=body.keys.auth,
        now=utcnow(),
    )
    return device_public(row), True


def add_device(
    db: Session, settings: Settings, user: User, body: PushDeviceCreate
) -> PushDevicePublic:
    """Add (or update) a device from the browser's subscription."""
    return subscribe(db, settings, user, body)[0]


def list_devices(db: Session, user: User) -> list[PushDevicePublic]:
    """The account's devices, oldest first."""
    return [device_public(row) for row in store.devices_of(db, user.id)]


def _own(db: Session, user: User, device_id: str) -> PushDevice:
    row = store.device_of(db, user.id, device_id)
    if row is None:
        raise NotFound("no such device")
    return row


def rename_device(
    db: Session, user: User, device_id: str, body: PushDeviceUpdate
) -> PushDevicePublic:
    """Give one of the account's devices a new name."""
    row = _own(db, user, device_id)
    row.name = body.name
    db.flush()
    return device_public(row)


def remove_device(db: Session, user: User, device_id: str) -> None:
    """Stop pushing to one of the account's devices."""
    store.delete_device(db, _own(db, user, device_id).id)


def _delivery(row: PushDevice, push: rules.Push) -> Delivery:
    return Delivery(row.id, row.endpoint, row.p256dh, row.auth, push)


def send_test(
    db: Session, database: Database, settings: Settings, user: User, device_id: str
) -> None:
    """Push a test notification to one of the account's devices (sent in the background).

    One at a time per device: another press while one is on its way is ``TooManyRequests``.
    """
    row = _own(db, user, device_id)
    push = rules.trial_push(utcnow().isoformat())
    if not open_outbox(database, settings).submit_test(_delivery(row, push)):
        raise TooManyRequests(
            "a test push to this device is still on its way; see the device list for how it went",
            retry_after=int(rules.FIRST_RETRY_SECONDS),
        )


def echo(db: Session, account_id: str, event: dict[str, Any]) -> None:
    """An account event: if it is worth a push and the account has devices, send the job."""
    push = rules.push_for(event, utcnow().isoformat())
    if push is None or not store.count_devices(db, account_id):
        return
    # The job carries the push itself, nothing more of the event (no snapshot, no location).
    payload = json.dumps(push.payload(), separators=(",", ":"))
    send_after_commit(db, NOTIFY_EVENT, account_id, payload)


def deliver(database: Database, account_id: str, payload: str) -> int:
    """The ``notify_event`` job: hand the push to the outbox for each device; returns how many."""
    try:
        push = rules.Push.from_payload(json.loads(payload))
    except (ValueError, KeyError, TypeError):
        # No account id: a line naming who was notified, and when, outlives the alert.
        log.warning("notify_event: not a push, dropped")
        return 0
    with database.session() as db:
        deliveries = [_delivery(row, push) for row in store.devices_of(db, account_id)]
    return outbox_for(database).submit(deliveries)


def start_pushes(database: Database, settings: Settings) -> None:
    """Ready this process's outbox for ``database`` (its threads start with the first push)."""
    open_outbox(database, settings)


def stop_pushes(database: Database) -> None:
    """Stop this process's outbox for ``database``: its sender threads end."""
    close_outbox(database)


def pushes_settled(database: Database) -> bool:
    """Whether this process's outbox has nothing queued, waiting or being sent."""
    return outbox_for(database).idle()
