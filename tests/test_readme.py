"""The README: its configuration table names every setting; its relay command is safe to run."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest

from doorstep.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name: str) -> None:
    assert f"`DOORSTEP_{name.upper()}`" in README


def _relay_denies() -> tuple[set[str], list[tuple[int, int, int]]]:
    """The relay command's flags, and its denied peer ranges as (IP version, first, last)."""
    command = re.search(r"turnserver (.*?)\nDOORSTEP_TURN_URLS", README, re.S)
    assert command is not None
    flags = set(command.group(1).replace("\\\n", " ").split())
    ranges: list[tuple[int, int, int]] = []
    for flag in flags:
        if flag.startswith("--denied-peer-ip="):
            low, _, high = flag.removeprefix("--denied-peer-ip=").partition("-")
            first, last = ipaddress.ip_address(low), ipaddress.ip_address(high or low)
            ranges.append((first.version, int(first), int(last)))
    return flags, ranges


@pytest.mark.parametrize(
    "network",
    [
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
    ],
)
def test_the_relay_command_keeps_callers_out_of_the_operators_network(network: str) -> None:
    flags, ranges = _relay_denies()
    assert "--no-tcp-relay" in flags
    net = ipaddress.ip_network(network)
    assert any(
        version == net.version and low <= int(net[0]) and int(net[-1]) <= high
        for version, low, high in ranges
    )
