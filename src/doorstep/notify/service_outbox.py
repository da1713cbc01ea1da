"""The push outbox: deliveries waiting for a sender thread, rings first, retries when due.

Each process that runs push jobs has one outbox per database, started on its first delivery.
A delivery is one push to one device. Sender threads take the most urgent delivery that is due
(a ring before any queued motion push), encrypt it for the device (RFC 8291 ``aes128gcm``), sign
for the push service (RFC 8292 VAPID) and POST it (RFC 8030). Network errors, 429 and 5xx are
tried again later with growing, jittered waits; 404/410 mean the browser unsubscribed, so the
device is forgotten.
"""

from __future__ import annotations

import atexit
import heapq
import itertools
import json
import logging
import random
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import httpx
from pywebpush import WebPusher

from doorstep.errors import InvalidInput
from doorstep.notify import rules, rules_endpoints, store
from doorstep.notify.service_vapid import Signer, private_key
from doorstep.platform.db import Database
from doorstep.platform.http import metrics
from doorstep.platform.types import utcnow
from doorstep.settings import Settings

log = logging.getLogger(__name__)

#: A push service answers in well under a second; a sender never hangs on one for long.
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
#: How long closing waits for a sender to finish the POST it is in.
JOIN_SECONDS = 15.0


@dataclass(frozen=True, slots=True)
class Delivery:
    """One push to one device, and how many times it has been tried."""

    device_id: str
    endpoint: str
    p256dh: str
    auth: str
    push: rules.Push
    attempt: int = 1


class Refused(Exception):
    """The endpoint may not be sent to (anymore): its host now resolves to a private address."""


