"""Live view: frames flow only while the owner watches, only to the owner, and stop after."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

from doorstep.agent.options import AgentOptions
from doorstep.agent.runner import CameraAgent
from doorstep.agent.state import AgentState
from doorstep.platform.bus.live import LiveHub
from tests.agent.conftest import Owner, Server, wait_for
from tests.factories import PASSWORD


def test_the_hub_keeps_frames_only_while_someone_watches() -> None:
    hub = LiveHub()
    assert not hub.publish("cam", b"\xff\xd8one")
    assert hub.latest("cam") is None
    hub.want("cam", seconds=60)
    assert hub.publish("cam", b"\xff\xd8two")
    assert hub.latest("cam") == (1, b"\xff\xd8two")
    hub.want("cam", seconds=-1)
    assert not hub.wanted("cam")
    assert hub.latest("cam") is None


def test_the_owner_watches_live_and_the_camera_stops_after(
    owner: Owner, paired: AgentState, state_dir: Path, footage: Path
) -> None:
    options = AgentOptions(source=str(footage), loop=True, realtime=True, live_poll_seconds=0.1)
    agent = CameraAgent(state_dir, paired, options)
    thread = threading.Thread(target=agent.run)
    thread.start()
    try:
        assert not agent.live_wanted.is_set()
        url = f"/api/v1/cameras/{owner.camera_id}/live"
        with owner.http.stream("GET", url) as stream:
            assert stream.headers["content-type"].startswith("multipart/x-mixed-replace")
            received = b""
            for chunk in stream.iter_bytes():
                received += chunk
                if b"\xff\xd9" in received:
                    break
        assert b"Content-Type: image/jpeg" in received
        assert b"\xff\xd8" in received
        assert agent.live_sent >= 1
        # The page closed: within a few seconds the camera hears nobody is watching.
        wait_for(lambda: not agent.live_wanted.is_set(), "live view to stop", timeout=15)
    finally:
        agent.stop()
        thread.join(60)


def test_nobody_but_the_owner_gets_live_view(live_server: Server, owner: Owner) -> None:
    with httpx.Client(base_url=live_server.url, timeout=10) as other:
        account = {"email": "eve@example.org", "password": PASSWORD, "display_name": "Eve"}
        other.post("/api/v1/accounts", json=account)
        other.post("/api/v1/session", json={"email": account["email"], "password": PASSWORD})
        assert other.get(f"/api/v1/cameras/{owner.camera_id}/live").status_code == 404
    with httpx.Client(base_url=live_server.url, timeout=10) as anonymous:
        assert anonymous.get(f"/api/v1/cameras/{owner.camera_id}/live").status_code == 401
