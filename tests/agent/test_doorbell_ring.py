"""A press rings the server with a snapshot and records a ring clip; an idle agent is quiet."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from doorstep.agent.cli import main_agent
from doorstep.agent.options import AgentOptions
from doorstep.agent.runner import CameraAgent
from doorstep.agent.state import AgentState
from tests.agent.conftest import Owner, Server, free_port, start_server, wait_for


@pytest.fixture
def agent_for(state_dir: Path) -> Iterator[Any]:
    started: list[tuple[CameraAgent, threading.Thread]] = []

    def start(state: AgentState, options: AgentOptions) -> CameraAgent:
        agent = CameraAgent(state_dir, state, options)
        thread = threading.Thread(target=agent.run, daemon=True)
        thread.start()
        started.append((agent, thread))
        return agent

    yield start
    for agent, thread in started:
        agent.stop()
        thread.join(30)


def test_doorstep_agent_ring_rings_the_owner_with_a_snapshot_and_a_ring_clip(
    owner: Owner, paired: AgentState, state_dir: Path, footage: Path, agent_for: Any
) -> None:
    agent = agent_for(paired, AgentOptions(source=str(footage), loop=True, quick_replies=False))
    wait_for(lambda: agent.doorbell.slot.latest()[1] is not None, "the first frame")
    assert main_agent(["ring", "--state-dir", str(state_dir)]) == 0
    wait_for(lambda: agent.doorbell.rings, "the server to take the ring")
    ring_id, rang = agent.doorbell.rings[0]
    assert rang is True

    snapshot = owner.http.get(f"/api/v1/rings/{ring_id}/snapshot")
    assert snapshot.status_code == 200, snapshot.text
    assert snapshot.headers["content-type"] == "image/jpeg"
    assert snapshot.content[:2] == b"\xff\xd8"

    wait_for(
        lambda: any("ring" in clip["labels"] for clip in owner.clips()),
        "a clip labelled ring",
        timeout=60,
    )


class Counting:
    """ASGI middleware: counts device API requests by method and path."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.counts: Counter[str] = Counter()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/v1/devices/"):
            self.counts[f"{scope['method']} {scope['path']}"] += 1
        await self.app(scope, receive, send)


@pytest.fixture
def counted(tmp_path: Path) -> Iterator[tuple[Server, Counting]]:
    holder: list[Counting] = []

    def wrap(app: Any) -> Counting:
        holder.append(Counting(app))
        return holder[0]

    server = start_server(tmp_path / "data", free_port(), wrap=wrap)
    yield server, holder[0]
    if server.thread.is_alive():
        server.stop()


def test_an_idle_agent_makes_at_most_three_requests_a_minute(
    counted: tuple[Server, Counting], state_dir: Path, still_footage: Path, agent_for: Any
) -> None:
    server, counting = counted
    # The defaults: a 45 s long-poll and a heartbeat a minute, 2.3 requests a minute.
    defaults = AgentOptions(source="x")
    assert (defaults.live_wait_seconds, defaults.heartbeat_seconds) == (45.0, 60.0)
    # The window runs at five times that pace so the test takes 24 s instead of two minutes.
    scale = 5.0
    options = AgentOptions(
        source=str(still_footage),
        loop=True,
        quick_replies=False,
        live_wait_seconds=defaults.live_wait_seconds / scale,
        heartbeat_seconds=defaults.heartbeat_seconds / scale,
    )
    state = _pair(server)
    from doorstep.agent.state import save_state

    save_state(state_dir, state)
    agent_for(state, options)
    polls = "GET /api/v1/devices/live-sessions"
    wait_for(lambda: counting.counts[polls] >= 1, "the first long-poll")
    before = sum(counting.counts.values())
    window = 2 * 60.0 / scale  # two scaled minutes
    time.sleep(window)
    made = sum(counting.counts.values()) - before
    assert made <= 2 * 3, dict(counting.counts)
    assert counting.counts["GET /api/v1/devices/live"] == 0, "the 1 s live polling is back"
    assert counting.counts[polls] >= 2, "the long-poll is not running"


def _pair(server: Server) -> AgentState:
    from doorstep.agent.client import DeviceClient
    from tests.agent.conftest import PASSWORD

    with httpx.Client(base_url=server.url, timeout=30) as http:
        account = {"email": "ada@example.org", "password": PASSWORD, "display_name": "Ada"}
        assert http.post("/api/v1/accounts", json=account).status_code == 201
        session = http.post(
            "/api/v1/session", json={"email": account["email"], "password": PASSWORD}
        )
        csrf = session.json()["csrf_token"]
        camera = http.post(
            "/api/v1/cameras", json={"name": "Front door"}, headers={"x-csrf-token": csrf}
        )
        code = http.post(
            f"/api/v1/cameras/{camera.json()['id']}/pairing-code", headers={"x-csrf-token": csrf}
        ).json()["code"]
    with DeviceClient(server.url) as client:
        pairing = client.pair(code)
    return AgentState(server.url, pairing.camera_id, pairing.token)
