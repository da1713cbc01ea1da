"""NAT: doorbell and owner in two networks with no path between them; the call goes through TURN.

The call connects through the operator's TURN relay (coturn), and the relay sees only ciphertext.

See tests/doorbell/netlab.py for the lab. The first tests prove the lab with two plain aiortc peers:
no direct path exists, the call connects through the relay, and the relay's capture holds DTLS
application data and SRTP but neither the data channel's marker nor any media payload in clear.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.doorbell.netlab import Home, Lab, nat_lab, started
from tests.doorbell.relaycap import headers_seen, leaked_payloads, read_relay

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    with nat_lab(tmp_path) as running:
        yield running


def _environment() -> dict[str, str]:
    return os.environ | {"PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'src'}"}


def _peer(home: Home, role: str, record: Path, options: list[str]) -> list[str]:
    module = ["-m", "tests.doorbell.lab_peer", "--role", role, "--record", str(record)]
    return ["ip", "netns", "exec", home.namespace, sys.executable, *module, *options]


def _line(process: subprocess.Popen[str]) -> dict[str, Any]:
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line, f"peer exited with {process.wait(timeout=10)} before it answered"
    message: dict[str, Any] = json.loads(line)
    return message


def _say(process: subprocess.Popen[str], message: dict[str, Any]) -> None:
    assert process.stdin is not None
    process.stdin.write(json.dumps(message) + "\n")
    process.stdin.flush()


def plain_call(
    lab: Lab, folder: Path, marker: str, turn: bool, timeout: float = 20.0
) -> tuple[dict[str, Any], ...]:
    """Two plain aiortc peers call each other across the lab; their records, browser first."""
    options = ["--marker", marker, "--timeout", str(timeout)]
    if turn:
        username, credential = lab.turn_credentials()
        options += ["--turn-url", lab.turn_url, "--username", username]
        options += ["--credential", credential]
    records = folder / "browser.json", folder / "agent.json"
    pipes: dict[str, Any] = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE}
    pipes |= {"env": _environment(), "cwd": ROOT}
    with (
        started(_peer(lab.browser, "browser", records[0], options), **pipes) as browser,
        started(_peer(lab.agent, "agent", records[1], options), **pipes) as agent,
    ):
        _say(agent, _line(browser))  # the offer
        _say(browser, _line(agent))  # the answer
        assert _line(browser) == {"done": True}
        _say(agent, {"hang_up": True})
        assert _line(agent) == {"done": True}
    return tuple(json.loads(record.read_text()) for record in records)


def _routes_to(home: Home, address: str) -> bool:
    return home.run("ip", "route", "get", address).returncode == 0


def test_the_homes_have_no_path_to_each_other_but_the_relay(lab: Lab) -> None:
    for here, there in ((lab.agent, lab.browser), (lab.browser, lab.agent)):
        for address in (there.address, there.relay_link, there.server_host):
            assert not _routes_to(here, address), f"{here.namespace} reaches {address}"
        assert _routes_to(here, lab.relay_ip)
        assert _routes_to(here, here.server_host)


def test_without_the_relay_the_call_cannot_connect(lab: Lab, tmp_path: Path) -> None:
    browser, agent = plain_call(lab, tmp_path, f"doorstep-marker-{uuid.uuid4().hex}", False, 8.0)
    assert not browser["connected"]
    assert not agent["connected"]
    assert not browser["acked"]
    assert browser["bars"] == 0


def test_the_call_goes_through_the_relay_and_the_relay_sees_only_ciphertext(
    lab: Lab, tmp_path: Path
) -> None:
    marker = f"doorstep-marker-{uuid.uuid4().hex}"
    browser, agent = plain_call(lab, tmp_path, marker, turn=True)

    assert browser["connected"]
    assert agent["connected"]
    assert browser["acked"]
    assert browser["bars"] >= 15  # the agent's colour bars arrived, frame by frame
    assert agent["heard"] == 1
    assert "relay" in browser["pair"], browser["pair"]
    assert "relay" in agent["pair"], agent["pair"]

    raw = lab.stop_capture()
    assert marker.encode() not in raw
    view = read_relay(lab.capture)
    assert view.turn_wrapped > 0
    assert view.unknown == []
    assert view.dtls_application_records > 0  # the data channel crossed the relay, encrypted
    assert view.srtp > 0
    media = [bytes.fromhex(packet) for packet in browser["sent"] + agent["sent"]]
    received = [bytes.fromhex(packet) for packet in browser["received"]]
    assert len(media) > 50
    assert len(received) > 20
    # The very packets the peers sent crossed the relay (their clear RTP headers are in the
    # capture), and not one payload, sent or as received, is there in clear.
    assert headers_seen(lab.capture, media) > len(media) // 2
    assert leaked_payloads(lab.capture, media + received) == []
