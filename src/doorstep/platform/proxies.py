"""Which reverse proxies DOORSTEP_TRUSTED_PROXIES may name: their own, never the internet."""

from __future__ import annotations

import ipaddress

#: The widest network DOORSTEP_TRUSTED_PROXIES may name, by address family: a proxy's own
#: network, never a share of the internet whose every client could forward any address.
WIDEST_PROXY_PREFIX = {4: 8, 6: 32}
_IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


def check_proxy(entry: str) -> None:
    """Refuse a trusted-proxy entry that is no address, or trusts far more than a proxy."""
    where = f"DOORSTEP_TRUSTED_PROXIES: {entry!r}"
    if entry == "*":
        raise ValueError(
            f"{where} would believe X-Forwarded-For from anyone, so every client could choose "
            "its own address and escape the per-address limits; name the proxies' addresses"
        )
    try:
        network = ipaddress.ip_network(entry, strict=False)
    except ValueError as err:
        raise ValueError(
            f"{where} is not an IP address or network (e.g. 127.0.0.1 or 10.0.0.0/24)"
        ) from err
    prefix, family = network.prefixlen, network.version
    if isinstance(network, ipaddress.IPv6Network) and network.subnet_of(_IPV4_MAPPED):
        # IPv4 clients of a dual-stack listener appear as ::ffff:a.b.c.d.
        prefix, family = prefix - 96, 4
    if prefix < WIDEST_PROXY_PREFIX[family]:
        raise ValueError(
            f"{where} is wider than /{WIDEST_PROXY_PREFIX[family]} (IPv{family}): clients in it "
            "could choose their own address and escape the per-address limits; name the "
            "proxies' addresses or their own network"
        )
