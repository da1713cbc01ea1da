"""The agent end to end: a file becomes a clip the owner can play; settings apply live."""

from __future__ import annotations

import functools
import http.server
import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import pytest

from doorstep.agent.cli import main_agent
from doorstep.agent.client import DeviceClient
from doorstep.agent.options import AgentOptions
from doorstep.agent.runner import CameraAgent
from doorstep.agent.state import AgentState
from doorstep.media.source import Backoff
from doorstep.media.zones import Zone
from tests.agent.conftest import Owner, wait_for

HALF_TRIANGLE = [[[0.0, 0.0], [0.5, 0.0], [0.5, 0.5]]]
# Rows 0.3..0.7 of the frame: the band the square in the footage moves along.
MIDDLE_BAND = [[[0.0, 0.3], [1.0, 0.3], [1.0, 0.7], [0.0, 0.7]]]


def test_a_paired_agent_on_a_file_delivers_a_clip_the_owner_plays(
    paired: AgentState, owner: Owner, state_dir: Path, footage: Path
) -> None:
    status = main_agent(
        ["--state-dir", str(state_dir), "--source", str(footage), "--no-realtime", "--once"]
    )
    assert status == 0
    clips = owner.clips()
    assert len(clips) == 1
    assert clips[0]["camera_id"] == paired.camera_id
    assert clips[0]["duration_seconds"] >= 4.0
    assert 0 < clips[0]["peak_motion"] <= 1
    assert clips[0]["has_audio"] is False
    video = owner.http.get(clips[0]["video_url"])
    assert video.status_code == 200
    with av.open(io.BytesIO(video.content)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.codec_context.width, stream.codec_context.height) == (320, 240)
    assert owner.http.get(clips[0]["snapshot_url"]).content.startswith(b"\xff\xd8")
    assert owner.camera()["online"] is True
    assert list((state_dir / "spool" / "ready").iterdir()) == []


@pytest.mark.usefixtures("paired")
def test_motion_inside_a_privacy_zone_records_nothing(
    owner: Owner, state_dir: Path, footage: Path
) -> None:
    owner.change_camera(privacy_zones=MIDDLE_BAND)
    status = main_agent(
        ["--state-dir", str(state_dir), "--source", str(footage), "--no-realtime", "--once"]
    )
    assert status == 0
    assert owner.clips() == []


@pytest.mark.usefixtures("paired")
def test_motion_outside_the_motion_zones_records_nothing(
    owner: Owner, state_dir: Path, footage: Path
) -> None:
    owner.change_camera(motion_zones=[[[0.0, 0.0], [1.0, 0.0], [1.0, 0.2], [0.0, 0.2]]])
    status = main_agent(
        ["--state-dir", str(state_dir), "--source", str(footage), "--no-realtime", "--once"]
    )
    assert status == 0
    assert owner.clips() == []


def test_new_settings_apply_without_a_restart(
    paired: AgentState, owner: Owner, state_dir: Path, still_footage: Path
) -> None:
    agent = CameraAgent(
        state_dir,
        paired,
        AgentOptions(source=str(still_footage), loop=True, heartbeat_seconds=0.1),
    )
    runner = threading.Thread(target=agent.run)
    runner.start()
    wait_for(lambda: len(agent.opened) == 1, "the agent to open its source")
    owner.change_camera(privacy_zones=HALF_TRIANGLE, audio_enabled=True)
    wait_for(lambda: len(agent.opened) == 2, "the agent to reopen its source")
    agent.stop()
    runner.join(timeout=30)
    assert not runner.is_alive()
    first, second = agent.opened
    assert first.privacy_zones == ()
    assert first.audio is False
    assert second.privacy_zones == (Zone(((0.0, 0.0), (0.5, 0.0), (0.5, 0.5))),)
    assert second.audio is True
    assert second.version == owner.camera()["config_version"]
    assert agent.failure is None


def test_a_revoked_camera_stops_with_a_re_pair_message(
    paired: AgentState,
    owner: Owner,
    state_dir: Path,
    footage: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with DeviceClient(paired.server) as another_agent:
        another_agent.pair(owner.pairing_code())
    status = main_agent(
        ["--state-dir", str(state_dir), "--source", str(footage), "--no-realtime", "--once"]
    )
    assert status == 1
    assert "doorstep agent pair --server URL --code CODE" in capsys.readouterr().err


class _QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        del format, args


@pytest.fixture
def streamed(footage: Path) -> Iterator[str]:
    """The footage served over HTTP, a network camera whose stream ends after every play."""
    handler = functools.partial(_QuietFiles, directory=str(footage.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{footage.name}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_a_network_source_reconnects_when_its_stream_ends(
    paired: AgentState,
    owner: Owner,
    state_dir: Path,
    streamed: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Only the latest reconnect delays are kept: a flaky camera's months must not fill memory.
    monkeypatch.setattr(CameraAgent, "RETRIES_KEPT", 2, raising=False)
    agent = CameraAgent(
        state_dir,
        paired,
        AgentOptions(source=streamed, reconnect_backoff=Backoff(first=0.05, cap=0.2)),
    )
    runner = threading.Thread(target=agent.run)
    runner.start()
    wait_for(lambda: agent.connections >= 4, "the agent to reconnect")
    wait_for(lambda: len(owner.clips()) >= 1, "a clip from the network camera")
    agent.stop()
    runner.join(timeout=30)
    assert not runner.is_alive()
    assert agent.failure is None
    assert len(agent.opened) == 1
    assert len(agent.retries) == 2