class Outbox:
    """Deliveries by urgency, sent by a few threads of their own, started on first use."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self._database = database
        self._settings = settings
        self._ready: list[tuple[int, int, Delivery]] = []
        self._later: list[tuple[float, int, Delivery]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._busy = 0
        #: Devices a push reached, written in one statement when the senders run out of work,
        #: not one transaction per push (a burst to a thousand devices is a thousand pushes).
        self._reached: set[str] = set()
        #: Devices with a test push queued, waiting for a retry or being sent: one at a time.
        self._testing: set[str] = set()
        # Its own generator: the jitter must not draw from (and move) the process's shared one.
        self._jitter = random.Random()
        self._client: httpx.Client | None = None
        self._signer: Signer | None = None

    def submit(self, deliveries: Iterable[Delivery]) -> int:
        """Queue deliveries (all under one lock, so the most urgent of them goes first)."""
        with self._wake:
            if self._closed:
                return 0
            count = 0
            for delivery in deliveries:
                heapq.heappush(self._ready, (delivery.push.priority, next(self._order), delivery))
                count += 1
            if count:
                self._start()
                # Everyone: a sender for rings alone, woken for an alert, would take nothing.
                self._wake.notify_all()
            return count

    def submit_test(self, delivery: Delivery) -> bool:
        """Queue a test push, unless the device has one on its way already (then False)."""
        with self._wake:
            if delivery.device_id in self._testing:
                return False
            self._testing.add(delivery.device_id)
        if self.submit([delivery]):
            return True
        with self._wake:
            self._testing.discard(delivery.device_id)
        return False

    def idle(self) -> bool:
        """Whether nothing is queued, waiting for a retry, or being sent."""
        with self._wake:
            return not self._ready and not self._later and not self._busy and not self._reached

    def close(self) -> None:
        """Stop the senders after the POST each is in; queued deliveries are dropped."""
        with self._wake:
            if self._closed:
                return
            self._closed = True
            dropped = len(self._ready) + len(self._later)
            self._wake.notify_all()
        for thread in self._threads:
            thread.join(JOIN_SECONDS)
        if self._reached:
            self._note_reached(self._reached)
        if self._client is not None:
            self._client.close()
        if dropped:
            log.warning("push outbox closed with %d deliveries unsent", dropped)

    def _start(self) -> None:
        # Under the lock. The client and the VAPID key are made here, not in __init__, so an
        # app that never pushes never reads or writes the key.
        if self._threads:
            return
        self._signer = Signer(private_key(self._settings), self._settings.push_subject)
        # No proxies from the environment and no redirects: the address checked is the one used.
        self._client = httpx.Client(timeout=TIMEOUT, trust_env=False, follow_redirects=False)
        # One sender more, for rings alone: push services that hold their answers back (a slow
        # or hostile one) can keep every other sender busy, never the one a doorbell waits for.
        for number in range(self._settings.push_threads + 1):
            thread = threading.Thread(
                target=self._run,
                args=(number == 0,),
                name=f"doorstep-push-{'rings' if number == 0 else number}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)

    def _take(self, rings_only: bool) -> Delivery | None:
        while True:
            with self._wake:
                if self._closed:
                    return None
                now = time.monotonic()
                while self._later and self._later[0][0] <= now:
                    _due, order, delivery = heapq.heappop(self._later)
                    heapq.heappush(self._ready, (delivery.push.priority, order, delivery))
                if self._ready and (
                    not rings_only or self._ready[0][2].push.kind is rules.Kind.RING
                ):
                    self._busy += 1
                    return heapq.heappop(self._ready)[2]
                reached, self._reached = self._reached, set()
                if not reached:
                    self._wake.wait(self._later[0][0] - now if self._later else None)
                    continue
                self._busy += 1
            # Out of work: note the successes now, outside the lock.
            try:
                self._note_reached(reached)
            finally:
                with self._wake:
                    self._busy -= 1

    def _note_reached(self, reached: set[str]) -> None:
        try:
            with self._database.session() as db:
                store.record_successes(db, sorted(reached), utcnow())
        except Exception:
            log.exception("could not note %d pushes delivered", len(reached))

    def _run(self, rings_only: bool) -> None:
        while (delivery := self._take(rings_only)) is not None:
            waits = False
            try:
                waits = self._deliver(delivery)
            except Exception:
                # No device id: it names a person's phone in logs that outlive the device.
                log.exception("a push failed")
            finally:
                with self._wake:
                    self._busy -= 1
                    if not waits and delivery.push.kind is rules.Kind.TEST:
                        self._testing.discard(delivery.device_id)

    def _retry(self, delivery: Delivery, reason: str, retry_after: float | None) -> bool:
        """Queue the delivery again for later; False when it is given up instead."""
        delay = rules.retry_delay(delivery.attempt, retry_after, self._jitter.random())
        if delay is None:
            self._record(delivery.device_id, reason)
            return False
        with self._wake:
            if self._closed:
                return False
            heapq.heappush(
                self._later,
                (
                    time.monotonic() + delay,
                    next(self._order),
                    replace(delivery, attempt=delivery.attempt + 1),
                ),
            )
            self._wake.notify_all()
        return True

    def _deliver(self, delivery: Delivery) -> bool:
        """Send the delivery once; True when it waits for another try."""
        try:
            response = self._post(delivery)
        except Refused as err:
            self._record(delivery.device_id, str(err))
            return False
        except httpx.HTTPError as err:
            return self._retry(
                delivery, f"the push service could not be reached ({type(err).__name__})", None
            )
        status, retry_after = response
        if 200 <= status < 300:
            _count_sent(delivery.push)
            with self._wake:
                self._reached.add(delivery.device_id)
        elif status in (404, 410):
            metrics.PUSHES_GIVEN_UP.inc()
            # The browser unsubscribed (or the push service forgot it): nothing will reach it.
            with self._database.session() as db:
                store.delete_device(db, delivery.device_id)
        elif status == 429 or status >= 500:
            seconds = rules.parse_retry_after(retry_after)
            return self._retry(delivery, f"the push service answered {status}", seconds)
        else:
            self._record(delivery.device_id, f"the push service refused the push ({status})")
        return False

    def _record(self, device_id: str, reason: str) -> None:
        metrics.PUSHES_GIVEN_UP.inc()
        log.info("a push given up: %s", reason)
        with self._database.session() as db:
            store.record_failure(db, device_id, reason, utcnow())

    def _post(self, delivery: Delivery) -> tuple[int, str | None]:
        """POST the push; the push service's status and Retry-After (its body is never read)."""
        assert self._client is not None
        assert self._signer is not None
        loopback = self._settings.push_allow_loopback
        try:
            endpoint = rules_endpoints.parse_endpoint(delivery.endpoint, allow_loopback=loopback)
        except InvalidInput as err:
            raise Refused(err.detail) from err
        address = resolve(endpoint, allow_loopback=loopback)
        body = json.dumps(delivery.push.payload(), separators=(",", ":")).encode()
        subscription = {
            "endpoint": delivery.endpoint,
            "keys": {"p256dh": delivery.p256dh, "auth": delivery.auth},
        }
        encrypted: bytes = WebPusher(subscription).encode(body, "aes128gcm")["body"]
        push = delivery.push
        headers = {
            "Host": endpoint.origin.split("://", 1)[1],
            "TTL": str(push.ttl),
            "Urgency": push.urgency,
            "Topic": push.topic,
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "Authorization": self._signer.authorization(endpoint.origin),
        }
        # Connect to the address just checked, not to whatever the name resolves to next
        # (DNS rebinding); TLS still checks the certificate against the host's name.
        literal = f"[{address}]" if ":" in address else address
        url = f"{endpoint.scheme}://{literal}:{endpoint.port}{endpoint.target}"
        extensions = {"sni_hostname": endpoint.host} if endpoint.scheme == "https" else {}
        with self._client.stream(
            "POST", url, content=encrypted, headers=headers, extensions=extensions
        ) as response:
            return response.status_code, response.headers.get("retry-after")


