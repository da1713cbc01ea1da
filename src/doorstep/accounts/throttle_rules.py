"""Throttle rules: how many attempts a source may make, and how long it waits after (pure).

Two kinds of rule. A ``Window`` is a hard limit per period, for sources only the attacker
controls: the attacker's own client address, or a device that signed in before. A ``Backoff``
never locks anyone out: after a few free attempts each one waits a little longer, up to a short
cap. It is for what a stranger can reach from anywhere (an account's email): a stranger who fails
forever makes the owner, on a new device at a new address, wait at most ``cap`` between
attempts. The owner's devices and addresses that signed in before are not throttled by it at
all: a device by its cookie (``device_proof``, void once the password changes), an address by a
keyed hash kept with the account (``known_address_key``) for ``KNOWN_ADDRESS_DAYS``.

Sources are kept as keyed hashes (``source_key``) so the counters name no address and no email.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

#: Addresses of IPv6 clients are throttled by their /64: one machine usually holds a whole /64.
IPV6_PREFIX = 64
#: How long an address that signed in to an account stays known without signing in again.
KNOWN_ADDRESS_DAYS = 90
#: The most addresses an account keeps as known; the least recently used go first.
KNOWN_ADDRESSES_PER_ACCOUNT = 10
#: A device cookie as Doorstep sets it: an id of URL-safe characters, a dot, a hex proof.
_DEVICE_COOKIE = re.compile(r"([A-Za-z0-9_-]{16,64})\.([0-9a-f]{64})", re.ASCII)


@dataclass(frozen=True, slots=True)
class Counter:
    """A source's recent attempts: how many, since when, and the last one."""

    hits: int
    window_start: datetime
    last_hit_at: datetime


@dataclass(frozen=True, slots=True)
class Window:
    """At most ``limit`` attempts per ``period`` from its first; the rest wait for the next."""

    limit: int
    period: timedelta

    @property
    def forget_after(self) -> timedelta:
        """How long after its last attempt a counter means nothing any more."""
        return self.period

    def admit(self, counter: Counter | None, now: datetime) -> Counter | timedelta:
        """The counter with this attempt taken, or how long the caller must wait."""
        if counter is None or now - counter.window_start >= self.period:
            return Counter(1, now, now)
        if counter.hits < self.limit:
            return Counter(counter.hits + 1, counter.window_start, now)
        return counter.window_start + self.period - now


@dataclass(frozen=True, slots=True)
class Backoff:
    """``free`` attempts, then each waits twice as long as the last, at most ``cap``."""

    free: int
    first_delay: timedelta
    cap: timedelta
    forget_after: timedelta

    def delay(self, hits: int) -> timedelta:
        """How long after the last of ``hits`` attempts the next one may come."""
        if hits < self.free:
            return timedelta(0)
        # Bounded before the power so a long attack cannot make the number enormous.
        doublings = min(hits - self.free, 32)
        return min(self.first_delay * (1 << doublings), self.cap)

    def admit(self, counter: Counter | None, now: datetime) -> Counter | timedelta:
        """The counter with this attempt taken, or how long the caller must wait."""
        if counter is None or now - counter.last_hit_at >= self.forget_after:
            return Counter(1, now, now)
        ready_at = counter.last_hit_at + self.delay(counter.hits)
        if now < ready_at:
            return ready_at - now
        return Counter(counter.hits + 1, counter.window_start, now)


Rule = Window | Backoff


@dataclass(frozen=True, slots=True)
class Limits:
    """Every throttle Doorstep applies; built once from the settings."""

    #: Failed sign-ins from one client address, or from one device that signed in before.
    sign_in_source: Window
    #: Failed sign-ins for one email from devices that never signed in to that account.
    sign_in_account: Backoff
    #: Sign-up attempts from one client address.
    sign_up_address: Window
    #: Pairing codes from one client address that did not work.
    pairing_address: Window
    #: Address searches from one client address (maps).
    place_search_address: Window


def source_key(secret: bytes, kind: str, value: str) -> str:
    """A keyed hash naming one throttled source: the table never holds the address or email."""
    message = f"{kind}\x00{value}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def device_proof(
    secret: bytes, device_id: str, account_id: str, password_changed_at: datetime
) -> str:
    """What a known-device cookie carries to show it signed in to ``account_id`` before.

    It names the time the password last changed: a cookie from before a change proves nothing.
    """
    changed = password_changed_at.astimezone(UTC).isoformat()
    return source_key(secret, "known-device", f"{device_id}\x00{account_id}\x00{changed}")


def parse_device_cookie(value: str) -> tuple[str, str] | None:
    """The device id and proof in a device cookie, or ``None`` for anything Doorstep never set."""
    match = _DEVICE_COOKIE.fullmatch(value)
    return (match.group(1), match.group(2)) if match else None


def known_address_key(secret: bytes, account_id: str, address: str) -> str:
    """The keyed hash under which ``address`` (a ``client_source``) is known to an account."""
    return source_key(secret, "known-address", f"{account_id}\x00{address}")


def client_source(host: str) -> str:
    """The throttled unit of a client address: the address, or an IPv6 client's /64."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/{IPV6_PREFIX}", strict=False))
    return str(address)


def wait_seconds(wait: timedelta) -> int:
    """A wait as the whole seconds of a Retry-After header (at least one)."""
    return max(1, int(wait.total_seconds() + 0.999))
