"""Where request traces may be sent: over TLS, unless the collector is on this machine (rules)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_collector(endpoint: str) -> None:
    """Refuse an OTLP endpoint that would carry spans in clear across a network.

    A span names a route and when it was asked for; over plain ``http://`` anyone on the path
    reads it. Plain HTTP is allowed only to a collector on loopback (a sidecar or local agent).
    """
    if not endpoint:
        return
    parts = urlsplit(endpoint)
    if parts.scheme == "http" and not _is_loopback(parts.hostname or ""):
        raise ValueError(
            f"DOORSTEP_OTEL_ENDPOINT {parts.scheme}://{parts.hostname}... would send traces in "
            "clear: use https://, or http:// only to a collector on this machine (127.0.0.1)"
        )