def _count_sent(push: rules.Push) -> None:
    """Count a push accepted, and how long after the moment it is about."""
    metrics.PUSHES_SENT.inc()
    try:
        at = datetime.fromisoformat(push.at)
    except ValueError:
        return
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    metrics.PUSH_LATENCY.observe(max(0.0, (utcnow() - at).total_seconds()))


def resolve(endpoint: rules_endpoints.Endpoint, *, allow_loopback: bool) -> str:
    """The address to connect to; Refused when the host resolves to any address not allowed."""
    try:
        infos = socket.getaddrinfo(endpoint.host, endpoint.port, type=socket.SOCK_STREAM)
    except OSError as err:
        raise httpx.ConnectError(f"cannot resolve {endpoint.host}") from err
    addresses = [str(info[4][0]) for info in infos]
    for address in addresses:
        parsed = rules_endpoints.address_of(address.split("%", 1)[0])
        if parsed is None or not rules_endpoints.may_connect(
            endpoint, parsed, allow_loopback=allow_loopback
        ):
            raise Refused(f"{endpoint.host} resolves to {address}, a private or reserved address")
    if not addresses:
        raise httpx.ConnectError(f"{endpoint.host} has no address")
    return addresses[0]


_outboxes: dict[int, tuple[Database, Outbox]] = {}
_outboxes_lock = threading.Lock()


def open_outbox(database: Database, settings: Settings) -> Outbox:
    """The database's outbox in this process, made with ``settings`` if it has none yet."""
    with _outboxes_lock:
        known = _outboxes.get(id(database))
        if known is not None and known[0] is database:
            return known[1]
        outbox = Outbox(database, settings)
        _outboxes[id(database)] = (database, outbox)
        return outbox


def outbox_for(database: Database) -> Outbox:
    """The database's outbox; a process that made none (``doorstep worker``) reads the settings.

    The worker's settings come from the environment as its database's did, so they are the same.
    """
    with _outboxes_lock:
        known = _outboxes.get(id(database))
        if known is not None and known[0] is database:
            return known[1]
    return open_outbox(database, Settings())


def close_outbox(database: Database) -> None:
    """Stop the database's outbox in this process, if it has one."""
    with _outboxes_lock:
        known = _outboxes.pop(id(database), None)
    if known is not None and known[0] is database:
        known[1].close()


def close_all() -> None:
    """Stop every outbox of this process (at exit: no sender thread outlives the interpreter)."""
    with _outboxes_lock:
        known = list(_outboxes.values())
        _outboxes.clear()
    for _database, outbox in known:
        outbox.close()


atexit.register(close_all)
