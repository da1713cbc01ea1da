"""NAT: doorbell and owner in two networks with no path between them; the call goes through TURN.

The call connects through the operator's TURN relay (coturn), and the relay sees only ciphertext.

See tests/doorbell/netlab.py for the lab. The first tests prove the lab with two plain aiortc peers:
no direct path exists, the call connects through the relay, and the relay's capture holds DTLS
application data and SRTP but neither the data channel's marker nor any media payload in clear.

The last two are the doorbell itself: the server in the root namespace hands out the relay's
credentials and carries the signalling, the real agent answers from its home on a rendered source,
and the owner calls from the other home, once as an aiortc peer using the live page's routes (so the
test can look for the payloads it decrypted in the capture) and once as the live page in Debian
chromium, driven by Playwright inside that home's namespace.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
import uvicorn

from doorstep.agent.client import DeviceClient
from doorstep.agent.state import AgentState, save_state
from doorstep.app import create_app
from doorstep.settings import Environment, Settings
from tests.conftest import service_missing
from tests.doorbell.lab_peer import HEIGHT, WIDTH, bars_frame
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


# The final shape: the real server, the real agent in one home, the owner's side in the other.

PASSWORD = "lantern-porch-9"


@dataclass
class NatServer:
    """Doorstep in the root namespace, reachable from both homes, handing out the lab's relay."""

    port: int
    owner_email: str
    camera_id: str
    agent_state: Path

    def url_for(self, home: Home) -> str:
        """The server as ``home`` reaches it."""
        return f"http://{home.server_host}:{self.port}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("0.0.0.0", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def nat_server(lab: Lab, tmp_path: Path) -> Iterator[NatServer]:
    port = _free_port()
    settings = Settings(
        env=Environment.TEST,
        data_dir=tmp_path / "data",
        host="0.0.0.0",
        port=port,
        turn_urls=lab.turn_url,
        turn_secret=lab.turn_secret,
    )
    config = uvicorn.Config(create_app(settings), host="0.0.0.0", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "the server failed to start"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield _owner_with_camera(port, lab, tmp_path / "agent")
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def _owner_with_camera(port: int, lab: Lab, state_dir: Path) -> NatServer:
    """Ada with a camera, paired; the agent's state names the server as the agent's home sees it."""
    email = "ada@example.org"
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        account = {"email": email, "password": PASSWORD, "display_name": "Ada"}
        assert http.post("/api/v1/accounts", json=account).status_code == 201
        session = http.post("/api/v1/session", json={"email": email, "password": PASSWORD})
        headers = {"x-csrf-token": session.json()["csrf_token"]}
        camera = http.post("/api/v1/cameras", json={"name": "Front door"}, headers=headers)
        camera_id: str = camera.json()["id"]
        code = http.post(f"/api/v1/cameras/{camera_id}/pairing-code", headers=headers)
    server_url = f"http://{lab.agent.server_host}:{port}"
    with DeviceClient(server_url) as client:
        pairing = client.pair(code.json()["code"])
    save_state(state_dir, AgentState(server_url, pairing.camera_id, pairing.token))
    return NatServer(port, email, camera_id, state_dir)


def _bars_video(path: Path) -> Path:
    """The doorbell's rendered source: 4 s of the colour bars the owner's side looks for."""
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for index in range(40):
            frame = av.VideoFrame.from_ndarray(bars_frame(), format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def call_the_doorbell(
    lab: Lab, server: NatServer, folder: Path, owner_side: str
) -> tuple[dict[str, Any], str]:
    """The real agent in its home; ``owner_side`` (a module) calls it from the other home.

    Returns what the owner's side recorded, and the marker it sent on the data channel.
    """
    source = _bars_video(folder / "bars.mp4")
    agent_command = [sys.executable, "-m", "doorstep.cli", "agent"]
    agent_command += ["--state-dir", str(server.agent_state), "--source", str(source)]
    agent_command += ["--loop", "--speaker", f"file:{folder / 'speaker.wav'}"]
    marker = f"doorstep-marker-{uuid.uuid4().hex}"
    record = folder / "owner.json"
    owner_command = [sys.executable, "-m", owner_side, "--server", server.url_for(lab.browser)]
    owner_command += ["--email", server.owner_email, "--password", PASSWORD]
    owner_command += ["--camera", server.camera_id, "--marker", marker, "--record", str(record)]
    with (
        (folder / "agent.log").open("w") as agent_log,
        started(
            ["ip", "netns", "exec", lab.agent.namespace, *agent_command],
            env=_environment(),
            cwd=ROOT,
            stdout=agent_log,
            stderr=subprocess.STDOUT,
        ),
    ):
        owner = subprocess.run(
            ["ip", "netns", "exec", lab.browser.namespace, *owner_command],
            env=_environment(),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert owner.returncode == 0, owner.stderr[-3000:]
    result: dict[str, Any] = json.loads(record.read_text())
    # The marker crossed: the agent names the quick reply it was asked for and does not have.
    assert marker in (folder / "agent.log").read_text()
    return result, marker


def assert_relayed_call(lab: Lab, result: dict[str, Any]) -> None:
    """The owner's side got the lab's relay from the server and the call went through it."""
    assert result["turn_urls"] == [[lab.turn_url]]
    assert result["connected"], result
    assert "relay" in result["pair"], result["pair"]
    assert result["hello"].get("type") == "hello"  # the agent's greeting on the data channel
    assert result["marker_sent"]
    assert result["hung_up"]


def assert_only_ciphertext(lab: Lab, marker: str) -> None:
    """The relay carried DTLS application data and SRTP, and the marker never in clear."""
    raw = lab.stop_capture()
    assert marker.encode() not in raw
    view = read_relay(lab.capture)
    assert view.unknown == []
    assert view.dtls_application_records > 0
    assert view.srtp > 0


def test_the_agent_answers_across_the_nat_through_turn_and_the_relay_sees_only_ciphertext(
    lab: Lab, nat_server: NatServer, tmp_path: Path
) -> None:
    result, marker = call_the_doorbell(lab, nat_server, tmp_path, "tests.doorbell.owner_peer")

    assert_relayed_call(lab, result)
    assert result["answered"]
    assert result["bars"] >= 15  # the agent's rendered source, frame by frame
    assert_only_ciphertext(lab, marker)
    # What the owner's side received, decrypted: its clear RTP headers crossed the relay, its
    # payloads never did in clear, nor did the owner's own voice.
    received = [bytes.fromhex(packet) for packet in result["received"]]
    talk = [bytes.fromhex(packet) for packet in result["sent"]]
    assert len(received) > 20
    assert headers_seen(lab.capture, received) > len(received) // 2
    assert leaked_payloads(lab.capture, received + talk) == []


def test_chromium_answers_across_the_nat_through_turn_and_the_relay_sees_only_ciphertext(
    lab: Lab, nat_server: NatServer, tmp_path: Path
) -> None:
    if shutil.which("chromium") is None:
        service_missing("Debian chromium (the NAT test's browser)")
    result, marker = call_the_doorbell(lab, nat_server, tmp_path, "tests.doorbell.owner_browser")

    assert_relayed_call(lab, result)
    assert result["bars"] >= 10  # the live page's <video> shows the agent's colour bars
    assert result["frames"] > 0
    assert_only_ciphertext(lab, marker)
