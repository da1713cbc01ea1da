"""Where a push may go: its endpoint, the addresses it may reach, the device's keys.

Pure like the rest of the room's rules: name resolution happens in the outbox, which asks these
whether each address it found may be connected to.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec

from doorstep.errors import InvalidInput

#: Push services' endpoints are a few hundred characters; anything far longer is not one.
MAX_ENDPOINT = 1024
P256DH_BYTES = 65
AUTH_BYTES = 16


Address = ipaddress.IPv4Address | ipaddress.IPv6Address
LOOPBACK_HOSTS = ("127.0.0.1", "::1")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A push endpoint taken apart: where to connect and what to ask for."""

    scheme: str
    host: str
    port: int
    target: str

    @property
    def origin(self) -> str:
        """The VAPID audience: the endpoint's origin."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return f"{self.scheme}://{host}" + ("" if self.port == default else f":{self.port}")


def parse_endpoint(url: str, *, allow_loopback: bool) -> Endpoint:
    """The endpoint, if it is one Doorstep may POST to; else InvalidInput saying why."""
    if len(url) > MAX_ENDPOINT:
        raise InvalidInput(
            f"a push endpoint is at most {MAX_ENDPOINT} characters", field="endpoint"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as err:
        raise InvalidInput("the push endpoint is not a URL", field="endpoint") from err
    host = (parts.hostname or "").lower()
    if parts.username is not None or parts.password is not None or not host:
        raise InvalidInput("the push endpoint must be a plain https URL", field="endpoint")
    loopback = allow_loopback and parts.scheme == "http" and host in LOOPBACK_HOSTS
    if parts.scheme != "https" and not loopback:
        raise InvalidInput("a push endpoint must be an https:// URL", field="endpoint")
    if not loopback:
        literal = address_of(host)
        if literal is not None and not is_public(literal):
            raise InvalidInput(
                "the push endpoint is a private or reserved address; Doorstep only sends "
                "pushes to public push services",
                field="endpoint",
            )
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Endpoint(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), target)


def address_of(host: str) -> Address | None:
    """The address a host names literally, or None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def is_public(address: Address) -> bool:
    """Whether an address is on the public internet: not loopback, private, link-local, CGNAT ..."""
    if isinstance(address, ipaddress.IPv6Address):
        # 6to4 (2002:7f00:1:: is 127.0.0.1 via a relay) and site-local fec0::/10 are not global.
        inner = address.ipv4_mapped or address.sixtofour
        if inner is not None or address.is_site_local:
            return inner is not None and is_public(inner)
    return address.is_global and not address.is_multicast and not address.is_reserved


def may_connect(endpoint: Endpoint, address: Address, *, allow_loopback: bool) -> bool:
    """Whether a resolved address of the endpoint may be connected to."""
    if allow_loopback and endpoint.scheme == "http":
        return endpoint.host in LOOPBACK_HOSTS and address.is_loopback
    return endpoint.scheme == "https" and is_public(address)


# --- the subscription's keys ---------------------------------------------------------------------


def b64url_decode(value: str) -> bytes:
    """Decode URL-safe base64 with or without padding; ValueError if it is not."""
    text = value.strip()
    if not text or len(text) > 200:
        raise ValueError("empty or too long")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as err:
        raise ValueError("not base64url") from err


def check_keys(p256dh: str, auth: str) -> None:
    """The browser's keys: a P-256 point on the curve and a 16-byte secret; else InvalidInput."""
    try:
        point = b64url_decode(p256dh)
        if len(point) != P256DH_BYTES or point[0] != 4:
            raise ValueError("not an uncompressed point")
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError as err:
        raise InvalidInput(
            "keys.p256dh must be the browser's P-256 public key: 65 bytes, uncompressed, "
            "base64url, a point on the curve",
            field="keys.p256dh",
        ) from err
    try:
        secret = b64url_decode(auth)
    except ValueError as err:
        raise InvalidInput("keys.auth must be base64url", field="keys.auth") from err
    if len(secret) != AUTH_BYTES:
        raise InvalidInput("keys.auth must be the browser's 16-byte secret", field="keys.auth")


def service_name(host: str) -> str:
    """The push service as its owner sees it: the endpoint's host."""
    return host[:255]
