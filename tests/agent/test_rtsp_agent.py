"""The agent on a real RTSP camera: restarts, stalls and a wrong password lose no clip."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from doorstep.agent.options import AGENT_MOTION, AgentOptions
from doorstep.agent.runner import CameraAgent
from doorstep.agent.state import AgentState
from doorstep.media.source import Backoff
from tests.agent._rtsp import PASSWORD, RtspCamera, rtsp_camera
from tests.agent.conftest import Owner, wait_for

__all__ = ["rtsp_camera"]

QUICK_MOTION = replace(AGENT_MOTION, pre_roll_seconds=0.5, post_roll_seconds=1.0)
QUICK_BACKOFF = Backoff(first=0.2, factor=2.0, cap=1.0, jitter=0.5)


def _options(source: str, transport: str = "tcp") -> AgentOptions:
    return AgentOptions(
        source=source,
        rtsp_transport=transport,
        network_timeout=(5.0, 2.0),
        reconnect_backoff=QUICK_BACKOFF,
        motion=QUICK_MOTION,
    )


@contextmanager
def _running(agent: CameraAgent) -> Iterator[CameraAgent]:
    runner = threading.Thread(target=agent.run)
    runner.start()
    try:
        yield agent
    finally:
        agent.stop()
        runner.join(timeout=30)
        assert not runner.is_alive()


def _frames_flow(agent: CameraAgent, count: int = 10, timeout: float = 20.0) -> float:
    """Wait until ``count`` more frames came in; return how long the first of them took."""
    started, before = time.monotonic(), agent.frames
    wait_for(lambda: agent.frames > before, "frames from the camera", timeout)
    first = time.monotonic() - started
    wait_for(lambda: agent.frames >= before + count, "more frames from the camera", timeout)
    return first


def _motion(camera: RtspCamera, agent: CameraAgent) -> None:
    """Something moves in front of the camera for 1.5 s of its frames."""
    camera.send("motion")
    _frames_flow(agent, 15)


def test_a_camera_restarting_mid_clip_loses_no_clip(
    paired: AgentState, owner: Owner, state_dir: Path, rtsp_camera: RtspCamera
) -> None:
    agent = CameraAgent(state_dir, paired, _options(rtsp_camera.url()))
    with _running(agent):
        _frames_flow(agent)
        _motion(rtsp_camera, agent)
        rtsp_camera.stop()
        # The clip being recorded is spooled when the stream drops, not when it comes back.
        wait_for(lambda: agent.clips == 1, "the interrupted clip in the spool", 15)
        rtsp_camera.start()
        back = _frames_flow(agent)
        _frames_flow(agent, 10)
        _motion(rtsp_camera, agent)
        rtsp_camera.send("still")
        wait_for(lambda: agent.clips == 2, "the clip after the restart", 15)
        wait_for(lambda: len(owner.clips()) == 2, "both clips uploaded", 30)
        _frames_flow(agent, 20)
    print(f"restart: frames again {back:.2f} s after the camera listened; slept {agent.retries}")
    assert agent.failure is None
    assert agent.clips == 2
    assert len({clip["id"] for clip in owner.clips()}) == 2
    assert agent.retries, "the agent noticed the drop"
    assert list((state_dir / "spool" / "ready").iterdir()) == []


def test_a_stalled_camera_is_reconnected_over_udp(
    paired: AgentState, owner: Owner, state_dir: Path, rtsp_camera: RtspCamera
) -> None:
    agent = CameraAgent(state_dir, paired, _options(rtsp_camera.url(), "udp"))
    with _running(agent):
        _frames_flow(agent)
        _motion(rtsp_camera, agent)
        rtsp_camera.send("stall")
        wait_for(lambda: agent.clips == 1, "the stalled clip in the spool", 20)
        wait_for(lambda: len(agent.retries) >= 2, "a second reconnect attempt", 30)
        rtsp_camera.send("still")
        rtsp_camera.send("flow")
        back = _frames_flow(agent, 10, 30)
        wait_for(lambda: len(owner.clips()) == 1, "the clip uploaded", 30)
    print(f"stall: frames again {back:.2f} s after the camera flowed; slept {agent.retries}")
    assert agent.failure is None
    assert agent.clips == 1
    assert agent.connections >= 2


def test_a_wrong_password_is_logged_clearly_and_retried_with_growing_delays(
    paired: AgentState, state_dir: Path, rtsp_camera: RtspCamera, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "Wrong-horse-77"
    agent = CameraAgent(state_dir, paired, _options(rtsp_camera.url(password=wrong)))
    with _running(agent):
        wait_for(lambda: len(agent.retries) >= 5, "five attempts", 30)
    print(f"wrong password: slept {[round(delay, 3) for delay in agent.retries]}")
    ceilings = [0.2, 0.4, 0.8, 1.0, 1.0]
    for delay, ceiling in zip(agent.retries, ceilings, strict=False):
        assert ceiling / 2 <= delay <= ceiling
    refused = [r for r in caplog.records if "refused the user name or password (401)" in r.message]
    assert len(refused) >= 5
    assert all(r.levelno == logging.WARNING for r in refused)
    assert wrong not in caplog.text
    assert PASSWORD not in caplog.text
    assert agent.frames == 0
