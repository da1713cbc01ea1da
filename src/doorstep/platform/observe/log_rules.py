"""What a log line may say: request ids, truncated addresses, scrubbed fields (pure rules).

A log outlives the rows it speaks of. These rules keep out of it what would tie a request to a
person: addresses (unless the operator asks, and then only the /24 or /48 around them), emails,
credentials, and any field whose name says it holds a secret.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from collections.abc import Mapping
from typing import Any

#: An incoming X-Request-Id is kept only if it is a short token of these characters: no dots
#: (an address), no @ (an email), nothing a log reader's terminal would interpret.
_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
#: Fields whose name says they hold a secret or a person: their value never reaches a log.
SENSITIVE_KEYS = re.compile(
    r"pass(word|wd|phrase)?|token|secret|authorization|cookie|e?mail|api[_-]?key|credential"
    r"|session|csrf|user[_-]?agent|query|client|address|(?:^|[_-])ip(?:$|[_-])",
    re.IGNORECASE,
)
#: Fields Doorstep itself fills with what the policy allows (the truncated client network).
TRUSTED_KEYS = frozenset({"timestamp", "level", "logger", "network"})
REDACTED = "[redacted]"
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
#: An IPv6 address, and room for a ``:port`` after a full one (eight groups, no brackets).
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,8}[0-9A-Fa-f]{0,5}(?![\w:.])")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
#: ``user:password@`` after a scheme, up to the LAST @ before the host (a password may hold
#: one), and with an empty user (``redis://:password@``).
_URL_CREDENTIALS = re.compile(r"(?<=://)[^/\s?#]*@")
#: A query parameter whose name says it holds a secret (``?pwd=...``, ``X-Amz-Signature``).
_SECRET_PARAM = re.compile(
    r"(?i)([?&;](?:[\w.-]*?[_.-])?(?:pass|passwd|pwd|password|token|key|secret|auth|sig"
    r"|signature)=)[^&;\s#\"']*"
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[\w.~+/=-]+")
#: PostgreSQL repeats the offending row's values in an error's DETAIL (``Key (token_hash)=(...)
#: already exists``, ``Failing row contains (...)``), whatever the engine hides of the statement.
_DB_KEY_VALUES = re.compile(
    r"(Key \([^)\n]*\)=\().*?(\) (?:already exists|is not present|is still referenced|conflicts))"
)
_DB_FAILING_ROW = re.compile(r"(Failing row contains \().*(\))", re.MULTILINE)


def new_request_id() -> str:
    """A fresh request id: 16 random hex characters."""
    return secrets.token_hex(8)


def request_id(incoming: str | None, *, trusted: bool = True) -> str:
    """The id a request is logged under: the caller's, if trusted and a short safe token, else new.

    Only a trusted reverse proxy may name the id: from anyone else it would let a client pick
    the id its lines are filed under, or tie its requests together across a log.
    """
    if trusted and incoming is not None and _SAFE_ID.fullmatch(incoming):
        return incoming
    return new_request_id()


def is_trusted_peer(peer: str | None, proxies: list[str]) -> bool:
    """Whether ``peer``, the address that connected, is one of ``proxies`` or in their networks."""
    if not peer:
        return False
    try:
        ip = ipaddress.ip_address(peer.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for proxy in proxies:
        try:
            if ip in ipaddress.ip_network(proxy, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_network(address: str | None) -> str | None:
    """The client's network as abuse handling may log it: /24 for IPv4, /48 for IPv6."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def scrub_text(text: str) -> str:
    """``text`` with addresses, emails, URL credentials and bearer tokens replaced."""
    text = _URL_CREDENTIALS.sub(REDACTED + "@", text)
    text = _SECRET_PARAM.sub(r"\1" + REDACTED, text)
    text = _BEARER.sub(r"\1 " + REDACTED, text)
    text = _DB_KEY_VALUES.sub(r"\1" + REDACTED + r"\2", text)
    text = _DB_FAILING_ROW.sub(r"\1" + REDACTED + r"\2", text)
    text = _EMAIL.sub("[email]", text)
    text = _IPV4.sub(lambda m: "[address]" if _is_address(m.group()) else m.group(), text)
    return _IPV6.sub(_ipv6_or_as_was, text)


def _ipv6_or_as_was(match: re.Match[str]) -> str:
    text = match.group()
    if _is_address(text):
        return "[address]"
    address, _, port = text.rpartition(":")
    if port.isdigit() and _is_address(address):
        return f"[address]:{port}"
    return text


def _scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, Mapping):
        return scrub_fields(value)
    if isinstance(value, list | tuple):
        return [_scrub_value(item) for item in value]
    return value


def scrub_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` with secret-named keys redacted and every string value scrubbed."""
    scrubbed: dict[str, Any] = {}
    for key, value in fields.items():
        if key in TRUSTED_KEYS:
            scrubbed[key] = value
        elif key != "event" and SENSITIVE_KEYS.search(key):
            scrubbed[key] = REDACTED
        else:
            scrubbed[key] = _scrub_value(value)
    return scrubbed
